/**
 * The parts of an outgoing message that are decided before it is stored: checked recipients,
 * attachments and body, the reply's recipients and subject, the quote of the message answered,
 * and the thread references. Every refusal names the field, as the API reports it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.6.3 (destination fields), §3.6.4 (threading), §3.6.5 (Subject "Re: ")
 * @see https://www.rfc-editor.org/rfc/rfc3676#section-4.5 (quoting with "> ")
 */
import { createHash } from 'node:crypto';
import { detectMimeType } from 'nodemailer/lib/mime-funcs';
import { isSyntheticMessageId, MAX_REFERENCES } from '../../domain/message-id.js';
import {
  checkOutboundAddress,
  sameAddress,
  type AddressInput,
  type OutboundAddress,
} from '../../domain/outbound-address.js';
import { addSubjectToken, normalizeSubject, subjectTokenTag } from '../../domain/subject.js';
import { PosternError } from '../../errors/index.js';
import { safeFilename } from '../../mail/mime/attachment-names.js';
import type { ComposeAttachment } from '../../mail/mime/compose.js';
import type { MessageRecord, StoredAddress } from '../../store/index.js';

/** An attachment as the API takes it. */
export interface AttachmentInput {
  readonly filename: string;
  /** Detected from the file name when absent. */
  readonly contentType?: string | null;
  readonly contentBase64: string;
  /** For an image the HTML shows with `cid:`. */
  readonly contentId?: string | null;
  readonly inline?: boolean;
}

/** One refused field. */
export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

/** Exchange Online's subject limit. */
export const MAX_SUBJECT_LENGTH = 255;
const MAX_ATTACHMENTS = 250;
const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;
const CONTENT_ID = /^[\x21-\x7e]{1,250}$/;
/** Checked on the value without trailing whitespace: `[…\r\n]*` then `\s*` would trade line breaks. */
const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}$/;

/** Collects refusals and throws them together as VALIDATION_FAILED. */
export class FieldProblems {
  readonly list: FieldProblem[] = [];

  add(field: string, problem: string): void {
    this.list.push({ field, problem });
  }

  throwIfAny(): void {
    if (this.list.length === 0) return;
    throw new PosternError('VALIDATION_FAILED', {
      message: `The message is invalid: ${this.list.map((f) => `${f.field}: ${f.problem}`).join('; ')}.`,
      details: { in: 'body', fields: this.list },
    });
  }
}

/** Checks a list of addresses; problems are named `field[index]`. Duplicates are dropped. */
export function checkAddressList(
  field: string,
  inputs: readonly AddressInput[],
  problems: FieldProblems,
): OutboundAddress[] {
  const out: OutboundAddress[] = [];
  inputs.forEach((input, index) => {
    const checked = checkOutboundAddress(input);
    if (!checked.ok) problems.add(`${field}[${index}]`, checked.problem);
    else if (!out.some((existing) => sameAddress(existing.address, checked.value.address))) out.push(checked.value);
  });
  return out;
}

/** Decodes and checks attachments; problems are named `attachments[index].field`. */
export function checkAttachments(inputs: readonly AttachmentInput[], problems: FieldProblems): ComposeAttachment[] {
  if (inputs.length > MAX_ATTACHMENTS)
    problems.add('attachments', `has ${inputs.length} attachments; Exchange Online accepts at most ${MAX_ATTACHMENTS}`);
  return inputs.flatMap((input, index) => {
    const where = `attachments[${index}]`;
    const before = problems.list.length;
    const name = input.filename;
    const contentType = (input.contentType ?? detectMimeType(name.slice(name.lastIndexOf('.') + 1)))
      .trim()
      .toLowerCase();
    const safe = safeFilename(name, index, contentType);
    if (name.trim() === '') problems.add(`${where}.filename`, 'is required');
    else if (safe !== name)
      problems.add(
        `${where}.filename`,
        `"${name}" is not a safe file name (no path, control or reserved characters, at most 180 characters); for example "${safe}"`,
      );
    if (!CONTENT_TYPE.test(contentType))
      problems.add(`${where}.contentType`, `"${input.contentType ?? ''}" is not a media type such as application/pdf`);
    if (!BASE64.test(input.contentBase64.trimEnd())) problems.add(`${where}.contentBase64`, 'must be base64');
    const contentId = input.contentId?.trim().replace(/^<|>$/g, '') ?? null;
    if (contentId !== null && !CONTENT_ID.test(contentId))
      problems.add(`${where}.contentId`, 'must be printable ASCII without spaces');
    if (problems.list.length > before) return [];
    return [
      {
        filename: name,
        contentType,
        content: Buffer.from(input.contentBase64, 'base64'),
        contentId,
        inline: input.inline === true || contentId !== null,
      },
    ];
  });
}

/** The stored form of checked addresses (Unicode domains, as shown to agents). */
export function storedAddresses(addresses: readonly OutboundAddress[]): StoredAddress[] {
  return addresses.map((address) => ({ name: address.name, address: address.display }));
}

/** The recipients of a reply to `parent`: its Reply-To or From (or, for our own message, its To); reply-all adds the other recipients. */
export function replyRecipients(
  parent: MessageRecord,
  ownAddresses: readonly string[],
  replyAll: boolean,
): { to: AddressInput[]; cc: AddressInput[] } {
  const own = (address: string): boolean => ownAddresses.some((mine) => sameAddress(mine, address));
  const asInput = (a: StoredAddress): AddressInput => ({ name: a.name, address: a.address });
  const primary = parent.direction === 'out' ? parent.to : parent.replyTo.length > 0 ? parent.replyTo : parent.from;
  const to = primary.filter((a) => !own(a.address));
  if (!replyAll) return { to: to.map(asInput), cc: [] };
  const taken = new Set(to.map((a) => a.address.toLowerCase()));
  const cc = [...(parent.direction === 'out' ? [] : parent.to), ...parent.cc].filter((a) => {
    const key = a.address.toLowerCase();
    if (own(a.address) || taken.has(key)) return false;
    taken.add(key);
    return true;
  });
  return { to: to.map(asInput), cc: cc.map(asInput) };
}

/**
 * `Re: <topic> [#P7-ABCD]`: one prefix, the conversation's token. A topic too long for Exchange
 * with both is cut (ending in `…`), so that the default reply to any received subject is accepted.
 */
export function replySubject(parentSubject: string, fallbackTopic: string, token: string | null): string {
  return prefixedSubject('Re: ', parentSubject, fallbackTopic, token);
}

/**
 * `Fw: <topic> [#P7-ABCD]`: a forward's subject, one prefix however many the forwarded message
 * had (`RE: FW: Offer` → `Fw: Offer`), cut as {@link replySubject} cuts.
 */
export function forwardSubject(parentSubject: string, fallbackTopic: string, token: string | null): string {
  return prefixedSubject('Fw: ', parentSubject, fallbackTopic, token);
}

function prefixedSubject(prefix: string, parentSubject: string, fallbackTopic: string, token: string | null): string {
  const full = normalizeSubject(parentSubject) || fallbackTopic;
  const room = MAX_SUBJECT_LENGTH - prefix.length - (token === null ? 0 : subjectTokenTag(token).length + 1);
  const topic =
    [...full].length <= room
      ? full
      : `${[...full.slice(0, room * 2)]
          .slice(0, room - 1)
          .join('')
          .trimEnd()}…`;
  const subject = `${prefix}${topic}`.trim();
  return token === null ? subject : addSubjectToken(subject, token);
}

/** The subject with the conversation's token, refused when too long for Exchange. */
export function subjectWithToken(
  subject: string,
  token: string | null,
  problems: FieldProblems,
  field = 'subject',
): string {
  const full = token === null ? subject.trim() : addSubjectToken(subject, token);
  if (/[\r\n]/.test(subject)) problems.add(field, 'must be one line');
  // A NUL is no line break, but it ends a header for some MTAs and clients just the same.
  if (subject.includes('\u0000')) problems.add(field, 'must not contain NUL characters');
  if ([...full].length > MAX_SUBJECT_LENGTH)
    problems.add(
      field,
      `must be at most ${MAX_SUBJECT_LENGTH - (full.length - subject.trim().length)} characters (Exchange Online allows ${MAX_SUBJECT_LENGTH}, with the conversation token)`,
    );
  return full;
}

/** In-Reply-To and References of a reply: the parent's references and its id (RFC 5322 §3.6.4). */
export function threadReferences(parent: MessageRecord | undefined): {
  inReplyTo: string | null;
  references: string[];
} {
  if (parent === undefined) return { inReplyTo: null, references: [] };
  const own = parent.messageId !== null && !isSyntheticMessageId(parent.messageId) ? parent.messageId : null;
  const ids = [...parent.references.filter((id) => !isSyntheticMessageId(id)), ...(own === null ? [] : [own])];
  const unique = [...new Set(ids)];
  const capped =
    unique.length <= MAX_REFERENCES ? unique : [unique[0] ?? '', ...unique.slice(unique.length - (MAX_REFERENCES - 1))];
  return { inReplyTo: own, references: capped };
}

/** The body with the parent quoted below it (text with "> ", HTML in a cite blockquote). */
export function quoteParent(
  body: { text: string | null; html: string | null },
  parent: MessageRecord,
): { text: string | null; html: string | null } {
  const sender = parent.from[0];
  const who =
    sender === undefined ? 'the sender' : sender.name === '' ? sender.address : `${sender.name} <${sender.address}>`;
  const when = parent.headerDate ?? parent.receivedAt;
  const intro = `On ${new Date(when).toUTCString()}, ${who} wrote:`;
  const quotedText = (parent.text ?? '')
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => (line.startsWith('>') ? `>${line}` : `> ${line}`))
    .join('\n');
  const text = body.text === null ? null : `${body.text}\n\n${intro}\n${quotedText}\n`;
  // Stored HTML marks inline images of the parent by position; those do not travel with a reply.
  const parentHtml =
    parent.html === null
      ? `<pre>${escapeHtml(parent.text ?? '')}</pre>`
      : parent.html.replace(/\sdata-postern-[a-z-]+="[^"]*"/g, '');
  const html =
    body.html === null
      ? null
      : `${body.html}<br><div>${escapeHtml(intro)}</div><blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">${parentHtml}</blockquote>`;
  return { text, html };
}

/** The line that opens a forwarded message's block, as mail clients write it. */
export const FORWARD_SEPARATOR = '---------- Forwarded message ----------';

/**
 * The body with the forwarded message below it: its From, Date, Subject, To (and Cc) in plain
 * words, then its text; in HTML its own HTML (the agent's text in a paragraph of its own when they
 * wrote no HTML), so that a forward keeps the original's formatting.
 */
export function forwardParent(
  body: { text: string | null; html: string | null },
  original: MessageRecord,
): { text: string; html: string | null } {
  const list = (addresses: readonly StoredAddress[]): string =>
    addresses.map((a) => (a.name === '' ? a.address : `${a.name} <${a.address}>`)).join(', ');
  const headers = [
    `From: ${list(original.from)}`,
    `Date: ${new Date(original.headerDate ?? original.receivedAt).toUTCString()}`,
    `Subject: ${original.subject}`,
    `To: ${list(original.to)}`,
    ...(original.cc.length === 0 ? [] : [`Cc: ${list(original.cc)}`]),
  ];
  const ownText = body.text === null || body.text.trim() === '' ? '' : `${body.text}\n\n`;
  const text = `${ownText}${FORWARD_SEPARATOR}\n${headers.join('\n')}\n\n${(original.text ?? '').replace(/\r\n/g, '\n')}\n`;
  if (body.html === null && original.html === null) return { text, html: null };
  const ownHtml =
    body.html ??
    (body.text === null || body.text.trim() === ''
      ? ''
      : `<div style="white-space:pre-wrap">${escapeHtml(body.text)}</div>`);
  // Stored HTML marks inline images of the original by position; those do not travel with it.
  const originalHtml =
    original.html === null
      ? `<pre>${escapeHtml(original.text ?? '')}</pre>`
      : original.html.replace(/\sdata-postern-[a-z-]+="[^"]*"/g, '');
  const html = `${ownHtml}<br><div>${escapeHtml(FORWARD_SEPARATOR)}<br>${headers.map(escapeHtml).join('<br>')}</div><br>${originalHtml}`;
  return { text, html };
}

/** A stable digest of a request, for idempotency keys. */
export function requestDigest(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
