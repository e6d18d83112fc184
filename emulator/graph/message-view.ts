/**
 * A stored message (raw MIME plus flags) presented as Graph's message resource: addresses as
 * `{ emailAddress: { name, address } }`, the body in HTML unless `Prefer:
 * outlook.body-content-type="text"`, `bodyPreview` (255 characters of text), `isRead` from `\Seen`,
 * `flag` from `\Flagged`, dates in `yyyy-MM-ddTHH:mm:ssZ`, and `@odata.etag` / `changeKey` that
 * change with the flags. The MIME is parsed once per message content (mailparser) and kept.
 *
 * Emulator choices where Exchange computes things it does not document: `conversationId` is derived
 * from the first Message-ID of the thread (References, else In-Reply-To, else the message's own);
 * `hasAttachments` ignores inline (related) parts, as Outlook does.
 *
 * @see https://learn.microsoft.com/graph/api/resources/message
 * @see https://learn.microsoft.com/graph/api/resources/fileattachment
 * @see https://learn.microsoft.com/graph/api/message-get (Prefer: outlook.body-content-type)
 */
import { createHash } from 'node:crypto';
import {
  simpleParser,
  type AddressObject,
  type Attachment,
  type EmailAddress,
  type HeaderValue,
  type ParsedMail,
} from 'mailparser';
import type { MailFolder } from '../exchange/mail-folder.js';
import type { MessageContent, StoredMessage } from '../exchange/stored-message.js';
import { changeKeyOf, encodeAttachmentId, encodeFolderId, encodeMessageId } from './graph-ids.js';
import { DEFAULT_PROPERTIES, type MessageProperty } from './message-properties.js';

const parsedContents = new WeakMap<MessageContent, Promise<ParsedMail>>();
const modifiedAt = new WeakMap<StoredMessage, number>();

/** The parsed MIME of a message content (parsed on first use, then kept with the content). */
export function parsedOf(content: MessageContent): Promise<ParsedMail> {
  let parsed = parsedContents.get(content);
  if (parsed === undefined) {
    parsed = simpleParser(content.raw, { keepCidLinks: true, skipTextLinks: true });
    parsedContents.set(content, parsed);
  }
  return parsed;
}

/** Records that Graph changed a message now (its `lastModifiedDateTime`). */
export function noteModified(message: StoredMessage, atMs: number): void {
  modifiedAt.set(message, atMs);
}

/** The part of a message that changes: its flags. Delta and `changeKey` follow it. */
export function versionOf(message: StoredMessage): string {
  return [...message.flags].sort().join(' ');
}

/** `2024-01-15T10:20:30Z`: Graph's DateTimeOffset format for messages (whole seconds, UTC). */
export function graphDate(at: Date | number): string {
  return new Date(typeof at === 'number' ? at : at.getTime()).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The received time at Graph's precision (whole seconds), for filtering and sorting. */
export function receivedSeconds(message: StoredMessage): number {
  return Math.floor(message.internalDate.getTime() / 1000);
}

/** Graph's recipient shape. */
export interface GraphRecipient {
  emailAddress: { name: string; address: string };
}

function isAddressObject(value: HeaderValue | undefined): value is AddressObject {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    'value' in value &&
    Array.isArray(value.value)
  );
}

function flatten(addresses: readonly EmailAddress[]): GraphRecipient[] {
  return addresses.flatMap((a) => {
    if (a.group !== undefined) return flatten(a.group);
    if (a.address === undefined || a.address === '') return [];
    return [{ emailAddress: { name: a.name === '' ? a.address : a.name, address: a.address } }];
  });
}

/** Recipients of an address header as Graph lists them (groups flattened; the address stands in for a missing name). */
export function recipientsOf(value: AddressObject | AddressObject[] | undefined): GraphRecipient[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((o) => flatten(o.value));
}

/** Whether an attachment is inline content (an embedded image) rather than a file. */
function isInlineAttachment(attachment: Attachment): boolean {
  return attachment.related === true || (attachment.contentDisposition === 'inline' && attachment.cid !== undefined);
}

/** The name Graph shows for an attachment. */
function attachmentName(attachment: Attachment, index: number): string {
  if (attachment.filename !== undefined && attachment.filename !== '') return attachment.filename;
  return attachment.contentType === 'message/rfc822'
    ? `Untitled attachment ${String(index + 1).padStart(5, '0')}.eml`
    : `Untitled attachment ${String(index + 1).padStart(5, '0')}.dat`;
}

/** A fileAttachment resource; `contentBytes` (base64) unless `withContent` is false. */
export function presentAttachment(
  attachment: Attachment,
  coordinates: { folderId: string; uid: number },
  index: number,
  lastModified: Date,
  withContent: boolean,
): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    '@odata.mediaContentType': attachment.contentType,
    id: encodeAttachmentId(coordinates, index),
    lastModifiedDateTime: graphDate(lastModified),
    name: attachmentName(attachment, index),
    contentType: attachment.contentType,
    size: attachment.size,
    isInline: isInlineAttachment(attachment),
    contentId: attachment.cid ?? null,
    contentLocation: null,
    ...(withContent ? { contentBytes: attachment.content.toString('base64') } : {}),
  };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A text body as the HTML page Exchange renders for it. */
function htmlPage(inner: string): string {
  return `<html><head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n</head>\r\n<body>\r\n${inner}\r\n</body>\r\n</html>\r\n`;
}

function bodyOf(parsed: ParsedMail, asText: boolean): { contentType: 'text' | 'html'; content: string } {
  if (asText) return { contentType: 'text', content: parsed.text ?? '' };
  if (typeof parsed.html === 'string') return { contentType: 'html', content: parsed.html };
  return { contentType: 'html', content: htmlPage(parsed.textAsHtml ?? `<p>${escapeHtml(parsed.text ?? '')}</p>`) };
}

function previewOf(parsed: ParsedMail): string {
  return (parsed.text ?? '').replace(/\s+/g, ' ').trim().slice(0, 255);
}

function importanceOf(parsed: ParsedMail): 'low' | 'normal' | 'high' {
  const priority = parsed.headers.get('priority');
  return priority === 'low' || priority === 'high' ? priority : 'normal';
}

function firstMessageId(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value[0] : value.trim().split(/\s+/)[0];
}

/** A stable conversation key: the first Message-ID of the thread, else the normalised subject. */
function conversationKey(parsed: ParsedMail): string {
  return (
    firstMessageId(parsed.references) ??
    parsed.inReplyTo ??
    parsed.messageId ??
    (parsed.subject ?? '').replace(/^((re|fw|fwd|aw|wg)\s*:\s*)+/i, '').toLowerCase()
  );
}

function conversationIdOf(parsed: ParsedMail): string {
  return `AAQkA${createHash('sha256').update(conversationKey(parsed)).digest().subarray(0, 18).toString('base64url')}=`;
}

function conversationIndexOf(parsed: ParsedMail, sent: Date): string {
  const header = parsed.headers.get('thread-index');
  if (typeof header === 'string' && header.trim() !== '') return header.trim();
  const time = Buffer.alloc(6);
  time.writeUIntBE(Math.floor(sent.getTime() / 1000), 0, 6);
  return Buffer.concat([
    Buffer.from([1]),
    time.subarray(1),
    createHash('sha256').update(conversationKey(parsed)).digest().subarray(0, 16),
  ]).toString('base64');
}

/** Raw header lines as Graph's `internetMessageHeaders` (unfolded). */
function headersOf(parsed: ParsedMail): Array<{ name: string; value: string }> {
  return parsed.headerLines.map((h) => {
    const colon = h.line.indexOf(':');
    return {
      name: h.line.slice(0, colon),
      value: h.line
        .slice(colon + 1)
        .replace(/\r?\n[ \t]+/g, ' ')
        .trim(),
    };
  });
}

/** How a message is to be presented. */
export interface PresentOptions {
  /** Canonical property names from `$select`; undefined = Graph's default set. */
  readonly select?: readonly MessageProperty[] | undefined;
  readonly bodyText: boolean;
  readonly expandAttachments?: boolean;
}

/** Graph's message resource for a stored message (its `@odata.etag` first, then the properties). */
export async function presentMessage(
  folder: MailFolder,
  message: StoredMessage,
  options: PresentOptions,
): Promise<Record<string, unknown>> {
  const parsed = await parsedOf(message.content);
  const id = encodeMessageId(folder.id, message.uid);
  const changeKey = changeKeyOf(id, versionOf(message));
  const received = message.internalDate;
  const sent = parsed.date ?? received;
  const modified = new Date(Math.max(received.getTime(), modifiedAt.get(message) ?? 0));
  const from = recipientsOf(parsed.from);
  const senderHeader = parsed.headers.get('sender');
  const values: Record<MessageProperty, () => unknown> = {
    id: () => id,
    createdDateTime: () => graphDate(received),
    lastModifiedDateTime: () => graphDate(modified),
    changeKey: () => changeKey,
    categories: () => [],
    receivedDateTime: () => graphDate(received),
    sentDateTime: () => graphDate(sent),
    hasAttachments: () => parsed.attachments.some((a) => !isInlineAttachment(a)),
    internetMessageId: () => parsed.messageId ?? null,
    subject: () => parsed.subject ?? '',
    bodyPreview: () => previewOf(parsed),
    importance: () => importanceOf(parsed),
    parentFolderId: () => encodeFolderId(folder.id),
    conversationId: () => conversationIdOf(parsed),
    conversationIndex: () => conversationIndexOf(parsed, sent),
    isDeliveryReceiptRequested: () => parsed.headers.has('return-receipt-to'),
    isReadReceiptRequested: () => parsed.headers.has('disposition-notification-to'),
    isRead: () => message.flags.has('\\Seen'),
    isDraft: () => message.flags.has('\\Draft'),
    webLink: () =>
      `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: () => 'focused',
    body: () => bodyOf(parsed, options.bodyText),
    uniqueBody: () => bodyOf(parsed, options.bodyText),
    sender: () => (isAddressObject(senderHeader) ? recipientsOf(senderHeader)[0] : from[0]) ?? null,
    from: () => from[0] ?? null,
    toRecipients: () => recipientsOf(parsed.to),
    ccRecipients: () => recipientsOf(parsed.cc),
    bccRecipients: () => recipientsOf(parsed.bcc),
    replyTo: () => recipientsOf(parsed.replyTo),
    flag: () => ({ flagStatus: message.flags.has('\\Flagged') ? 'flagged' : 'notFlagged' }),
    internetMessageHeaders: () => headersOf(parsed),
  };
  const wanted = options.select ?? DEFAULT_PROPERTIES;
  const out: Record<string, unknown> = { '@odata.etag': `W/"${changeKey}"`, id };
  for (const property of wanted) if (property !== 'id') out[property] = values[property]();
  if (options.expandAttachments === true) {
    out.attachments = parsed.attachments.map((a, index) =>
      presentAttachment(a, { folderId: folder.id, uid: message.uid }, index, received, true),
    );
  }
  return out;
}
