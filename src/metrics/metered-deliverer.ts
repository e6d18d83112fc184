/**
 * Counts the outbox dispatcher's deliveries by wrapping its deliverer: sent, failed for good (by
 * error code), and temporary failures scheduled again. The dispatcher and the delivery service
 * stay unaware of metrics; the composition root wraps one in the other.
 */
import type { PosternMetrics } from './metrics.js';

/** The outcome shape of a delivery (services/outbound/delivery-service.ts `DeliveryOutcome`). */
export interface DeliveryOutcomeLike {
  readonly kind: string;
  readonly error?: { readonly code: string };
}

/** Anything that delivers a claimed outbox row. */
export interface DelivererLike<Row, Outcome extends DeliveryOutcomeLike> {
  deliver(row: Row, claimer: string, signal?: AbortSignal): Promise<Outcome>;
}

/** `inner`, with each outcome counted. */
export function meterDeliverer<Row, Outcome extends DeliveryOutcomeLike>(
  inner: DelivererLike<Row, Outcome>,
  metrics: Pick<PosternMetrics, 'messagesSent' | 'messagesFailed' | 'messageRetries'>,
): DelivererLike<Row, Outcome> {
  return {
    async deliver(row, claimer, signal) {
      const outcome = await inner.deliver(row, claimer, signal);
      const code = outcome.error?.code ?? 'UNKNOWN';
      if (outcome.kind === 'sent') metrics.messagesSent.inc();
      else if (outcome.kind === 'failed') metrics.messagesFailed.inc({ code });
      else if (outcome.kind === 'retry') metrics.messageRetries.inc({ code });
      return outcome;
    },
  };
}
