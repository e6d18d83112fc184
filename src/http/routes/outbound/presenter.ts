import type { z } from 'zod';
import type { OutgoingView, QueuedMessage, SendingView } from '../../../services/outbound/send-service.js';
import { presentMessage, type messageReply } from '../messages/presenter.js';
import type { queuedReply, sendingReply } from './schemas.js';

/** The answer to a send request: id, conversation, Message-ID, state. */
export function presentQueued(queued: QueuedMessage): z.infer<typeof queuedReply> {
  return { id: queued.id, interactionId: queued.interactionId, messageId: queued.messageId, state: queued.state };
}

/** A message with its delivery: the message as everywhere, its outbox row filling `delivery`. */
export function presentOutgoing({ message, outbox, authorName }: OutgoingView): z.infer<typeof messageReply> {
  return presentMessage(message, outbox, authorName);
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
    hold:
      view.hold === null
        ? null
        : {
            until: view.hold.until.toISOString(),
            code: view.hold.code,
            message: view.hold.message,
            remedy: view.hold.remedy,
          },
  };
}
