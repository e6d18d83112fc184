/**
 * RFC 5322 address lists as a mail server reads them: display names, angle addresses, bare
 * addresses, comments and groups. Encoded words are left encoded (IMAP's ENVELOPE returns them as
 * sent). Lenient: what cannot be parsed becomes an address with the raw text as its local part.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.4
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-7.4.2 (ENVELOPE address structure, groups)
 */

/** One mailbox, or a group start (`groupStart`) / end (`groupEnd`) marker as ENVELOPE encodes groups. */
export interface ParsedAddress {
  readonly name: string | null;
  readonly mailbox: string | null;
  readonly host: string | null;
  readonly groupStart?: boolean;
  readonly groupEnd?: boolean;
}

/** Parses a header value such as `"Ann" <ann@x>, bob@y, team: c@z;`. */
export function parseAddressList(input: string): ParsedAddress[] {
  const out: ParsedAddress[] = [];
  for (const item of splitTopLevel(input, ',')) {
    const groupColon = findGroupColon(item);
    if (groupColon !== -1) {
      const groupName = cleanPhrase(item.slice(0, groupColon));
      let members = item.slice(groupColon + 1).trim();
      if (members.endsWith(';')) members = members.slice(0, -1);
      out.push({ name: null, mailbox: groupName, host: null, groupStart: true });
      for (const member of splitTopLevel(members, ',')) {
        const parsed = parseMailbox(member);
        if (parsed) out.push(parsed);
      }
      out.push({ name: null, mailbox: null, host: null, groupEnd: true });
      continue;
    }
    const parsed = parseMailbox(item);
    if (parsed) out.push(parsed);
  }
  return out;
}

/** The plain `local@domain` addresses of a header value, lower-cased, groups flattened. */
export function extractAddresses(input: string): string[] {
  const out: string[] = [];
  for (const a of parseAddressList(input)) {
    if (a.groupStart || a.groupEnd || a.mailbox === null) continue;
    out.push((a.host === null ? a.mailbox : `${a.mailbox}@${a.host}`).toLowerCase());
  }
  return out;
}

function parseMailbox(input: string): ParsedAddress | undefined {
  const text = input.trim();
  if (text === '') return undefined;
  const lt = lastIndexOutsideQuotes(text, '<');
  if (lt !== -1) {
    const gt = text.indexOf('>', lt);
    const spec = text.slice(lt + 1, gt === -1 ? undefined : gt).trim();
    const phrase = cleanPhrase(text.slice(0, lt));
    return { name: phrase === '' ? null : phrase, ...splitSpec(stripRoute(spec)) };
  }
  const { rest, comment } = extractComment(text);
  return { name: comment, ...splitSpec(rest.trim()) };
}

function splitSpec(spec: string): { mailbox: string | null; host: string | null } {
  if (spec === '') return { mailbox: null, host: null };
  const at = spec.lastIndexOf('@');
  if (at === -1) return { mailbox: spec, host: null };
  return { mailbox: spec.slice(0, at), host: spec.slice(at + 1) };
}

function stripRoute(spec: string): string {
  // Obsolete source routes `@a,@b:user@host` (RFC 5322 §4.4) keep only the address.
  const colon = spec.indexOf(':');
  return spec.startsWith('@') && colon !== -1 ? spec.slice(colon + 1) : spec;
}

function cleanPhrase(phrase: string): string {
  let text = phrase.trim();
  if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) {
    text = text.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return text.replace(/\s+/g, ' ');
}

function extractComment(text: string): { rest: string; comment: string | null } {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open === -1 || close < open) return { rest: text, comment: null };
  const comment = text.slice(open + 1, close).trim();
  return { rest: text.slice(0, open) + text.slice(close + 1), comment: comment === '' ? null : comment };
}

function findGroupColon(item: string): number {
  let quoted = false;
  let angle = false;
  for (let i = 0; i < item.length; i += 1) {
    const ch = item[i];
    if (ch === '\\') {
      i += 1;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') angle = true;
    else if (!quoted && ch === '>') angle = false;
    else if (!quoted && !angle && ch === ':') return i;
    else if (!quoted && !angle && ch === '@') return -1;
  }
  return -1;
}

function lastIndexOutsideQuotes(text: string, needle: string): number {
  let quoted = false;
  let found = -1;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (ch === '\\') {
      i += 1;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === needle) found = i;
  }
  return found;
}

/** Splits on a separator outside quotes, angle brackets, comments and (for commas) groups. */
function splitTopLevel(input: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  let comment = 0;
  let inGroup = false;
  for (let i = 0; i < input.length; i += 1) {
    const ch = input.charAt(i);
    if (ch === '\\' && i + 1 < input.length) {
      current += ch + input.charAt(i + 1);
      i += 1;
      continue;
    }
    if (ch === '"' && comment === 0) quoted = !quoted;
    else if (!quoted && ch === '(') comment += 1;
    else if (!quoted && ch === ')' && comment > 0) comment -= 1;
    else if (!quoted && comment === 0 && ch === '<') angle += 1;
    else if (!quoted && comment === 0 && ch === '>' && angle > 0) angle -= 1;
    else if (!quoted && comment === 0 && angle === 0 && ch === ':' && separator === ',') inGroup = true;
    else if (!quoted && comment === 0 && angle === 0 && ch === ';' && separator === ',') inGroup = false;
    if (ch === separator && !quoted && angle === 0 && comment === 0 && !inGroup) {
      if (current.trim() !== '') out.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  if (current.trim() !== '') out.push(current);
  return out;
}
