/**
 * The one presenter of a message, wherever the API shows one: in a conversation
 * (`GET /api/interactions/{id}`) and alone with its delivery (`GET /api/messages/{id}`, and the
 * answers of retry and cancel). An allowlist: the raw MIME and attachment contents are links, never
 * part of it. Inline images, stored as `data-postern-inline="<position>"` by the sanitizer, get the
 * download URL of the attachment at that position.
 */
import { z } from 'zod';
import type { AttachmentMeta, MessageRecord, OutboxRecord } from '../../../store/index.js';
import { bounceAdvice } from '../../../domain/bounce-advice.js';

const address = z.object({ name: z.string(), address: z.string() });
const problem = z.object({ code: z.string(), message: z.string(), remedy: z.string().nullable() });

export const attachmentReply = z.object({
  id: z.number().int(),
  filename: z.string().nullable(),
  contentType: z.string(),
  size: z.number().int(),
  contentId: z.string().nullable(),
  inline: z.boolean(),
  removed: z
    .boolean()
    .describe(
      "The file's bytes went with the account's retention of originals: its URL answers 410 MESSAGE_ORIGINAL_EXPIRED",
    ),
  url: z.string(),
});

export const messageReply = z.object({
  id: z.number().int(),
  interactionId: z.number().int().nullable(),
  direction: z.enum(['in', 'out']),
  messageId: z.string().nullable(),
  inReplyTo: z.string().nullable(),
  references: z.array(z.string()),
  from: z.array(address),
  to: z.array(address),
  cc: z.array(address),
  bcc: z.array(address),
  replyTo: z.array(address),
  subject: z.string(),
  text: z.string().nullable(),
  html: z.string().nullable(),
  date: z.string().nullable(),
  receivedAt: z.string(),
  read: z.boolean(),
  automated: z.object({ autoReply: z.boolean(), bounce: z.boolean(), list: z.boolean() }),
  junk: z.boolean(),
  size: z.number().int().nullable(),
  deliveryState: z.string().nullable().describe('outbound: queued, sending, sent, failed, cancelled; null inbound'),
  deliveryError: z.string().nullable(),
  state: z.string().nullable().describe('the same as deliveryState'),
  authorUserId: z
    .number()
    .int()
    .nullable()
    .describe(
      'Outbound: the user who wrote it; null inbound, for mail sent outside Postern, or once the user was deleted',
    ),
  authorName: z.string().nullable().describe("Outbound: that user's display name"),
  delivery: z
    .object({
      attempts: z.number().int(),
      nextAttemptAt: z.string().nullable(),
      lastAttemptAt: z.string().nullable(),
      sentAt: z.string().nullable(),
      serverResponse: z.string().nullable(),
      error: problem.nullable(),
    })
    .nullable()
    .describe(
      "The outbox's account of an outbound message (on /api/messages/{id} and in a conversation); null inbound",
    ),
  bounces: z
    .array(
      z.object({
        address: z.string(),
        action: z.string().describe('failed or delayed'),
        status: z.string().nullable().describe('enhanced status code, e.g. 5.1.10'),
        diagnostic: z.string().nullable().describe("the remote server's words"),
        advice: z.string(),
        at: z.string(),
        reportId: z.number().int().describe('the non-delivery report, a message of the same conversation'),
      }),
    )
    .describe('Outbound: what non-delivery reports said, per recipient; empty when none came'),
  rawUrl: z.string(),
  originalRemovedAt: z
    .string()
    .nullable()
    .describe(
      "When the account's retention (rawRetentionDays) removed the raw MIME: rawUrl then answers 410 MESSAGE_ORIGINAL_EXPIRED; null while it is kept",
    ),
  attachments: z.array(attachmentReply),
  createdAt: z.string(),
});

/**
 * A message, with the URLs of its raw MIME and attachments and, when given, its outbox row and
 * the name of the user who wrote it.
 */
export function presentMessage(
  message: MessageRecord,
  outbox: OutboxRecord | null = null,
  authorName: string | null = null,
): z.infer<typeof messageReply> {
  return {
    id: message.id,
    interactionId: message.interactionId,
    direction: message.direction,
    messageId: message.messageId,
    inReplyTo: message.inReplyTo,
    references: message.references,
    from: message.from,
    to: message.to,
    cc: message.cc,
    bcc: message.bcc,
    replyTo: message.replyTo,
    subject: message.subject,
    text: message.text,
    html: message.html === null ? null : linkInlineImages(message.html, message.id, message.attachments),
    date: message.headerDate,
    receivedAt: message.receivedAt,
    read: message.isRead,
    automated: { autoReply: message.isAutoReply, bounce: message.isBounce, list: message.isList },
    junk: message.isJunk,
    size: message.rawSize,
    deliveryState: message.deliveryState,
    deliveryError: message.deliveryError,
    state: message.deliveryState,
    authorUserId: message.authorUserId,
    authorName: message.authorUserId === null ? null : authorName,
    delivery: outbox === null ? null : presentDelivery(outbox),
    bounces: message.bounces.map((bounce) => ({ ...bounce, advice: bounceAdvice(bounce) })),
    rawUrl: rawUrl(message.id),
    originalRemovedAt: message.originalRemovedAt,
    attachments: message.attachments.map((attachment) => presentAttachment(message.id, attachment)),
    createdAt: message.createdAt,
  };
}

/** Attempts, the server's reply when sent, the error and its remedy when not. */
function presentDelivery(outbox: OutboxRecord): NonNullable<z.infer<typeof messageReply>['delivery']> {
  return {
    attempts: outbox.attempts,
    nextAttemptAt: outbox.state === 'queued' ? outbox.nextAttemptAt : null,
    lastAttemptAt: outbox.lastAttemptAt,
    sentAt: outbox.sentAt,
    serverResponse: outbox.lastResponse,
    error:
      outbox.state === 'sent' || outbox.lastError === null
        ? null
        : { code: outbox.lastError.code, message: outbox.lastError.message, remedy: outbox.lastError.remedy },
  };
}

function presentAttachment(messageId: number, attachment: AttachmentMeta): z.infer<typeof attachmentReply> {
  return {
    id: attachment.id,
    filename: attachment.filename,
    contentType: attachment.contentType,
    size: attachment.size,
    contentId: attachment.contentId,
    inline: attachment.inline,
    removed: attachment.removed,
    url: attachmentUrl(messageId, attachment.id),
  };
}

/** The download URL of a message's raw MIME. */
export function rawUrl(messageId: number): string {
  return `/api/messages/${messageId}/raw`;
}

/** The download URL of an attachment. */
export function attachmentUrl(messageId: number, attachmentId: number): string {
  return `/api/messages/${messageId}/attachments/${attachmentId}`;
}

/**
 * Gives each inline image written by the sanitizer (`data-postern-inline="<position>"`) the URL of
 * the attachment at that position. The pattern matches only the sanitizer's own attribute, whose
 * value is digits, so no other markup is touched.
 */
export function linkInlineImages(html: string, messageId: number, attachments: readonly AttachmentMeta[]): string {
  return html.replace(/data-postern-inline="(\d+)"/g, (whole, position: string) => {
    const attachment = attachments[Number(position)];
    return attachment === undefined ? whole : `src="${attachmentUrl(messageId, attachment.id)}" ${whole}`;
  });
}
