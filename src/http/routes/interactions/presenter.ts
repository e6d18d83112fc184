/**
 * Presenters of conversations: allowlists of the fields an agent may see. Their messages are
 * presented as everywhere else, by the messages presenter.
 */
import { z } from 'zod';
import type { Assignee, InteractionDetail, NamedInteraction } from '../../../services/inbox/interaction-service.js';
import type { ContactRecord, InteractionRecord, InteractionSummary, NoteRecord } from '../../../store/index.js';
import { messageReply, presentMessage } from '../messages/presenter.js';

export const interactionReply = z.object({
  id: z.number().int(),
  accountId: z.number().int(),
  subject: z.string(),
  subjectToken: z.string().nullable(),
  status: z.enum(['open', 'closed']),
  assignedUserId: z.number().int().nullable(),
  assignedUserName: z.string().nullable().describe('the display name of the assigned user'),
  contact: z.object({ id: z.number().int(), name: z.string().nullable(), address: z.string().nullable() }),
  lastActivityAt: z.string(),
  messageCount: z.number().int(),
  unreadCount: z.number().int(),
  closedAt: z.string().nullable(),
  snoozedUntil: z.string().nullable().describe('when a snoozed conversation comes back; null when not snoozed'),
  createdAt: z.string(),
});

export const noteReply = z.object({
  id: z.number().int(),
  interactionId: z.number().int(),
  authorUserId: z.number().int().nullable().describe('null once the author was deleted'),
  authorName: z.string().nullable(),
  body: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const interactionDetailReply = interactionReply.extend({
  messages: z.array(messageReply),
  notes: z.array(noteReply).describe('internal notes, oldest first: never sent to the customer'),
  replying: z
    .array(
      z.object({
        userId: z.number().int(),
        displayName: z.string(),
        expiresInMs: z.number().int().describe('how long this holds unless the colleague saves their draft again'),
      }),
    )
    .describe('colleagues writing a reply now (a draft saved in the last two minutes), the caller left out'),
});

/** An internal note. */
export function presentNote(note: NoteRecord): z.infer<typeof noteReply> {
  return {
    id: note.id,
    interactionId: note.interactionId,
    authorUserId: note.authorUserId,
    authorName: note.authorName,
    body: note.body,
    createdAt: note.createdAt,
    updatedAt: note.updatedAt,
  };
}

/** A conversation as listed (the contact's name and address come with the row). */
export function presentInteractionSummary(interaction: InteractionSummary): z.infer<typeof interactionReply> {
  return presentInteraction(
    interaction,
    { id: interaction.contactId, name: interaction.contactName, address: interaction.contactAddress },
    interaction.assignedUserName,
  );
}

/** A conversation with its contact. */
export function presentInteraction(
  interaction: InteractionRecord,
  contact: { id: number; name: string | null; address: string | null },
  assignedUserName: string | null,
): z.infer<typeof interactionReply> {
  return {
    id: interaction.id,
    accountId: interaction.accountId,
    subject: interaction.subject,
    subjectToken: interaction.subjectToken,
    status: interaction.status,
    assignedUserId: interaction.assignedUserId,
    assignedUserName: interaction.assignedUserId === null ? null : assignedUserName,
    contact,
    lastActivityAt: interaction.lastActivityAt,
    messageCount: interaction.messageCount,
    unreadCount: interaction.unreadCount,
    closedAt: interaction.closedAt,
    snoozedUntil: interaction.snoozedUntil,
    createdAt: interaction.createdAt,
  };
}

/** A conversation, its contact and its messages. */
export function presentInteractionDetail(detail: InteractionDetail): z.infer<typeof interactionDetailReply> {
  return {
    ...presentInteraction(detail.interaction, contactOf(detail.interaction, detail.contact), detail.assignedUserName),
    messages: detail.messages.map((message) =>
      presentMessage(
        message,
        detail.outbox.get(message.id) ?? null,
        message.authorUserId === null ? null : (detail.authorNames.get(message.authorUserId) ?? null),
      ),
    ),
    notes: detail.notes.map(presentNote),
    replying: detail.replying.map((r) => ({
      userId: r.userId,
      displayName: r.displayName,
      expiresInMs: r.expiresInMs,
    })),
  };
}

/** A conversation after an action, whose contact is not loaded again. */
export function presentInteractionRecord(named: NamedInteraction): z.infer<typeof interactionReply> {
  const { interaction } = named;
  return presentInteraction(
    interaction,
    { id: interaction.contactId, name: null, address: null },
    named.assignedUserName,
  );
}

export const assigneesReply = z.object({
  items: z.array(
    z.object({ id: z.number().int(), username: z.string(), displayName: z.string(), role: z.enum(['admin', 'agent']) }),
  ),
});

/** Who a conversation can be assigned to. */
export function presentAssignees(assignees: readonly Assignee[]): z.infer<typeof assigneesReply> {
  return {
    items: assignees.map((a) => ({ id: a.id, username: a.username, displayName: a.displayName, role: a.role })),
  };
}

function contactOf(
  interaction: InteractionRecord,
  contact: ContactRecord | undefined,
): { id: number; name: string | null; address: string | null } {
  return { id: interaction.contactId, name: contact?.name ?? null, address: contact?.addresses[0] ?? null };
}
