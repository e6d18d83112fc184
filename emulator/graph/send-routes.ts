/**
 * Sending through the emulated Graph API, with the same mail flow as SMTP submission:
 *
 * - `POST …/sendMail` — JSON `{ message, saveToSentItems }` or, with `Content-Type: text/plain`,
 *   base64 MIME; 202 with no body.
 * - `POST …/messages/{id}/reply` and `…/replyAll` — JSON `{ comment, message }` (not both a comment
 *   and `message.body`: 400) or base64 MIME; 202. The original gets `\Answered`.
 *
 * The From address must be the mailbox's own or one the caller has Send As on (otherwise 403
 * `ErrorSendAsDenied`). Accepted mail is recorded through the Exchange half's mail router (via
 * `graph`), copied to the Sent Items of the mailbox in the path unless `saveToSentItems` is false,
 * counted against the mailbox's rolling-day recipient quota and delivered on the same 30-a-minute
 * schedule as SMTP: emulated mailboxes get it in their Inbox, everyone else is the outside sink.
 *
 * A base64 MIME body over 4 MB (Graph's request limit) is `413 RequestEntityTooLarge`: a larger
 * message goes through a draft (draft-routes.ts). A message over the MaxSendSize of the mailbox in
 * the path or of its From (`PUT /_emulator/exchange/settings/max-send-size`, shared with SMTP) is
 * `400 ErrorMessageSizeExceeded`, whichever way it was sent (sendMail, reply, a draft's send).
 *
 * @see https://learn.microsoft.com/graph/api/user-sendmail
 * @see https://learn.microsoft.com/graph/api/message-reply
 * @see https://learn.microsoft.com/graph/outlook-send-mail-from-other-user
 * @see ../../../shared/reference/microsoft-protocols.md §6, §8
 */
import { empty, mailboxOf, type GraphCall, type GraphResult } from './graph-call.js';
import { maySendAs } from './graph-auth.js';
import { graphErrors } from './graph-errors.js';
import {
  completeMime,
  composeMessage,
  decodeMimeBody,
  parseMessageInput,
  replyBody,
  replyHeadersOf,
  replyRecipientsOf,
  replySchema,
  replySubject,
  sendMailSchema,
  type ComposedMessage,
  type MessageInput,
  type SendingMailbox,
} from './message-compose.js';
import { parsedOf } from './message-view.js';

/** The sending identity: the mailbox of the request path. */
export function senderOf(call: GraphCall): SendingMailbox {
  const mailbox = call.target.mailbox;
  if (mailbox === undefined) throw graphErrors.mailboxNotEnabled();
  return { address: mailbox.address, displayName: mailbox.displayName };
}

/** True for a base64 MIME body (`Content-Type: text/plain`). */
export function isMime(call: GraphCall): boolean {
  return call.contentType.startsWith('text/plain');
}

/** Refuses a body that is neither MIME nor JSON. */
export function requireJson(call: GraphCall): void {
  if (!call.contentType.startsWith('application/json')) throw graphErrors.unsupportedMediaType();
}

/** `403 ErrorSendAsDenied` unless the caller may send as `fromAddress`. */
export function checkSendAs(call: GraphCall, fromAddress: string): void {
  if (!maySendAs(call.principal, call.target, fromAddress, call.deps.directory)) throw graphErrors.sendAsDenied();
}

/** Submits a composed message from the path's mailbox, as SMTP submission does. */
export function submit(call: GraphCall, composed: ComposedMessage, saveToSentItems: boolean): void {
  const { exchange } = call.deps;
  const mailbox = mailboxOf(call);
  if (exchange.sendSize.exceeded([mailbox.address, composed.fromAddress], composed.raw.length) !== undefined)
    throw graphErrors.messageSizeExceeded();
  if (!exchange.smtp.limits.takeRecipients(mailbox.address, composed.recipients.length))
    throw graphErrors.submissionQuotaExceeded();
  const record = exchange.router.recordSubmission({
    via: 'graph',
    mailbox: mailbox.address,
    envelopeFrom: composed.fromAddress,
    recipients: composed.recipients,
    raw: composed.raw,
  });
  if (!saveToSentItems && record.sentItemsUid !== null) {
    // The router always files a Sent Items copy (SMTP behaviour); Graph was asked not to keep one.
    const sentItems = mailbox.folders.wellKnown('sentitems');
    mailbox.store.expunge(mailbox.address, sentItems, { uids: [record.sentItemsUid], force: true });
    record.sentItemsUid = null;
  }
  exchange.smtp.queue.enqueue(record, exchange.smtp.limits.scheduleDelivery(mailbox.address));
}

/**
 * Graph's limit on one request: 4 MB. A larger message goes through a draft and upload sessions.
 * The emulator checks it on base64 MIME bodies (the JSON body of a send is not measured).
 *
 * @see https://learn.microsoft.com/graph/api/user-sendmail
 */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** `413 RequestEntityTooLarge` for a base64 MIME body over Graph's request limit. */
export function checkRequestSize(call: GraphCall): void {
  if (typeof call.body === 'string' && call.body.length > MAX_REQUEST_BYTES) throw graphErrors.payloadTooLarge();
}

/** `POST …/sendMail`. */
export async function sendMail(call: GraphCall): Promise<GraphResult> {
  const sender = senderOf(call);
  const now = call.deps.clock.nowMs();
  if (isMime(call)) {
    checkRequestSize(call);
    const composed = completeMime(decodeMimeBody(call.body), sender, now);
    checkSendAs(call, composed.fromAddress);
    submit(call, composed, true);
    return empty(202);
  }
  requireJson(call);
  const parsed = sendMailSchema.safeParse(call.body);
  if (!parsed.success)
    throw graphErrors.invalidRequest('The request body must be { "message": {…}, "saveToSentItems": true|false }.');
  if (parsed.data.message === undefined) throw graphErrors.invalidRequest('The message parameter is required.');
  const composed = await composeMessage(parseMessageInput(parsed.data.message), sender, now);
  checkSendAs(call, composed.fromAddress);
  submit(call, composed, parsed.data.saveToSentItems ?? true);
  return empty(202);
}

/** `POST …/messages/{id}/reply` and `…/replyAll`. */
export async function replyToMessage(call: GraphCall, id: string, all: boolean): Promise<GraphResult> {
  const mailbox = mailboxOf(call);
  const sender = senderOf(call);
  const located = mailbox.findMessage(id);
  const original = await parsedOf(located.message.content);
  const now = call.deps.clock.nowMs();
  const recipients = replyRecipientsOf(original, all, sender.address);
  let composed: ComposedMessage;
  if (isMime(call)) {
    const to = [...recipients.to, ...recipients.cc].map((r) => r.emailAddress.address);
    composed = completeMime(decodeMimeBody(call.body), sender, now, {
      fallbackRecipients: to,
      reply: replyHeadersOf(original),
    });
  } else {
    requireJson(call);
    const parsed = replySchema.safeParse(call.body ?? {});
    if (!parsed.success)
      throw graphErrors.invalidRequest('The request body must be { "comment": "…", "message": {…} }.');
    const message: MessageInput = parsed.data.message === undefined ? {} : parseMessageInput(parsed.data.message);
    if (parsed.data.comment !== undefined && message.body !== undefined) {
      throw graphErrors.invalidRequest(
        'Specify either a comment or the body property of the message parameter, not both.',
      );
    }
    const added = message.toRecipients ?? [];
    const known = new Set(recipients.to.map((r) => r.emailAddress.address.toLowerCase()));
    const input: MessageInput = {
      ...message,
      subject: message.subject ?? replySubject(original.subject),
      toRecipients: [...recipients.to, ...added.filter((r) => !known.has(r.emailAddress.address.toLowerCase()))],
      ccRecipients: message.ccRecipients ?? recipients.cc,
      body: message.body ?? {
        contentType: 'html',
        content: replyBody(parsed.data.comment ?? '', original, located.message.internalDate),
      },
    };
    composed = await composeMessage(input, sender, now, replyHeadersOf(original));
  }
  checkSendAs(call, composed.fromAddress);
  submit(call, composed, true);
  mailbox.store.setFlags(mailbox.address, located.folder, [located.message.uid], 'add', ['\\Answered']);
  return empty(202);
}
