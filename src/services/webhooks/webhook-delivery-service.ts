/**
 * What the webhook dispatcher (workers/webhook-dispatcher.ts) does to the store, as use cases:
 * claim due deliveries, give a claim back, sign an event's body with the webhook's secret, record
 * an attempt's outcome, and disable a webhook that failed a whole retry window — with the event
 * that says why, in the same transaction. The dispatcher owns the HTTP requests and the pacing.
 */
import {
  appendEvent,
  claimDueDeliveries,
  disableWebhook,
  markDeliveryDelivered,
  markDeliveryFailed,
  openWebhookSecret,
  recordWebhookFailure,
  recordWebhookSuccess,
  releaseDeliveryClaim,
  toEventRecord,
  type ClaimedDelivery,
  type Database,
  type SecretBox,
} from '../../store/index.js';
import { displayUrl, webhookBodyText } from './webhook-payload.js';
import { signatureHeader } from './webhook-signature.js';

export type { ClaimedDelivery } from '../../store/index.js';

/** What to claim. */
export interface DeliveryClaimRequest {
  readonly limit: number;
  /** A claim older than this is considered abandoned by a dead node. */
  readonly staleAfterMs: number;
  /** Webhooks with every slot taken on this node. */
  readonly excludeWebhooks: readonly number[];
  /** The retry policy's longest delay: a retry further ahead is due (the clock was set back). */
  readonly longestDelayMs: number;
}

/** A failed attempt. */
export interface FailedAttempt {
  readonly status: number | null;
  readonly error: string;
  readonly at: Date;
  /** When to try again; null when the attempts ran out. */
  readonly retryAt: Date | null;
}

/** The webhook dispatcher's use cases. */
export class WebhookDeliveryService {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {}

  /** The database clock (tests move it). */
  now(): Date {
    return this.db.now();
  }

  /** Claims due deliveries (and stale claims of dead nodes) of active webhooks. */
  claimDue(request: DeliveryClaimRequest): Promise<ClaimedDelivery[]> {
    return claimDueDeliveries(this.db, { now: this.db.now(), ...request });
  }

  /** Gives a claim back untouched (no room for it, or shutting down). */
  release(claim: ClaimedDelivery): Promise<void> {
    return releaseDeliveryClaim(this.db, claim);
  }

  /** The body of the claimed event and its signature header; throws when the secret cannot be opened. */
  signedBody(claim: ClaimedDelivery, timestampSeconds: number): { readonly body: string; readonly signature: string } {
    const secret = openWebhookSecret(this.box, claim.webhook);
    const body = webhookBodyText(toEventRecord(claim.event));
    return { body, signature: signatureHeader(secret, timestampSeconds, body) };
  }

  /** Records a 2xx answer; false when the claim was no longer current. */
  async recordDelivered(
    claim: ClaimedDelivery,
    result: { readonly status: number; readonly at: Date },
  ): Promise<boolean> {
    if (!(await markDeliveryDelivered(this.db, claim, result))) return false;
    await recordWebhookSuccess(this.db, claim.webhook.id, result.at);
    return true;
  }

  /**
   * Records a failed attempt; returns the webhook's failures in a row, or undefined when the claim
   * was no longer current.
   */
  async recordFailed(claim: ClaimedDelivery, result: FailedAttempt): Promise<number | undefined> {
    if (!(await markDeliveryFailed(this.db, claim, result))) return undefined;
    return recordWebhookFailure(this.db, claim.webhook.id, result.at);
  }

  /** Disables the claim's webhook, once, with the `webhook.disabled` event; false when it already was. */
  disable(claim: ClaimedDelivery, failures: number, lastError: string): Promise<boolean> {
    const url = displayUrl(claim.webhook.url);
    return this.db.transaction(async (tx) => {
      if (!(await disableWebhook(tx, claim.webhook.id))) return false;
      await appendEvent(tx, {
        scope: 'system',
        type: 'webhook.disabled',
        level: 'error',
        message: `Webhook ${claim.webhook.id} (${url}) was disabled: ${failures} attempts failed in a row, the last one because: ${lastError}`,
        data: {
          webhookId: claim.webhook.id,
          url,
          failures,
          lastError,
          remedy:
            'Fix the receiver, then enable the webhook again: its pending deliveries resume, and given-up ones can be redelivered from its delivery log.',
        },
      });
      return true;
    });
  }
}
