/**
 * Turning Graph send requests into RFC 5322 messages, as Exchange does before submission:
 * a JSON `message` (recipients, subject, body, file attachments, `from` for Send As, custom
 * `x-` headers) is composed with nodemailer's MailComposer; a base64 MIME body is decoded (bad
 * base64 → `ErrorMimeContentInvalidBase64String`) and completed with From, Message-ID and Date when
 * missing. Replies get `RE:`, In-Reply-To and References, and go to Reply-To or From of the original.
 * Bcc stays in the Sent Items copy; delivery strips it (the mail router does).
 *
 * @see https://learn.microsoft.com/graph/api/user-sendmail
 * @see https://learn.microsoft.com/graph/api/message-reply
 * @see ../../../shared/reference/microsoft-protocols.md §8 (Send JSON, Send MIME)
 */
import { randomUUID } from 'node:crypto';
import type { ParsedMail } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { z } from 'zod';
import { extractAddresses } from '../exchange/address-list.js';
import { MessageContent } from '../exchange/stored-message.js';
import { graphErrors } from './graph-errors.js';
import { canonicalProperty } from './message-properties.js';
import { graphDate, recipientsOf, type GraphRecipient } from './message-view.js';

const MESSAGE_ID_HOST = 'SY5P282MB0097.AUSP282.PROD.OUTLOOK.COM';
const EMAIL = /^[^\s@<>()",;]+@[^\s@<>()",;]+$/;

const recipientSchema = z.object({
  emailAddress: z.object({
    address: z.string().trim().regex(EMAIL, { message: 'not an e-mail address' }),
    name: z.string().optional(),
  }),
});
const bodySchema = z.object({
  contentType: z
    .string()
    .transform((v) => v.toLowerCase())
    .pipe(z.enum(['text', 'html']))
    .default('text'),
  content: z.string().default(''),
});
const attachmentSchema = z.object({
  '@odata.type': z.string().refine((v) => v.replace(/^#/, '').toLowerCase() === 'microsoft.graph.fileattachment', {
    message: 'only #microsoft.graph.fileAttachment is supported',
  }),
  name: z.string().min(1),
  contentType: z.string().optional(),
  contentBytes: z.string(),
  isInline: z.boolean().optional(),
  contentId: z.string().optional(),
});
const headerSchema = z.object({ name: z.string().min(1), value: z.string() });

/** The writable message properties a send or reply request may carry. */
const messageInputSchema = z.object({
  subject: z.string().optional(),
  body: bodySchema.optional(),
  toRecipients: z.array(recipientSchema).optional(),
  ccRecipients: z.array(recipientSchema).optional(),
  bccRecipients: z.array(recipientSchema).optional(),
  replyTo: z.array(recipientSchema).optional(),
  from: recipientSchema.optional(),
  sender: recipientSchema.optional(),
  attachments: z.array(attachmentSchema).optional(),
  internetMessageHeaders: z.array(headerSchema).optional(),
  importance: z.enum(['low', 'normal', 'high', 'Low', 'Normal', 'High']).optional(),
  isReadReceiptRequested: z.boolean().optional(),
  isDeliveryReceiptRequested: z.boolean().optional(),
});
/** A validated message of a send or reply request. */
export type MessageInput = z.infer<typeof messageInputSchema>;

const booleanish = z.union([
  z.boolean(),
  z.enum(['true', 'false', 'True', 'False']).transform((v) => v.toLowerCase() === 'true'),
]);

/** `POST /sendMail` with `Content-Type: application/json`. */
export const sendMailSchema = z.object({ message: z.unknown(), saveToSentItems: booleanish.optional() });

/** `POST /messages/{id}/reply` (and replyAll) with a JSON body. */
export const replySchema = z.object({ comment: z.string().optional(), message: z.unknown().optional() });

/** Validates a message object: unknown properties are Graph's RequestBodyRead error. */
export function parseMessageInput(input: unknown): MessageInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw graphErrors.invalidRequest('The message must be a JSON object.');
  for (const key of Object.keys(input)) {
    if (key.startsWith('@odata.')) continue;
    if (key !== 'attachments' && canonicalProperty(key) === undefined) throw graphErrors.unknownBodyProperty(key);
  }
  const result = messageInputSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw graphErrors.invalidRequest(
      `Invalid message: ${issue?.path.map(String).join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
    );
  }
  for (const header of result.data.internetMessageHeaders ?? []) {
    if (!/^x-/i.test(header.name))
      throw graphErrors.invalidRequest(
        `The internet message header name '${header.name}' should start with 'x-' or 'X-'.`,
      );
  }
  return result.data;
}

/** A message ready for submission. */
export interface ComposedMessage {
  readonly raw: Buffer;
  /** The From address (checked against Send As). */
  readonly fromAddress: string;
  /** Envelope recipients: To, Cc and Bcc, de-duplicated, lower-cased. */
  readonly recipients: readonly string[];
}

/** The identity sending: the mailbox of the request path. */
export interface SendingMailbox {
  readonly address: string;
  readonly displayName: string;
}

function newMessageId(): string {
  return `<${randomUUID().replace(/-/g, '').toUpperCase()}@${MESSAGE_ID_HOST}>`;
}

function addressOf(r: z.infer<typeof recipientSchema>): { name: string; address: string } {
  return { name: r.emailAddress.name ?? '', address: r.emailAddress.address };
}

function unique(addresses: readonly string[]): string[] {
  return [...new Set(addresses.map((a) => a.toLowerCase()))];
}

function decodeBytes(base64: string): Buffer {
  const clean = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0)
    throw graphErrors.invalidRequest('contentBytes is not valid base64.');
  return Buffer.from(clean, 'base64');
}

/** Threading of a reply. */
export interface ReplyHeaders {
  readonly inReplyTo?: string;
  readonly references?: string;
}

/** Composes the RFC 5322 message of a JSON send. */
export async function composeMessage(
  input: MessageInput,
  sender: SendingMailbox,
  now: number,
  reply: ReplyHeaders = {},
  options: { draft?: boolean } = {},
): Promise<ComposedMessage> {
  const from = input.from === undefined ? { name: sender.displayName, address: sender.address } : addressOf(input.from);
  const to = (input.toRecipients ?? []).map(addressOf);
  const cc = (input.ccRecipients ?? []).map(addressOf);
  const bcc = (input.bccRecipients ?? []).map(addressOf);
  const recipients = unique([...to, ...cc, ...bcc].map((a) => a.address));
  if (recipients.length === 0 && options.draft !== true) throw graphErrors.invalidRecipients();
  const headers: Record<string, string> = {};
  for (const header of input.internetMessageHeaders ?? []) headers[header.name] = header.value;
  const importance = input.importance?.toLowerCase();
  if (importance === 'high' || importance === 'low') headers.Importance = importance === 'high' ? 'High' : 'Low';
  if (input.isReadReceiptRequested === true) headers['Disposition-Notification-To'] = from.address;
  const body = input.body ?? { contentType: 'text' as const, content: '' };
  const composer = new MailComposer({
    from,
    ...(input.sender !== undefined && input.sender.emailAddress.address.toLowerCase() !== from.address.toLowerCase()
      ? { sender: addressOf(input.sender) }
      : {}),
    to,
    cc,
    bcc,
    ...(input.replyTo === undefined ? {} : { replyTo: input.replyTo.map(addressOf) }),
    subject: input.subject ?? '',
    ...(body.contentType === 'html' ? { html: body.content } : { text: body.content }),
    attachments: (input.attachments ?? []).map((a) => ({
      filename: a.name,
      content: decodeBytes(a.contentBytes),
      ...(a.contentType === undefined ? {} : { contentType: a.contentType }),
      ...(a.isInline === true
        ? { contentDisposition: 'inline' as const, ...(a.contentId === undefined ? {} : { cid: a.contentId }) }
        : {}),
    })),
    headers,
    messageId: newMessageId(),
    date: new Date(now),
    ...(reply.inReplyTo === undefined ? {} : { inReplyTo: reply.inReplyTo }),
    ...(reply.references === undefined ? {} : { references: reply.references }),
  });
  const node = composer.compile();
  node.keepBcc = true;
  return { raw: await node.build(), fromAddress: from.address, recipients };
}

/** Decodes a base64 MIME request body; `ErrorMimeContentInvalidBase64String` when it is not base64. */
export function decodeMimeBody(body: unknown): Buffer {
  if (typeof body !== 'string') throw graphErrors.invalidBase64();
  const clean = body.replace(/\s+/g, '');
  if (clean === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0)
    throw graphErrors.invalidBase64();
  return Buffer.from(clean, 'base64');
}

/**
 * A MIME message as submitted: From, Message-ID and Date added when missing (Graph fills them in);
 * envelope recipients from To, Cc and Bcc, or `fallbackRecipients` (replies go to the original sender).
 * A draft (`draft: true`) may have no recipient yet.
 */
export function completeMime(
  raw: Buffer,
  sender: SendingMailbox,
  now: number,
  extra: { fallbackRecipients?: readonly string[]; reply?: ReplyHeaders; draft?: boolean } = {},
): ComposedMessage {
  const structure = new MessageContent(raw).structure;
  const header = (name: string): string | undefined => structure.headers.find((h) => h.key === name)?.value;
  const added: string[] = [];
  const fromHeader = header('from');
  if (fromHeader === undefined)
    added.push(
      `From: ${sender.displayName === '' ? '' : `"${sender.displayName.replace(/"/g, '')}" `}<${sender.address}>`,
    );
  if (header('message-id') === undefined) added.push(`Message-ID: ${newMessageId()}`);
  if (header('date') === undefined) added.push(`Date: ${new Date(now).toUTCString().replace('GMT', '+0000')}`);
  if (extra.reply?.inReplyTo !== undefined && header('in-reply-to') === undefined)
    added.push(`In-Reply-To: ${extra.reply.inReplyTo}`);
  if (extra.reply?.references !== undefined && header('references') === undefined)
    added.push(`References: ${extra.reply.references}`);
  const listed = unique(['to', 'cc', 'bcc'].flatMap((name) => extractAddresses(header(name) ?? '')));
  const recipients = extra.fallbackRecipients === undefined ? listed : unique(extra.fallbackRecipients);
  if (recipients.length === 0 && extra.draft !== true) throw graphErrors.invalidRecipients();
  const fromAddress = fromHeader === undefined ? sender.address : (extractAddresses(fromHeader)[0] ?? sender.address);
  const completed =
    added.length === 0 ? raw : Buffer.concat([Buffer.from(added.map((line) => `${line}\r\n`).join(''), 'utf8'), raw]);
  return { raw: completed, fromAddress, recipients };
}

/** The threading headers of a reply to `original`. */
export function replyHeadersOf(original: ParsedMail): ReplyHeaders {
  const references = [
    ...(Array.isArray(original.references)
      ? original.references
      : original.references === undefined
        ? []
        : [original.references]),
  ];
  if (original.messageId !== undefined && !references.includes(original.messageId)) references.push(original.messageId);
  return {
    ...(original.messageId === undefined ? {} : { inReplyTo: original.messageId }),
    ...(references.length === 0 ? {} : { references: references.join(' ') }),
  };
}

/** Who a reply goes to: Reply-To, else From of the original; replyAll adds its To and Cc (not the replier). */
export function replyRecipientsOf(
  original: ParsedMail,
  all: boolean,
  self: string,
): { to: GraphRecipient[]; cc: GraphRecipient[] } {
  const replyTo = recipientsOf(original.replyTo);
  const to = replyTo.length > 0 ? replyTo : recipientsOf(original.from);
  if (!all) return { to, cc: [] };
  const mine = (r: GraphRecipient): boolean => r.emailAddress.address.toLowerCase() === self.toLowerCase();
  const seen = new Set(to.map((r) => r.emailAddress.address.toLowerCase()));
  const more = recipientsOf(original.to).filter((r) => !mine(r) && !seen.has(r.emailAddress.address.toLowerCase()));
  const cc = recipientsOf(original.cc).filter((r) => !mine(r) && !seen.has(r.emailAddress.address.toLowerCase()));
  return { to: [...to, ...more], cc };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function namesOf(list: readonly GraphRecipient[]): string {
  return list
    .map((r) =>
      r.emailAddress.name === r.emailAddress.address
        ? r.emailAddress.address
        : `${r.emailAddress.name} <${r.emailAddress.address}>`,
    )
    .join('; ');
}

/** The HTML body of a reply: the comment, then the original's header block and text, as Outlook quotes it. */
export function replyBody(comment: string, original: ParsedMail, receivedAt: Date): string {
  const quoted = escapeHtml(original.text ?? '').replace(/\r?\n/g, '<br>\r\n');
  return [
    '<html><head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n</head>\r\n<body>',
    `<div>${escapeHtml(comment).replace(/\r?\n/g, '<br>\r\n')}</div>`,
    '<hr style="display:inline-block;width:98%" tabindex="-1">',
    `<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> ${escapeHtml(namesOf(recipientsOf(original.from)))}<br>`,
    `<b>Sent:</b> ${graphDate(original.date ?? receivedAt)}<br>`,
    `<b>To:</b> ${escapeHtml(namesOf(recipientsOf(original.to)))}<br>`,
    `<b>Subject:</b> ${escapeHtml(original.subject ?? '')}</div>`,
    `<div>${quoted}</div>`,
    '</body></html>',
  ].join('\r\n');
}

/** `RE: subject`, unless the subject already starts with RE:. */
export function replySubject(subject: string | undefined): string {
  const base = subject ?? '';
  return /^re\s*:/i.test(base) ? base : `RE: ${base}`;
}
