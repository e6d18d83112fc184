/**
 * Presenters of conversations and messages: allowlists of the fields an agent may see, and the
 * URLs of raw MIME and attachments. Inline images, stored as `data-postern-inline="<position>"`
 * by the sanitizer, get the download URL of the attachment at that position.
 */
import { z } from 'zod';
import type { InteractionDetail } from '../../../services/interaction-service.js';
import type {
  AttachmentMeta,
  ContactRecord,
  InteractionRecord,
  InteractionSummary,
  MessageRecord,
} from '../../../store/index.js';

const address = z.object({ name: z.string(), address: z.string() });

export const interactionReply = z.object({
  id: z.number().int(),
  accountId: z.number().int(),
  subject: z.string(),
  subjectToken: z.string().nullable(),
  status: z.enum(['open', 'closed']),
  assignedUserId: z.number().int().nullable(),
  contact: z.object({ id: z.number().int(), name: z.string().nullable(), address: z.string().nullable() }),
  lastActivityAt: z.string(),
  messageCount: z.number().int(),
  unreadCount: z.number().int(),
  closedAt: z.string().nullable(),
  createdAt: z.string(),
});

export const attachmentReply = z.object({
  id: z.number().int(),
  filename: z.string().nullable(),
  contentType: z.string(),
  size: z.number().int(),
  contentId: z.string().nullable(),
  inline: z.boolean(),
  url: z.string(),
});

export const messageReply = z.object({
  id: z.number().int(),
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
  deliveryState: z.string().nullable().describe('outbound: queued, sending, sent, failed…'),
  deliveryError: z.string().nullable(),
  rawUrl: z.string(),
  attachments: z.array(attachmentReply),
});

export const interactionDetailReply = interactionReply.extend({ messages: z.array(messageReply) });

/** A conversation as listed (the contact's name and address come with the row). */
export function presentInteractionSummary(interaction: InteractionSummary): z.infer<typeof interactionReply> {
  return presentInteraction(interaction, {
    id: interaction.contactId,
    name: interaction.contactName,
    address: interaction.contactAddress,
  });
}

/** A conversation with its contact. */
export function presentInteraction(
  interaction: InteractionRecord,
  contact: { id: number; name: string | null; address: string | null },
): z.infer<typeof interactionReply> {
  return {
    id: interaction.id,
    accountId: interaction.accountId,
    subject: interaction.subject,
    subjectToken: interaction.subjectToken,
    status: interaction.status,
    assignedUserId: interaction.assignedUserId,
    contact,
    lastActivityAt: interaction.lastActivityAt,
    messageCount: interaction.messageCount,
    unreadCount: interaction.unreadCount,
    closedAt: interaction.closedAt,
    createdAt: interaction.createdAt,
  };
}

/** A conversation, its contact and its messages. */
export function presentInteractionDetail(detail: InteractionDetail): z.infer<typeof interactionDetailReply> {
  return {
    ...presentInteraction(detail.interaction, contactOf(detail.interaction, detail.contact)),
    messages: detail.messages.map(presentMessage),
  };
}

/** A conversation after an action, whose contact is not loaded again. */
export function presentInteractionRecord(interaction: InteractionRecord): z.infer<typeof interactionReply> {
  return presentInteraction(interaction, { id: interaction.contactId, name: null, address: null });
}

/** A message, with the URLs of its raw MIME and attachments. */
export function presentMessage(message: MessageRecord): z.infer<typeof messageReply> {
  return {
    id: message.id,
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
    rawUrl: rawUrl(message.id),
    attachments: message.attachments.map((attachment) => presentAttachment(message.id, attachment)),
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

function contactOf(
  interaction: InteractionRecord,
  contact: ContactRecord | undefined,
): { id: number; name: string | null; address: string | null } {
  return { id: interaction.contactId, name: contact?.name ?? null, address: contact?.addresses[0] ?? null };
}
