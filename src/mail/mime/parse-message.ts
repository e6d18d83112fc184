/**
 * Parses a raw RFC 5322 message (with MIME) into what Postern stores and shows: header fields,
 * addresses, subject, date, threading ids, plain text, sanitized HTML and attachments.
 *
 * It never throws. Mail in the wild is malformed — broken boundaries, unknown charsets, 8-bit
 * headers, missing bodies, TNEF, messages inside messages — and each message is parsed as far as
 * it goes; what went wrong is listed in `problems`. When mailparser itself fails, a byte-level
 * fallback still yields the headers and the body as text.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322 (Internet Message Format)
 * @see https://www.rfc-editor.org/rfc/rfc2045 (MIME part one: headers, encodings)
 * @see https://www.rfc-editor.org/rfc/rfc2046#section-5.2.1 (message/rfc822, kept as an attachment)
 * @see https://nodemailer.com/extras/mailparser/
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  simpleParser,
  type AddressObject,
  type Attachment,
  type EmailAddress,
  type HeaderValue,
  type ParsedMail,
} from 'mailparser';
import { LIMITS } from '../../config/limits.js';
import { normalizeMessageId, parseMessageIdList } from '../../domain/message-id.js';
import { isPlausibleAddress, type NamedAddress } from '../../domain/correspondent.js';
import { safeFilename } from './attachment-names.js';
import { flattenDeepNesting } from './html-nesting.js';
import { declaredTypes, isKnownCharset, readHeaderFields, repairEightBitHeader, splitHeader } from './raw-headers.js';
import { normalizeContentId, sanitizeHtml } from './sanitize-html.js';

/** One attachment, with its content. */
export interface ParsedAttachment {
  /** Safe to store and to offer for download (see attachment-names.ts). */
  readonly filename: string;
  /** The name the sender wrote, if any (for display only; never a path to use). */
  readonly originalFilename: string | null;
  readonly contentType: string;
  readonly size: number;
  /** Without angle brackets. */
  readonly contentId: string | null;
  /** Shown inside the HTML body (a resolved `cid:` image) or declared inline. */
  readonly inline: boolean;
  /** SHA-256 of the content, hex. */
  readonly sha256: string;
  readonly content: Buffer;
}

/** A parsed message. Every field has a value even for garbage input. */
export interface ParsedMessage {
  /** Header fields by lower-case name, unfolded, as written. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  /** The Message-ID header, canonical; undefined when absent or unusable. */
  readonly messageId: string | undefined;
  readonly inReplyTo: readonly string[];
  readonly references: readonly string[];
  readonly from: readonly NamedAddress[];
  readonly sender: readonly NamedAddress[];
  readonly replyTo: readonly NamedAddress[];
  readonly to: readonly NamedAddress[];
  readonly cc: readonly NamedAddress[];
  readonly bcc: readonly NamedAddress[];
  readonly subject: string;
  /** The Date header, when it parses. */
  readonly date: Date | null;
  readonly text: string | null;
  /** Sanitized (see sanitize-html.ts); null when the message has no HTML. */
  readonly html: string | null;
  readonly blockedRemoteImages: number;
  readonly attachments: readonly ParsedAttachment[];
  /** Top-level media type, lower-case. */
  readonly contentType: string | null;
  /** `report-type` of a multipart/report. */
  readonly reportType: string | null;
  /** Media types of all parts, lower-case. */
  readonly partTypes: readonly string[];
  /** What could not be parsed, in plain words; empty for a clean message. */
  readonly problems: readonly string[];
}

/** Options of {@link parseMessage}. */
export interface ParseOptions {
  /** HTML longer than this (characters) is not sanitized and dropped; the text stays. Default 8 MiB. */
  readonly maxHtmlLength?: number;
  /** Keep remote image sources (default false). */
  readonly allowRemoteImages?: boolean;
}

const DEFAULT_MAX_HTML_LENGTH = 8 * 1024 * 1024;

/**
 * Bytes fed to the parser at a time. Given the message as one Buffer, mailparser handed it on as
 * one chunk, and its base64 decoder turned a 150 MB message's attachment into one string: 266 MB
 * of heap and 870 MB of RSS at the peak, against 26 MB and 470 MB in slices (bench:memory).
 */
const PARSE_SLICE_BYTES = 64 * 1024;

/** `raw` as a stream of views on it, {@link PARSE_SLICE_BYTES} at a time (no copy); small ones as they are. */
function inSlices(raw: Buffer): Buffer | Readable {
  if (raw.length <= PARSE_SLICE_BYTES) return raw;
  return Readable.from(
    (function* slices(): Generator<Buffer> {
      for (let at = 0; at < raw.length; at += PARSE_SLICE_BYTES) yield raw.subarray(at, at + PARSE_SLICE_BYTES);
    })(),
    { objectMode: false },
  );
}

/** Parses `raw`; see the module comment. */
export async function parseMessage(raw: Buffer, options: ParseOptions = {}): Promise<ParsedMessage> {
  const problems: string[] = [];
  const { header } = splitHeader(raw);
  const headers = readHeaderFields(header);
  const types = declaredTypes(raw);
  for (const charset of new Set(types.flatMap((type) => (type.charset === null ? [] : [type.charset])))) {
    if (!isKnownCharset(charset)) problems.push(`unknown charset "${charset}", read as UTF-8 or Latin-1`);
  }
  if (raw.length === 0) problems.push('the message is empty');
  else if (headers.size === 0) problems.push('no header fields could be read');

  const repaired = repairEightBitHeader(raw);
  if (repaired !== undefined) problems.push('8-bit header bytes that are not UTF-8, read as Windows-1252');

  let mail: ParsedMail | undefined;
  try {
    mail = await simpleParser(inSlices(repaired ?? raw), {
      keepCidLinks: true,
      skipTextToHtml: true,
      skipImageLinks: true,
      keepDeliveryStatus: true,
      // A message inside a message stays one attachment (downloadable as .eml), never merged into the body.
      ignoreEmbedded: true,
      maxHtmlLengthToParse: options.maxHtmlLength ?? DEFAULT_MAX_HTML_LENGTH,
      // The digest we store, computed as the content streams by; its default (MD5) was a second
      // pass over every attachment that nothing used.
      checksumAlgo: 'sha256',
    });
  } catch (error) {
    problems.push(`the MIME structure could not be parsed (${describe(error)}); the body is kept as plain text`);
  }

  const contentTypeValue = headers.get('content-type')?.[0] ?? '';
  const base = {
    headers,
    messageId: normalizeMessageId(headers.get('message-id')?.[0]),
    inReplyTo: parseMessageIdList(headers.get('in-reply-to')),
    references: parseMessageIdList(headers.get('references')),
    contentType: contentTypeValue.split(';')[0]?.trim().toLowerCase() || null,
    reportType: /report-type\s*=\s*"?([^";\s]+)/i.exec(contentTypeValue)?.[1]?.toLowerCase() ?? null,
    partTypes: [...new Set(types.map((type) => type.mediaType))],
  };
  if (headers.has('message-id') && base.messageId === undefined) problems.push('the Message-ID header is unusable');
  if (mail === undefined) return { ...base, ...fallbackContent(raw, headers), problems };
  const declaresHtml = types.some((type) => type.mediaType === 'text/html');
  const content = contentOf(mail, options, declaresHtml, problems);
  return { ...base, ...salvage(content, raw, headers, problems), problems };
}

type Content = Omit<
  ParsedMessage,
  'headers' | 'messageId' | 'inReplyTo' | 'references' | 'contentType' | 'reportType' | 'partTypes' | 'problems'
>;

function contentOf(mail: ParsedMail, options: ParseOptions, declaresHtml: boolean, problems: string[]): Content {
  // mailparser answers "now" for a Date it cannot read: an invented date is worse than none.
  const rawDate = mail.headers.has('date') ? (mail.date ?? null) : null;
  const date =
    rawDate !== null && !Number.isNaN(rawDate.getTime()) && !Number.isNaN(Date.parse(headerText(mail, 'date')))
      ? rawDate
      : null;
  if (date === null && mail.headers.has('date')) problems.push('the Date header does not parse');

  const attachments = mail.attachments.map((attachment, index) => toAttachment(attachment, index));
  let html: string | null = null;
  let blockedRemoteImages = 0;
  let inlineIndexes: ReadonlySet<number> = new Set();
  if (typeof mail.html === 'string' && mail.html !== '') {
    const cidTargets = attachments.flatMap((attachment, index) =>
      attachment.contentId === null ? [] : [{ contentId: attachment.contentId, index }],
    );
    // Flattened first: the sanitizer's parser is quadratic in nesting depth (see html-nesting.ts).
    const sanitized = sanitizeHtml(flattenDeepNesting(mail.html), {
      cidTargets,
      allowRemoteImages: options.allowRemoteImages === true,
    });
    html = sanitized.html;
    blockedRemoteImages = sanitized.blockedRemoteImages;
    inlineIndexes = sanitized.inlineIndexes;
    for (const cid of sanitized.unresolvedCids)
      problems.push(`the HTML refers to cid:${cid}, which is not in the message`);
  } else if (
    mail.html === false &&
    declaresHtml &&
    !attachments.some((attachment) => attachment.contentType === 'text/html')
  ) {
    problems.push('the HTML body was too large or unreadable and was dropped');
  }

  return {
    from: addressesOf(mail.from),
    sender: addressesOf(headerAddresses(mail.headers.get('sender'))),
    replyTo: addressesOf(mail.replyTo),
    to: addressesOf(mail.to),
    cc: addressesOf(mail.cc),
    bcc: addressesOf(mail.bcc),
    subject: storedSubject(mail.subject ?? ''),
    date,
    text: mail.text === undefined || mail.text === '' ? null : cleanText(mail.text),
    html,
    blockedRemoteImages,
    attachments: attachments.map((attachment, index) =>
      inlineIndexes.has(index) ? { ...attachment, inline: true } : attachment,
    ),
  };
}

function toAttachment(attachment: Attachment, index: number): ParsedAttachment {
  const content: Buffer = Buffer.isBuffer(attachment.content) ? attachment.content : Buffer.alloc(0);
  const contentType = (attachment.contentType || 'application/octet-stream').toLowerCase();
  const contentId = attachment.contentId === undefined ? null : normalizeContentId(attachment.contentId) || null;
  return {
    filename: safeFilename(attachment.filename, index, contentType),
    originalFilename:
      attachment.filename === undefined ? null : capLength(cleanText(attachment.filename), LIMITS.storedFilenameChars),
    contentType,
    size: content.length,
    contentId,
    inline: attachment.contentDisposition === 'inline' && contentId !== null,
    sha256: sha256Of(attachment, content),
    content,
  };
}

/** The checksum mailparser computed (SHA-256, see parseMessage) when it covers exactly `content`, else one computed here. */
function sha256Of(attachment: Attachment, content: Buffer): string {
  const { checksum } = attachment;
  return typeof checksum === 'string' && /^[0-9a-f]{64}$/.test(checksum) && attachment.size === content.length
    ? checksum
    : createHash('sha256').update(content).digest('hex');
}

/**
 * What the parser missed and the bytes still hold: a body behind a broken MIME structure, an
 * address in a From the parser could not split.
 */
function salvage(
  content: Content,
  raw: Buffer,
  headers: ReadonlyMap<string, readonly string[]>,
  problems: string[],
): Content {
  let result = content;
  if (content.text === null && content.html === null && content.attachments.length === 0) {
    const body = raw.subarray(splitHeader(raw).bodyStart).toString('utf8');
    // Boundary lines alone are not content.
    const readable = body
      .split(/\r?\n/)
      .filter((line) => !/^--\S*$/.test(line.trim()))
      .join('\n')
      .trim();
    if (readable !== '') {
      result = { ...result, text: cleanText(readable) };
      problems.push('no readable MIME part; the body is shown as raw text');
    }
  }
  if (!content.from.some((entry) => isPlausibleAddress(entry.address))) {
    const salvaged = bareAddresses(headers.get('from'));
    if (salvaged.length > 0) {
      result = { ...result, from: salvaged };
      problems.push('the From header is malformed; its address was recovered');
    }
  }
  if (result.text?.includes('\uFFFD') === true) problems.push('some characters of the text could not be decoded');
  return result;
}

function headerText(mail: ParsedMail, name: string): string {
  const line = mail.headerLines.find((entry) => entry.key === name)?.line ?? '';
  return line.slice(line.indexOf(':') + 1).trim();
}

/** When mailparser gave up: the headers as read byte-wise and the body as text. */
function fallbackContent(raw: Buffer, headers: ReadonlyMap<string, readonly string[]>): Content {
  const { bodyStart } = splitHeader(raw);
  const body = raw.subarray(bodyStart).toString('utf8');
  const rawDate = headers.get('date')?.[0];
  const date = rawDate === undefined ? null : new Date(rawDate);
  return {
    from: bareAddresses(headers.get('from')),
    sender: bareAddresses(headers.get('sender')),
    replyTo: bareAddresses(headers.get('reply-to')),
    to: bareAddresses(headers.get('to')),
    cc: bareAddresses(headers.get('cc')),
    bcc: [],
    subject: storedSubject(headers.get('subject')?.[0] ?? ''),
    date: date === null || Number.isNaN(date.getTime()) ? null : date,
    text: body === '' ? null : cleanText(body),
    html: null,
    blockedRemoteImages: 0,
    attachments: [],
  };
}

function headerAddresses(value: HeaderValue | undefined): AddressObject[] {
  if (value === undefined || typeof value === 'string' || value instanceof Date) return [];
  const values: readonly unknown[] = Array.isArray(value) ? value : [value];
  return values.filter(isAddressObject);
}

function isAddressObject(value: unknown): value is AddressObject {
  return typeof value === 'object' && value !== null && 'value' in value && Array.isArray(value.value);
}

function addressesOf(value: AddressObject | AddressObject[] | undefined): NamedAddress[] {
  if (value === undefined) return [];
  const objects = Array.isArray(value) ? value : [value];
  const flat: NamedAddress[] = [];
  const visit = (entries: readonly EmailAddress[]): void => {
    for (const entry of entries) {
      if (entry.group !== undefined) visit(entry.group);
      else if (entry.address !== undefined && entry.address !== '')
        flat.push({ name: storedName(entry.name ?? ''), address: entry.address.trim() });
    }
  };
  for (const object of objects) visit(object.value);
  return flat;
}

/**
 * Addresses out of a raw header value, for the fallback: `Name <a@b>` or bare `a@b`. One linear
 * pass over tokens: an angle-bracketed part or a run of characters that cannot border an address.
 */
function bareAddresses(values: readonly string[] | undefined): NamedAddress[] {
  const found: NamedAddress[] = [];
  for (const value of values ?? []) {
    let segmentStart = 0;
    for (const match of value.matchAll(/<([^<>]*)>|[^\s<>,;"]+/g)) {
      const end = match.index + match[0].length;
      const inner = match[1];
      if (inner === undefined) {
        if (!looksLikeAddress(match[0])) continue;
        found.push({ name: '', address: match[0] });
      } else if (looksLikeAddress(inner) && !/\s/.test(inner)) {
        // The name is what stands between the previous address (or comma) and the bracket.
        const before = value.slice(segmentStart, match.index);
        found.push({ name: storedName(before.slice(before.lastIndexOf(',') + 1).replace(/"/g, '')), address: inner });
      }
      segmentStart = end;
    }
  }
  return found;
}

/** `local@domain` with something on both sides of the first `@`. */
function looksLikeAddress(text: string): boolean {
  const at = text.indexOf('@');
  return at > 0 && at < text.length - 1;
}

/** Text without NUL and other C0 controls except tab and newlines (they break storage and display). */
function cleanText(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}

/** The subject as stored: clean and capped (the raw MIME keeps it whole). */
function storedSubject(subject: string): string {
  return capLength(cleanText(subject), LIMITS.storedSubjectChars);
}

/**
 * A display name as stored: on one line — a name that decodes (RFC 2047) to `Eve\r\nBcc: …` would
 * otherwise be refused when a reply reuses it — and capped.
 */
function storedName(name: string): string {
  return capLength(cleanText(name).replace(/\s+/g, ' ').trim(), LIMITS.storedNameChars);
}

/** At most `max` UTF-16 units, never ending in half a surrogate pair. */
function capLength(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200);
}
