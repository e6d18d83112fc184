/**
 * The MIME of a draft with the file attachments added to it since it was created (`POST
 * …/attachments`, upload sessions), as the emulated `send` submits it: a `multipart/mixed`
 * message gets the new parts before its closing boundary; any other message becomes the first
 * part of a new `multipart/mixed`, its Content-* fields moving into that part. Exchange would
 * write the whole message again from the item; the emulator keeps the draft's bytes and appends,
 * so that a test can compare what it sent with what arrives.
 *
 * @see https://www.rfc-editor.org/rfc/rfc2046#section-5.1 (multipart)
 * @see https://www.rfc-editor.org/rfc/rfc2231 (encoded file names)
 */
import { randomBytes } from 'node:crypto';

/** A file attachment added to a draft. */
export interface DraftAttachment {
  readonly id: string;
  readonly name: string;
  readonly contentType: string;
  readonly content: Buffer;
  readonly isInline: boolean;
  readonly contentId: string | undefined;
}

/** `raw` with `attachments` added as parts of a top-level `multipart/mixed`. */
export function withAttachments(raw: Buffer, attachments: readonly DraftAttachment[]): Buffer {
  if (attachments.length === 0) return raw;
  const split = splitAt(raw);
  const headerText = split.header.toString('utf8');
  const fields = unfoldedFields(headerText);
  const type = fields.find((f) => f.name === 'content-type')?.value ?? 'text/plain';
  const boundary = type.toLowerCase().startsWith('multipart/mixed') ? boundaryOf(type) : undefined;
  if (boundary !== undefined) {
    const close = Buffer.from(`--${boundary}--`, 'latin1');
    const at = raw.lastIndexOf(close);
    if (at >= 0) {
      const parts = attachments.map((a) => partOf(a, boundary)).join('');
      return Buffer.concat([raw.subarray(0, at), Buffer.from(parts, 'utf8'), raw.subarray(at)]);
    }
  }
  const outer = `emulator-${randomBytes(12).toString('hex')}`;
  const contentFields = fields.filter((f) => f.name.startsWith('content-'));
  const otherLines = fields.filter((f) => !f.name.startsWith('content-')).map((f) => f.line);
  const header = [...otherLines, `Content-Type: multipart/mixed; boundary="${outer}"`].join('\r\n');
  const firstPart =
    contentFields.length === 0 ? 'Content-Type: text/plain' : contentFields.map((f) => f.line).join('\r\n');
  return Buffer.concat([
    Buffer.from(`${header}\r\n\r\n--${outer}\r\n${firstPart}\r\n\r\n`, 'utf8'),
    raw.subarray(split.bodyStart),
    Buffer.from(`\r\n${attachments.map((a) => partOf(a, outer)).join('')}--${outer}--\r\n`, 'utf8'),
  ]);
}

function partOf(attachment: DraftAttachment, boundary: string): string {
  const disposition = attachment.isInline ? 'inline' : 'attachment';
  const base64 = attachment.content.toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    `--${boundary}`,
    `Content-Type: ${attachment.contentType}; ${parameter('name', attachment.name)}`,
    `Content-Disposition: ${disposition}; ${parameter('filename', attachment.name)}`,
    ...(attachment.contentId === undefined ? [] : [`Content-ID: <${attachment.contentId.replace(/[<>\r\n]/g, '')}>`]),
    'Content-Transfer-Encoding: base64',
    '',
    base64.endsWith('\r\n') ? base64.slice(0, -2) : base64,
    '',
  ].join('\r\n');
}

/** `name="value"`, or RFC 2231's `name*=utf-8''…` for anything but plain printable ASCII. */
function parameter(name: string, value: string): string {
  if (/^[\x20-\x7e]*$/.test(value) && !/["\\]/.test(value)) return `${name}="${value}"`;
  const encoded = encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${name}*=utf-8''${encoded}`;
}

function splitAt(raw: Buffer): { header: Buffer; bodyStart: number } {
  const crlf = raw.indexOf('\r\n\r\n');
  if (crlf >= 0) return { header: raw.subarray(0, crlf), bodyStart: crlf + 4 };
  const lf = raw.indexOf('\n\n');
  if (lf >= 0) return { header: raw.subarray(0, lf), bodyStart: lf + 2 };
  return { header: raw, bodyStart: raw.length };
}

interface Field {
  readonly name: string;
  readonly value: string;
  /** The field as written (folded lines kept). */
  readonly line: string;
}

function unfoldedFields(header: string): Field[] {
  const fields: Field[] = [];
  for (const line of header.split(/\r?\n/)) {
    const last = fields[fields.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      fields[fields.length - 1] = { ...last, value: `${last.value} ${line.trim()}`, line: `${last.line}\r\n${line}` };
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim(), line });
  }
  return fields;
}

function boundaryOf(contentType: string): string | undefined {
  for (const piece of contentType.split(';')) {
    const [key, ...rest] = piece.split('=');
    if (key?.trim().toLowerCase() !== 'boundary') continue;
    const value = rest.join('=').trim();
    return value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return undefined;
}
