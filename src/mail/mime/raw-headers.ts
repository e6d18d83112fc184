/**
 * Byte-level helpers for messages that mailparser reads badly or not at all: split the header
 * section from the body, unfold header fields, repair 8-bit header bytes that are not UTF-8, and
 * list the media types and charsets a message declares.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-2.2 (header fields, folding)
 * @see https://www.rfc-editor.org/rfc/rfc6532#section-3.2 (UTF-8 in header fields)
 * @see https://www.rfc-editor.org/rfc/rfc2045#section-5 (Content-Type and its charset parameter)
 */

/** The header section and where the body starts. */
export interface HeaderSplit {
  readonly header: Buffer;
  /** Offset of the first body byte (after the empty line), or the length when there is no body. */
  readonly bodyStart: number;
}

/** Splits at the first empty line (CRLF CRLF, or bare LF LF from sloppy software). */
export function splitHeader(raw: Buffer): HeaderSplit {
  const crlf = raw.indexOf('\r\n\r\n');
  // A bare LF LF only matters before the first CRLF CRLF: searched there only, not through the body.
  const lf = (crlf === -1 ? raw : raw.subarray(0, crlf + 1)).indexOf('\n\n');
  if (crlf === -1 && lf === -1) return { header: raw, bodyStart: raw.length };
  if (lf === -1 || (crlf !== -1 && crlf < lf)) return { header: raw.subarray(0, crlf + 2), bodyStart: crlf + 4 };
  return { header: raw.subarray(0, lf + 1), bodyStart: lf + 2 };
}

/**
 * Header fields by lower-case name, unfolded, in order. Lines without a colon are skipped.
 * Values are decoded as UTF-8, or as Windows-1252 where a line is not valid UTF-8.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-2.2.3 (unfolding)
 */
export function readHeaderFields(header: Buffer): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  const text = decodeLines(header);
  const unfolded = text.replace(/\r?\n(?=[ \t])/g, '');
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue;
    // Appended in place: copying the list for each field made 12,000 Received lines take seconds.
    const values = fields.get(name);
    if (values === undefined) fields.set(name, [line.slice(colon + 1).trim()]);
    else values.push(line.slice(colon + 1).trim());
  }
  return fields;
}

/** True when every byte sequence is valid UTF-8 (ASCII included). */
export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * When the top-level header section holds 8-bit bytes that are not UTF-8 (Latin-1 written by old
 * software), returns a copy of the message whose header is re-encoded as UTF-8, line by line, so
 * that the parser does not turn every such character into U+FFFD. The body is untouched. Returns
 * undefined when nothing needs repair.
 */
export function repairEightBitHeader(raw: Buffer): Buffer | undefined {
  const { header, bodyStart } = splitHeader(raw);
  if (isValidUtf8(header)) return undefined;
  const repaired = Buffer.from(decodeLines(header), 'utf8');
  const separator = raw.subarray(header.length, bodyStart);
  return Buffer.concat([repaired, separator, raw.subarray(bodyStart)]);
}

/** One Content-Type as declared: its media type and charset, lower-case. */
export interface DeclaredType {
  readonly mediaType: string;
  readonly charset: string | null;
}

/**
 * Every Content-Type header of the message, nested parts included, found by scanning the bytes.
 * Cheap and independent of the parser, so it still works on structures the parser rejects. The
 * bytes are scanned in place: only the fields found become strings (a whole-message string was a
 * second copy of a 150 MB message on the heap, and a regular expression over it). The scan jumps
 * from colon to colon with the native `indexOf` and looks back from each for a `Content-Type`
 * name at the start of its line; base64, most of a message's bytes, has no colon, so nearly all of
 * it is passed over at memchr speed instead of a JavaScript loop over every byte.
 */
export function declaredTypes(raw: Buffer): DeclaredType[] {
  const types: DeclaredType[] = [];
  for (let colon = raw.indexOf(COLON); colon !== -1; colon = raw.indexOf(COLON, colon + 1)) {
    const start = fieldLineStart(raw, colon);
    if (start === undefined) continue;
    const field = contentTypeField(raw, start);
    if (field === undefined) continue;
    const value = field.replace(/\r?\n[ \t]/g, ' ');
    const mediaType = value.split(';')[0]?.trim().toLowerCase() ?? '';
    if (mediaType === '') continue;
    const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(value)?.[1]?.toLowerCase() ?? null;
    types.push({ mediaType, charset });
  }
  return types;
}

const CONTENT_TYPE = Buffer.from('content-type', 'latin1');
const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const HYPHEN = 0x2d;
const COLON = 0x3a;

/**
 * Where a `Content-Type` name would start if the colon at `colon` ended it (spaces and tabs
 * between name and colon allowed), when that place is the start of a line (after a CR or an LF,
 * or the first byte); otherwise undefined. Each run of blanks is walked back over at most once
 * (the walk stops at the colon before it), so the whole scan stays linear.
 */
function fieldLineStart(raw: Buffer, colon: number): number | undefined {
  let at = colon;
  while (at > 0 && (raw[at - 1] === SPACE || raw[at - 1] === TAB)) at -= 1;
  const start = at - CONTENT_TYPE.length;
  if (start < 0) return undefined;
  if (start > 0 && raw[start - 1] !== CR && raw[start - 1] !== LF) return undefined;
  return start;
}

/** The end of the line at `start`: its CR or LF, or the end. */
function lineEnd(raw: Buffer, start: number): number {
  for (let at = start; at < raw.length; at += 1) if (raw[at] === LF || raw[at] === CR) return at;
  return raw.length;
}

/**
 * The value of a `Content-Type:` field at line start `start` (its continuation lines included,
 * with their line breaks, as Latin-1), or undefined when the line is not one.
 */
function contentTypeField(raw: Buffer, start: number): string | undefined {
  if (start + CONTENT_TYPE.length > raw.length) return undefined;
  for (let i = 0; i < CONTENT_TYPE.length; i += 1) {
    const byte = raw[start + i] ?? 0;
    const wanted = CONTENT_TYPE[i];
    // A letter in either case (setting the 0x20 bit lower-cases an ASCII letter); '-' exactly.
    if (wanted === HYPHEN ? byte !== HYPHEN : (byte | 0x20) !== wanted) return undefined;
  }
  let at = start + CONTENT_TYPE.length;
  while (raw[at] === SPACE || raw[at] === TAB) at += 1;
  if (raw[at] !== COLON) return undefined;
  at += 1;
  while (raw[at] === SPACE || raw[at] === TAB) at += 1;
  let end = lineEnd(raw, at);
  for (;;) {
    const next = raw[end] === CR && raw[end + 1] === LF ? end + 2 : raw[end] === LF ? end + 1 : -1;
    if (next === -1 || (raw[next] !== SPACE && raw[next] !== TAB)) break;
    end = lineEnd(raw, next);
  }
  return raw.toString('latin1', at, end);
}

/** True when Node's decoders (WHATWG encodings) know the charset label. */
export function isKnownCharset(label: string): boolean {
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
}

function decodeLines(header: Buffer): string {
  if (isValidUtf8(header)) return header.toString('utf8');
  const lines: string[] = [];
  let start = 0;
  while (start <= header.length) {
    const end = header.indexOf(0x0a, start);
    const stop = end === -1 ? header.length : end + 1;
    const line = header.subarray(start, stop);
    lines.push(isValidUtf8(line) ? line.toString('utf8') : new TextDecoder('windows-1252').decode(line));
    if (end === -1) break;
    start = stop;
  }
  return lines.join('');
}
