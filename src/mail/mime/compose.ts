/**
 * Builds outgoing messages with nodemailer's MailComposer. The bytes returned are stored as the
 * message's raw MIME and submitted unchanged, so the stored message is exactly what was sent.
 *
 * - `From` is the account's address with its name (for a shared mailbox its own address: it sends
 *   as itself; the delegate only signs in). Bcc recipients are never written into the header:
 *   they are in the SMTP envelope only.
 * - `Message-ID` is on the account's domain; `In-Reply-To` and `References` carry the thread;
 *   `Thread-Topic` and `Thread-Index` keep Outlook's conversation; the subject carries the
 *   interaction's token (done by the caller, see domain/subject.ts).
 * - Non-ASCII names and subjects become RFC 2047 encoded words; bodies are quoted-printable or
 *   base64 as nodemailer judges best; lines end with CRLF.
 * - `Auto-Submitted` (RFC 3834) marks machine-sent mail, with `X-Auto-Response-Suppress: All` so
 *   that Exchange and Outlook send no automatic answer to it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.6 (origination, destination, identification fields)
 * @see https://www.rfc-editor.org/rfc/rfc2047 (encoded words), https://www.rfc-editor.org/rfc/rfc2045 (transfer encodings)
 * @see https://www.rfc-editor.org/rfc/rfc3834#section-5 (Auto-Submitted)
 * @see https://learn.microsoft.com/openspecs/exchange_server_protocols/ms-oxcmail/ced68690-498a-4567-9d14-5c01f974d8b1 (X-Auto-Response-Suppress)
 * @see https://nodemailer.com/extras/mailcomposer/
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import { htmlToText } from './html-to-text.js';
import { sanitizeHtml } from './sanitize-html.js';

/** A name and an address (A-label domain). */
export interface ComposeAddress {
  readonly name: string;
  readonly address: string;
}

/** An attachment of an outgoing message. */
export interface ComposeAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly content: Buffer;
  /** Without angle brackets; set for an image the HTML shows with `cid:`. */
  readonly contentId?: string | null;
  readonly inline?: boolean;
}

/** Marks machine-sent mail (RFC 3834). */
export type AutoSubmitted = 'no' | 'auto-generated' | 'auto-replied';

/** Everything the message is built from. */
export interface ComposeInput {
  readonly from: ComposeAddress;
  readonly to: readonly ComposeAddress[];
  readonly cc: readonly ComposeAddress[];
  readonly replyTo?: readonly ComposeAddress[];
  readonly subject: string;
  readonly text: string | null;
  /** Already sanitized (see {@link sanitizeOutgoingHtml}). */
  readonly html: string | null;
  /** Canonical `<left@right>`. */
  readonly messageId: string;
  readonly inReplyTo: string | null;
  readonly references: readonly string[];
  readonly date: Date;
  /** The conversation topic: the subject without prefixes and token. */
  readonly threadTopic: string;
  readonly threadIndex: Buffer;
  readonly autoSubmitted: AutoSubmitted;
  readonly attachments: readonly ComposeAttachment[];
}

/**
 * The raw message. Throws only on input that the caller should have validated (e.g. a header
 * value nodemailer refuses).
 */
export async function composeMessage(input: ComposeInput): Promise<Buffer> {
  const headers: Record<string, string> = {
    'Thread-Topic': input.threadTopic,
    'Thread-Index': input.threadIndex.toString('base64'),
  };
  if (input.autoSubmitted !== 'no') {
    headers['Auto-Submitted'] = input.autoSubmitted;
    headers['X-Auto-Response-Suppress'] = 'All';
  }
  const composer = new MailComposer({
    from: toNodemailer(input.from),
    to: input.to.map(toNodemailer),
    ...(input.cc.length === 0 ? {} : { cc: input.cc.map(toNodemailer) }),
    ...(input.replyTo === undefined || input.replyTo.length === 0 ? {} : { replyTo: input.replyTo.map(toNodemailer) }),
    subject: input.subject,
    messageId: input.messageId,
    date: input.date,
    ...(input.inReplyTo === null ? {} : { inReplyTo: input.inReplyTo }),
    ...(input.references.length === 0 ? {} : { references: [...input.references] }),
    ...(input.text === null ? {} : { text: input.text }),
    ...(input.html === null ? {} : { html: input.html }),
    ...(input.text === null && input.html === null ? { text: '' } : {}),
    headers,
    attachments: input.attachments.map((attachment) => ({
      filename: attachment.filename,
      content: attachment.content,
      contentType: attachment.contentType,
      ...(attachment.contentId === null || attachment.contentId === undefined ? {} : { cid: attachment.contentId }),
      ...(attachment.inline === true ? { contentDisposition: 'inline' } : {}),
    })),
    newline: 'windows',
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return composer.compile().build();
}

/** A Message-ID on the account's domain: `<postern.<time>.<random>@domain>`. */
export function newMessageId(domain: string, at: Date, random: (size: number) => Uint8Array): string {
  const token = Buffer.from(random(12)).toString('hex');
  return `<postern.${at.getTime().toString(36)}.${token}@${domain.toLowerCase()}>`;
}

/** An inline image the HTML may show with `cid:`. */
export interface InlineTarget {
  readonly contentId: string;
}

/**
 * Outgoing HTML, sanitized like inbound mail (no scripts, handlers, forms, frames, CSS that
 * loads anything) but keeping remote images — the agent chose to send them — and `cid:`
 * references to the message's own inline attachments.
 */
export function sanitizeOutgoingHtml(html: string, inline: readonly InlineTarget[]): string {
  const cidTargets = inline.map((target, index) => ({ contentId: target.contentId, index }));
  const sanitized = sanitizeHtml(html, { cidTargets, allowRemoteImages: true }).html;
  // The sanitizer marks resolved cid: images by position; they go out as cid: again.
  return sanitized.replace(/data-postern-inline="(\d+)"/g, (_whole, position: string) => {
    const target = inline[Number(position)];
    return target === undefined ? '' : `src="cid:${escapeAttribute(target.contentId)}"`;
  });
}

/**
 * The body with its text alternative: a message given as HTML alone gets a text part derived
 * from its sanitized HTML (./html-to-text.ts), so that it goes out as multipart/alternative and a
 * reader without HTML sees the same words. A text given by the caller is kept as it is.
 * @see https://www.rfc-editor.org/rfc/rfc2046#section-5.1.4
 */
export function withTextAlternative(body: { readonly text?: string | null; readonly html?: string | null }): {
  text: string | null;
  html: string | null;
} {
  const html = body.html ?? null;
  const text = body.text ?? null;
  if (text !== null || html === null) return { text, html };
  return { text: htmlToText(sanitizeOutgoingHtml(html, [])), html };
}

function toNodemailer(address: ComposeAddress): { name: string; address: string } {
  return { name: address.name, address: address.address };
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
