import type { z } from 'zod';
import type { OutgoingView, QueuedMessage, SendingView } from '../../../services/send-service.js';
import type { messageReply, queuedReply, sendingReply } from './schemas.js';

/** The answer to a send request: id, conversation, Message-ID, state. */
export function presentQueued(queued: QueuedMessage): z.infer<typeof queuedReply> {
  return { id: queued.id, interactionId: queued.interactionId, messageId: queued.messageId, state: queued.state };
}

/**
 * A message with its delivery: the state, attempts, the server's reply when sent, the error and
 * its remedy when not. The raw MIME and attachment contents are not part of it.
 */
export function presentMessage({ message, outbox }: OutgoingView): z.infer<typeof messageReply> {
  return {
    id: message.id,
    accountId: message.accountId,
    interactionId: message.interactionId,
    direction: message.direction,
    messageId: message.messageId,
    inReplyTo: message.inReplyTo,
    references: message.references,
    from: message.from,
    to: message.to,
    cc: message.cc,
    bcc: message.bcc,
    subject: message.subject,
    text: message.text,
    html: message.html,
    attachments: message.attachments.map((a) => ({
      id: a.id,
      filename: a.filename,
      contentType: a.contentType,
      size: a.size,
      contentId: a.contentId,
      inline: a.inline,
    })),
    state: message.deliveryState,
    delivery:
      outbox === null
        ? null
        : {
            attempts: outbox.attempts,
            nextAttemptAt: outbox.state === 'queued' ? outbox.nextAttemptAt : null,
            lastAttemptAt: outbox.lastAttemptAt,
            sentAt: outbox.sentAt,
            serverResponse: outbox.lastResponse,
            error: outbox.state === 'sent' ? null : outbox.lastError,
          },
    createdAt: message.createdAt,
  };
}

/** An account's sending settings with what it uses now. */
export function presentSending(view: SendingView): z.infer<typeof sendingReply> {
  return {
    accountId: view.settings.accountId,
    sendPerMinute: view.settings.sendPerMinute,
    recipientsPerDay: view.settings.recipientsPerDay,
    concurrency: view.settings.concurrency,
    maxRecipientsPerMessage: view.settings.maxRecipientsPerMessage,
    maxMessageBytes: view.settings.maxMessageBytes,
    retryForHours: view.settings.retryForHours,
    usage: view.usage,
    outbox: view.outbox,
  };
}
