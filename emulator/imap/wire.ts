/**
 * Writing IMAP data items: quoted strings when the value allows, literals otherwise; NIL; lists.
 * Responses are built as arrays of parts (text and raw octets), so message bodies are never
 * copied into strings.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-4.3 (strings)
 */

export type WirePart = string | Buffer;

const SAFE_QUOTED = /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/;

/** A string as a quoted string, or as a literal when it holds CR, LF, NUL or 8-bit octets. */
export function imapString(value: string | Buffer): WirePart[] {
  const text = typeof value === 'string' ? value : value.toString('latin1');
  if (text.length <= 1024 && SAFE_QUOTED.test(text)) return [`"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`];
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return [`{${bytes.length}}\r\n`, bytes];
}

/** An nstring: NIL for null/undefined. */
export function imapNString(value: string | Buffer | null | undefined): WirePart[] {
  return value === null || value === undefined ? ['NIL'] : imapString(value);
}

/** A literal of raw octets. */
export function imapLiteral(bytes: Buffer): WirePart[] {
  return [`{${bytes.length}}\r\n`, bytes];
}

/** Joins items with single spaces, each item already a list of parts. */
export function joinParts(items: ReadonlyArray<readonly WirePart[]>, separator = ' '): WirePart[] {
  const out: WirePart[] = [];
  items.forEach((item, index) => {
    if (index > 0) out.push(separator);
    out.push(...item);
  });
  return out;
}

/** Wraps parts in parentheses. */
export function parenthesize(parts: readonly WirePart[]): WirePart[] {
  return ['(', ...parts, ')'];
}

/** An astring for a mailbox name: an atom when possible, else a quoted string (Exchange's LIST style). */
export function mailboxAstring(name: string): string {
  if (/^[\x21-\x7e]+$/.test(name) && !/[(){%*"\\\]]/.test(name)) return name;
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
