/**
 * Puts what the outbox does on the nodes' change feed, for the live stream: a message queued (by
 * a person, or again after a retry), the dispatcher taking it (`sending`), and each outcome. The
 * dispatcher and the delivery service stay unaware of the feed; the composition root wraps the
 * deliverer, as it wraps it for metrics.
 */
import { getMessage, type Database, type OutboxRecord } from '../../store/index.js';
import type { ChangeFeed } from '../cluster/change-feed.js';
import type { DeliveryOutcome } from '../outbound/delivery-service.js';

type Publish = ChangeFeed['publish'];
type DeliveryState = 'queued' | 'sending' | 'sent' | 'failed' | 'cancelled';

/** Anything that delivers a claimed outbox row (the DeliveryService, or a wrapper of it). */
export interface RowDeliverer {
  deliver(row: OutboxRecord, claimer: string, signal?: AbortSignal): Promise<DeliveryOutcome>;
}

/**
 * Announces an outgoing message's state. Looks the message up for its conversation; never throws
 * (the stream is a courtesy: a note that cannot be sent leaves the console's safety net to catch up).
 */
export async function announceDelivery(
  db: Database,
  publish: Publish,
  messageId: number,
  state: DeliveryState,
): Promise<void> {
  try {
    const record = await getMessage(db, messageId);
    if (record === undefined) return;
    publish({
      kind: 'delivery',
      id: record.id,
      accountId: record.accountId,
      interactionId: record.interactionId,
      state,
    });
  } catch {
    // See above: the console reads everything again when its stream reconnects.
  }
}

/** `inner`, announcing `sending` as it starts and the outcome as it ends. */
export function announcingDeliverer(inner: RowDeliverer, db: Database, publish: Publish): RowDeliverer {
  return {
    async deliver(row, claimer, signal) {
      void announceDelivery(db, publish, row.messageId, 'sending');
      const outcome = await inner.deliver(row, claimer, signal);
      const state = outcome.kind === 'sent' ? 'sent' : outcome.kind === 'failed' ? 'failed' : 'queued';
      if (outcome.kind !== 'stale') void announceDelivery(db, publish, row.messageId, state);
      return outcome;
    },
  };
}
