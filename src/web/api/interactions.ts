import { request, send } from './client.js';
import {
  addressCheck,
  assignees,
  type Assignees,
  replyDraft,
  type DraftRecipients,
  type ReplyDraft,
  replyRecipients,
  type AddressCheck,
  type MailAddress,
  type ReplyRecipients,
  interaction,
  interactionDetail,
  interactionPage,
  note,
  type Note,
  outgoing,
  queued,
  type Interaction,
  type InteractionDetail,
  type InteractionPage,
  type Outgoing,
  type Queued,
} from './schemas.js';

export interface ConversationFilter {
  status?: 'open' | 'closed';
  assigned?: 'me' | 'none';
  snoozed?: 'hide' | 'only';
  q?: string;
  cursor?: string;
  limit?: number;
}

export function listInteractions(accountId: number, filter: ConversationFilter): Promise<InteractionPage> {
  return request('GET', `/api/email/accounts/${accountId}/interactions`, interactionPage, { query: { ...filter } });
}

export function getInteraction(id: number): Promise<InteractionDetail> {
  return request('GET', `/api/interactions/${id}`, interactionDetail);
}

/** Assigns (or unassigns, `null`) a conversation; with `note`, an internal note for the new owner is saved with it. */
export function assignInteraction(id: number, userId: number | null, note?: string): Promise<Interaction> {
  return request('POST', `/api/interactions/${id}/assign`, interaction, {
    body: note === undefined ? { userId } : { userId, note },
  });
}

/** Who the account's conversations can be assigned to. */
export function listAssignees(accountId: number): Promise<Assignees> {
  return request('GET', `/api/email/accounts/${accountId}/assignees`, assignees);
}

export function setInteractionOpen(id: number, open: boolean): Promise<Interaction> {
  return request('POST', `/api/interactions/${id}/${open ? 'reopen' : 'close'}`, interaction);
}

/** Snoozes the conversation until `until`, or ends its snooze (null). */
export function snoozeInteraction(id: number, until: Date | null): Promise<Interaction> {
  return request('POST', `/api/interactions/${id}/snooze`, interaction, {
    body: { until: until === null ? null : until.toISOString() },
  });
}

export function markInteractionRead(id: number): Promise<Interaction> {
  return request('POST', `/api/interactions/${id}/read`, interaction);
}

export interface OutgoingAttachment {
  filename: string;
  contentType: string;
  contentBase64: string;
}

export interface ReplyFields {
  /** The formatted editor's HTML (the server derives the text part); null when only files go. */
  html: string | null;
  replyAll: boolean;
  quote: boolean;
  attachments: OutgoingAttachment[];
  /** Exactly who receives the reply (as the composer shows them). */
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  /** Close the conversation once the reply is queued. */
  close: boolean;
}

/** Who a reply (or reply all) goes to by default. */
export function getReplyRecipients(interactionId: number, replyAll: boolean): Promise<ReplyRecipients> {
  return request('GET', `/api/interactions/${interactionId}/reply-recipients`, replyRecipients, {
    query: { replyAll: String(replyAll) },
  });
}

/** The signed-in agent's draft reply in a conversation (null when none). */
export function getReplyDraft(interactionId: number): Promise<ReplyDraft> {
  return request('GET', `/api/interactions/${interactionId}/draft`, replyDraft);
}

/** Saves the agent's draft reply; recipients null keeps the reply's defaults. */
export function saveReplyDraft(
  interactionId: number,
  draft: { text: string; html: string | null; replyAll: boolean; recipients: DraftRecipients | null },
): Promise<ReplyDraft> {
  return request('PUT', `/api/interactions/${interactionId}/draft`, replyDraft, { body: draft });
}

export function deleteReplyDraft(interactionId: number): Promise<void> {
  return send('DELETE', `/api/interactions/${interactionId}/draft`);
}

/** Checks one address as the send request will. */
export function checkAddress(address: string): Promise<AddressCheck> {
  return request('POST', '/api/outbound/check-address', addressCheck, { body: { address } });
}

/** Queues a reply; the idempotency key makes a repeated click queue one message only. */
export function sendReply(interactionId: number, fields: ReplyFields, idempotencyKey: string): Promise<Queued> {
  return request('POST', `/api/interactions/${interactionId}/reply`, queued, {
    body: {
      ...(fields.html === null ? {} : { html: fields.html }),
      replyAll: fields.replyAll,
      quote: fields.quote,
      to: fields.to,
      cc: fields.cc,
      bcc: fields.bcc,
      close: fields.close,
      ...(fields.attachments.length === 0 ? {} : { attachments: fields.attachments }),
    },
    headers: { 'idempotency-key': idempotencyKey },
  });
}

export interface ForwardFields {
  /** The message forwarded, of the conversation. */
  messageId: number;
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  subject: string;
  /** The agent's note above the forwarded block, as HTML; null for none. */
  html: string | null;
  /** The forwarded message's attachments that go with it (the agent may remove some). */
  attachmentIds: number[];
  /** Files added by the agent. */
  attachments: OutgoingAttachment[];
}

/** Queues a forward of a message of the conversation; the server adds the forwarded block. */
export function forwardMessage(interactionId: number, fields: ForwardFields, idempotencyKey: string): Promise<Queued> {
  return request('POST', `/api/interactions/${interactionId}/forward`, queued, {
    body: {
      messageId: fields.messageId,
      to: fields.to,
      cc: fields.cc,
      bcc: fields.bcc,
      subject: fields.subject,
      ...(fields.html === null ? {} : { html: fields.html }),
      attachmentIds: fields.attachmentIds,
      ...(fields.attachments.length === 0 ? {} : { attachments: fields.attachments }),
    },
    headers: { 'idempotency-key': idempotencyKey },
  });
}

export interface NewMessageFields {
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  subject: string;
  /** The formatted editor's HTML (the server derives the text part); null when only files go. */
  html: string | null;
  attachments: OutgoingAttachment[];
}

/** Queues a new message from an account: it opens a new conversation. */
export function sendNewMessage(accountId: number, fields: NewMessageFields, idempotencyKey: string): Promise<Queued> {
  return request('POST', `/api/email/accounts/${accountId}/messages`, queued, {
    body: {
      to: fields.to,
      cc: fields.cc,
      bcc: fields.bcc,
      subject: fields.subject,
      ...(fields.html === null ? {} : { html: fields.html }),
      ...(fields.attachments.length === 0 ? {} : { attachments: fields.attachments }),
    },
    headers: { 'idempotency-key': idempotencyKey },
  });
}

export function getOutgoing(messageId: number): Promise<Outgoing> {
  return request('GET', `/api/messages/${messageId}`, outgoing);
}

export function retryOutgoing(messageId: number): Promise<Outgoing> {
  return request('POST', `/api/messages/${messageId}/retry`, outgoing);
}

/** Adds an internal note to a conversation (never sent to the customer). */
export function addNote(interactionId: number, body: string): Promise<Note> {
  return request('POST', `/api/interactions/${interactionId}/notes`, note, { body: { body } });
}

/** Changes a note's text (its author or an administrator). */
export function editNote(noteId: number, body: string): Promise<Note> {
  return request('PATCH', `/api/notes/${noteId}`, note, { body: { body } });
}

export function deleteNote(noteId: number): Promise<void> {
  return send('DELETE', `/api/notes/${noteId}`);
}
