/**
 * The MIME structure of a stored message, as IMAP needs it: every part's header and body located
 * by byte offsets into the raw message, so that `BODY[1.2.MIME]`, `BODY[TEXT]` and partial fetches
 * are slices of the original octets, and `BODYSTRUCTURE` sizes and line counts are the encoded ones.
 *
 * Parsing is lenient, as a mail store's must be: a missing blank line, an unterminated multipart
 * or bare LF line ends never throw; the structure degrades to what can be recognised.
 *
 * @see https://www.rfc-editor.org/rfc/rfc2045 (MIME header fields)
 * @see https://www.rfc-editor.org/rfc/rfc2046#section-5.1.1 (multipart boundaries)
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.4.5 (section specifiers this serves)
 */

/** One header field, unfolded, with its name lower-cased for lookup. */
export interface HeaderField {
  readonly key: string;
  readonly name: string;
  readonly value: string;
}

/** A `Content-Type` or `Content-Disposition` value split into its token and parameters. */
export interface ParameterizedValue {
  readonly value: string;
  readonly params: ReadonlyArray<readonly [string, string]>;
}

/** One node of the MIME tree. Offsets are into the raw message of the root. */
export interface MimePart {
  readonly headerStart: number;
  /** Where the body starts: the header block `[headerStart, bodyStart)` includes the blank line. */
  readonly bodyStart: number;
  readonly bodyEnd: number;
  readonly headers: readonly HeaderField[];
  /** Lower-case media type and subtype, `text`/`plain` when absent (RFC 2045 §5.2). */
  readonly type: string;
  readonly subtype: string;
  readonly contentType: ParameterizedValue;
  readonly children: readonly MimePart[];
  /** The encapsulated message of a `message/rfc822` part. */
  readonly message?: MimePart;
  /** Number of lines of the encoded body. */
  readonly lines: number;
}

const CR = 0x0d;
const LF = 0x0a;
const MAX_DEPTH = 32;

/**
 * Parses the MIME tree of a raw RFC 5322 message.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-2.1 (header / body split)
 */
export function parseMimeStructure(raw: Buffer): MimePart {
  return parseEntity(raw, 0, raw.length, 'text/plain', 0);
}

/** Finds the first header field with this (case-insensitive) name. */
export function findHeader(part: MimePart, name: string): string | undefined {
  const key = name.toLowerCase();
  return part.headers.find((field) => field.key === key)?.value;
}

/** Parses a header value of the form `token; a=b; c="d"` (RFC 2045 §5.1, with RFC 2231 folding ignored). */
export function parseParameterizedValue(input: string): ParameterizedValue {
  const segments = splitOutsideQuotes(input, ';');
  const value = (segments.shift() ?? '').trim().toLowerCase();
  const params: Array<readonly [string, string]> = [];
  for (const segment of segments) {
    const eq = segment.indexOf('=');
    if (eq <= 0) continue;
    const name = segment.slice(0, eq).trim().toLowerCase();
    let paramValue = segment.slice(eq + 1).trim();
    if (paramValue.startsWith('"') && paramValue.endsWith('"') && paramValue.length >= 2) {
      paramValue = paramValue.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    if (name !== '') params.push([name, paramValue]);
  }
  return { value, params };
}

/** Returns a parameter's value. */
export function paramValue(value: ParameterizedValue, name: string): string | undefined {
  return value.params.find(([key]) => key === name)?.[1];
}

/** Splits the header block `[start, end)` into unfolded fields. */
export function parseHeaderBlock(raw: Buffer, start: number, end: number): HeaderField[] {
  const text = raw.toString('latin1', start, end);
  const fields: HeaderField[] = [];
  let current: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && current !== undefined) {
      current += ` ${line.trim()}`;
      continue;
    }
    if (current !== undefined) pushField(fields, current);
    current = line;
  }
  if (current !== undefined) pushField(fields, current);
  return fields;
}

function pushField(fields: HeaderField[], line: string): void {
  const colon = line.indexOf(':');
  if (colon <= 0) return;
  const name = line.slice(0, colon).trim();
  // Header octets are kept as they came (latin1 round-trips bytes); UTF-8 is restored for display.
  const rawValue = line.slice(colon + 1).trim();
  const value = /[\x80-\xff]/.test(rawValue) ? Buffer.from(rawValue, 'latin1').toString('utf8') : rawValue;
  fields.push({ key: name.toLowerCase(), name, value });
}

function parseEntity(raw: Buffer, start: number, end: number, defaultType: string, depth: number): MimePart {
  const bodyStart = findBodyStart(raw, start, end);
  const headers = parseHeaderBlock(raw, start, bodyStart);
  const typeHeader = headers.find((field) => field.key === 'content-type')?.value;
  // An absent Content-Type means text/plain; charset=us-ascii (RFC 2045 §5.2).
  const contentType = parseParameterizedValue(
    typeHeader ?? (defaultType === 'text/plain' ? 'text/plain; charset=us-ascii' : defaultType),
  );
  const [declaredType = '', declaredSubtype = ''] = contentType.value.split('/');
  const [defaultMain = 'text', defaultSub = 'plain'] = defaultType.split('/');
  const valid = declaredType !== '' && declaredSubtype !== '';
  const type = valid ? declaredType : defaultMain;
  const subtype = valid ? declaredSubtype : defaultSub;
  const base = { headerStart: start, bodyStart, bodyEnd: end, headers, contentType, type, subtype };
  const boundary = paramValue(contentType, 'boundary');
  if (type === 'multipart' && boundary !== undefined && boundary !== '' && depth < MAX_DEPTH) {
    const childDefault = subtype === 'digest' ? 'message/rfc822' : 'text/plain';
    const ranges = splitMultipart(raw, bodyStart, end, boundary);
    const children = ranges.map(([s, e]) => parseEntity(raw, s, e, childDefault, depth + 1));
    return { ...base, children, lines: countLines(raw, bodyStart, end) };
  }
  if (type === 'message' && subtype === 'rfc822' && depth < MAX_DEPTH) {
    const message = parseEntity(raw, bodyStart, end, 'text/plain', depth + 1);
    return { ...base, children: [], message, lines: countLines(raw, bodyStart, end) };
  }
  return { ...base, children: [], lines: countLines(raw, bodyStart, end) };
}

/** The first octet after the blank line ending the header; `end` when there is none. */
function findBodyStart(raw: Buffer, start: number, end: number): number {
  // An entity may begin directly with the blank line (no header at all).
  if (raw[start] === CR && raw[start + 1] === LF) return Math.min(start + 2, end);
  if (raw[start] === LF) return Math.min(start + 1, end);
  let i = raw.indexOf(LF, start);
  while (i !== -1 && i < end) {
    const next = i + 1;
    if (raw[next] === LF && next < end) return next + 1;
    if (raw[next] === CR && raw[next + 1] === LF && next + 1 < end) return next + 2;
    i = raw.indexOf(LF, next);
  }
  return end;
}

/**
 * Returns the `[start, end)` of each body part between the boundary delimiters. The CRLF before a
 * delimiter belongs to the delimiter (RFC 2046 §5.1.1), so it is not part of the preceding part.
 */
function splitMultipart(raw: Buffer, start: number, end: number, boundary: string): Array<[number, number]> {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Array<[number, number]> = [];
  let partStart = -1;
  let searchFrom = start;
  while (searchFrom < end) {
    const found = raw.indexOf(delimiter, searchFrom);
    if (found === -1 || found + delimiter.length > end) break;
    const atLineStart = found === start || raw[found - 1] === LF;
    if (!atLineStart) {
      searchFrom = found + 1;
      continue;
    }
    const afterDelimiter = found + delimiter.length;
    const isClose = raw[afterDelimiter] === 0x2d && raw[afterDelimiter + 1] === 0x2d;
    const lineEnd = raw.indexOf(LF, afterDelimiter);
    const nextLine = lineEnd === -1 || lineEnd >= end ? end : lineEnd + 1;
    if (partStart !== -1) {
      let partEnd = found;
      if (partEnd > partStart && raw[partEnd - 1] === LF) partEnd -= 1;
      if (partEnd > partStart && raw[partEnd - 1] === CR) partEnd -= 1;
      parts.push([partStart, Math.max(partStart, partEnd)]);
    }
    if (isClose) return parts;
    partStart = nextLine;
    searchFrom = nextLine;
  }
  // Unterminated multipart: the last part runs to the end.
  if (partStart !== -1 && partStart <= end) parts.push([partStart, end]);
  return parts;
}

/** Counts lines as IMAP's `body-fld-lines`: line breaks, plus one for a last unterminated line. */
function countLines(raw: Buffer, start: number, end: number): number {
  if (end <= start) return 0;
  let lines = 0;
  let i = raw.indexOf(LF, start);
  while (i !== -1 && i < end) {
    lines += 1;
    i = raw.indexOf(LF, i + 1);
  }
  return raw[end - 1] === LF ? lines : lines + 1;
}

function splitOutsideQuotes(input: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < input.length; i += 1) {
    const ch = input.charAt(i);
    if (ch === '\\' && quoted && i + 1 < input.length) {
      current += ch + input.charAt(i + 1);
      i += 1;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === separator && !quoted) {
      out.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  out.push(current);
  return out;
}
