/**
 * Change-notification subscriptions of the emulated Graph API: `POST /subscriptions` with the
 * validation handshake, `GET|PATCH|DELETE /subscriptions/{id}`, notifications over HTTPS when a
 * message is created (or updated, deleted) in a subscribed folder, lifecycle events on demand
 * (control API), expiry on the emulator's clock.
 *
 * - Delivery trusts the emulator's own CA and whatever the control API adds (`trust`); a
 *   notification is tried 4 times (0, 0.2, 1, 2 s apart), then dropped (emulator choice: Graph
 *   retries for up to 4 hours).
 * - Subscriptions live in memory: an emulator restart forgets them (GET answers 404).
 *
 * @see https://learn.microsoft.com/graph/api/subscription-post-subscriptions
 * @see https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
 * @see https://learn.microsoft.com/graph/change-notifications-lifecycle-events
 * @see ../../../shared/reference/microsoft-protocols.md §8 (Change notifications)
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { MailFolder } from '../exchange/mail-folder.js';
import type { EmulatorLogger } from '../log.js';
import { createCaFetch, type CaFetch } from '../tls/ca-fetch.js';
import { GraphError } from './graph-errors.js';
import { encodeMessageId } from './graph-ids.js';

/** Outlook messages: at most 10,080 minutes; less than 45 minutes is raised to 45. */
export const MAX_SUBSCRIPTION_MINUTES = 10_080;
export const MIN_SUBSCRIPTION_MINUTES = 45;
const MINUTE_MS = 60_000;
const VALIDATION_TIMEOUT_MS = 10_000;
const RETRY_DELAYS_MS = [0, 200, 1_000, 2_000];

export type ChangeType = 'created' | 'updated' | 'deleted';
export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

/** One subscription. */
export interface Subscription {
  readonly id: string;
  readonly appId: string;
  readonly tenantId: string;
  readonly changeTypes: ReadonlySet<ChangeType>;
  readonly resource: string;
  readonly notificationUrl: string;
  readonly lifecycleNotificationUrl: string | null;
  readonly clientState: string | null;
  /** `Users/{id}` as notifications name it. */
  readonly userPath: string;
  expiresAt: Date;
  readonly unwatch: () => void;
}

/** What a delivery attempt came to, for the control API. */
export interface DeliveryRecord {
  readonly subscriptionId: string;
  readonly kind: 'notification' | 'lifecycle';
  readonly status: number | 'failed';
  readonly at: string;
}

const subscriptionErrors = {
  validationTimedOut: () => new GraphError(400, 'InvalidRequest', 'Subscription validation request timed out.'),
  validationFailed: () =>
    new GraphError(
      400,
      'ValidationError',
      'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
    ),
  validationMismatch: () =>
    new GraphError(
      400,
      'ValidationError',
      'Subscription validation request failed. Response must exactly match validationToken query parameter.',
    ),
  notFound: () => new GraphError(404, 'ResourceNotFound', 'The object was not found. (emulator wording)'),
};

export { subscriptionErrors };

/** The subscriptions of the emulated tenant; see the module comment. */
export class GraphSubscriptions {
  private readonly byId = new Map<string, Subscription>();
  private readonly extraCas: string[] = [];
  private fetcher: CaFetch;
  /** While paused, notifications are dropped (a test makes mail arrive unannounced). */
  paused = false;
  readonly deliveries: DeliveryRecord[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly caPem: string,
    private readonly logger: EmulatorLogger,
  ) {
    this.fetcher = createCaFetch(caPem, { timeoutMs: VALIDATION_TIMEOUT_MS });
  }

  /** Trusts another CA for deliveries (the test's own). */
  trust(caPem: string): void {
    this.extraCas.push(caPem);
    this.fetcher = createCaFetch([this.caPem, ...this.extraCas].join('\n'), { timeoutMs: VALIDATION_TIMEOUT_MS });
  }

  get size(): number {
    this.sweep();
    return this.byId.size;
  }

  list(): Subscription[] {
    this.sweep();
    return [...this.byId.values()];
  }

  /** A live subscription of this app, or 404. */
  get(id: string, appId: string): Subscription {
    this.sweep();
    const subscription = this.byId.get(id);
    if (subscription === undefined || subscription.appId !== appId) throw subscriptionErrors.notFound();
    return subscription;
  }

  /** The expiry Graph grants for an asked one: 400 beyond the maximum or in the past, raised to 45 minutes. */
  grantedExpiry(asked: Date): Date {
    const now = this.clock.now().getTime();
    if (Number.isNaN(asked.getTime()) || asked.getTime() <= now)
      throw new GraphError(
        400,
        'InvalidRequest',
        'Subscription expiration date must be in the future. (emulator wording)',
      );
    if (asked.getTime() > now + MAX_SUBSCRIPTION_MINUTES * MINUTE_MS)
      throw new GraphError(
        400,
        'InvalidRequest',
        `Subscription expiration can only be ${MAX_SUBSCRIPTION_MINUTES} minutes in the future. (emulator wording)`,
      );
    return new Date(Math.max(asked.getTime(), now + MIN_SUBSCRIPTION_MINUTES * MINUTE_MS));
  }

  /**
   * Validates the endpoints (a POST with `?validationToken=` each, answered 200 text/plain with
   * the token within 10 s), then creates the subscription and watches its folders.
   */
  async create(
    input: Omit<Subscription, 'id' | 'unwatch' | 'expiresAt'> & { readonly expiresAt: Date },
    folders: readonly MailFolder[],
  ): Promise<Subscription> {
    for (const url of new Set([input.notificationUrl, input.lifecycleNotificationUrl ?? input.notificationUrl]))
      await this.validate(url);
    const id = randomUUID();
    const stops = folders.map((folder) =>
      folder.watch((change) => {
        const subscription = this.byId.get(id);
        if (subscription === undefined) return;
        if (change.kind === 'append' && subscription.changeTypes.has('created'))
          this.notify(
            subscription,
            'created',
            change.messages.map((m) => encodeMessageId(folder.id, m.uid)),
          );
        if (change.kind === 'flags' && subscription.changeTypes.has('updated'))
          this.notify(
            subscription,
            'updated',
            change.messages.map((m) => encodeMessageId(folder.id, m.uid)),
          );
        if (change.kind === 'expunge' && subscription.changeTypes.has('deleted'))
          this.notify(
            subscription,
            'deleted',
            change.uids.map((uid) => encodeMessageId(folder.id, uid)),
          );
      }),
    );
    const subscription: Subscription = { ...input, id, unwatch: () => stops.forEach((stop) => stop()) };
    this.byId.set(id, subscription);
    return subscription;
  }

  delete(id: string): void {
    const subscription = this.byId.get(id);
    if (subscription === undefined) return;
    subscription.unwatch();
    this.byId.delete(id);
  }

  /** Sends a lifecycle event; `subscriptionRemoved` also removes the subscription. */
  async lifecycle(id: string, event: LifecycleEvent): Promise<number | 'failed'> {
    this.sweep();
    const subscription = this.byId.get(id);
    if (subscription === undefined) throw subscriptionErrors.notFound();
    if (event === 'subscriptionRemoved') this.delete(id);
    const url = subscription.lifecycleNotificationUrl;
    if (url === null) return 'failed';
    return this.deliver(subscription, 'lifecycle', url, {
      value: [
        {
          subscriptionId: subscription.id,
          subscriptionExpirationDateTime: subscription.expiresAt.toISOString(),
          tenantId: subscription.tenantId,
          clientState: subscription.clientState,
          lifecycleEvent: event,
        },
      ],
    });
  }

  /** Forgets subscriptions past their expiry on the emulator's clock. */
  sweep(): void {
    const now = this.clock.now().getTime();
    for (const subscription of [...this.byId.values()])
      if (subscription.expiresAt.getTime() <= now) this.delete(subscription.id);
  }

  private notify(subscription: Subscription, changeType: ChangeType, messageIds: readonly string[]): void {
    this.sweep();
    if (!this.byId.has(subscription.id) || this.paused || messageIds.length === 0) return;
    const value = messageIds.map((id) => ({
      subscriptionId: subscription.id,
      subscriptionExpirationDateTime: subscription.expiresAt.toISOString(),
      changeType,
      resource: `${subscription.userPath}/Messages/${id}`,
      resourceData: {
        '@odata.type': '#Microsoft.Graph.Message',
        '@odata.id': `${subscription.userPath}/Messages/${id}`,
        '@odata.etag': `W/"${randomUUID()}"`,
        id,
      },
      clientState: subscription.clientState,
      tenantId: subscription.tenantId,
    }));
    void this.deliver(subscription, 'notification', subscription.notificationUrl, { value });
  }

  private async deliver(
    subscription: Subscription,
    kind: DeliveryRecord['kind'],
    url: string,
    body: unknown,
  ): Promise<number | 'failed'> {
    let last: number | 'failed' = 'failed';
    for (const delay of RETRY_DELAYS_MS) {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      try {
        const response = await this.fetcher(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify(body),
        });
        last = response.status;
        if (response.status >= 200 && response.status < 300) break;
        // A refusal (4xx other than 429) is not retried.
        if (response.status >= 400 && response.status < 500 && response.status !== 429) break;
      } catch (error) {
        last = 'failed';
        this.logger.warn('graph notification delivery failed', {
          url,
          message: error instanceof Error ? error.message : String(error),
        });
      }
    }
    this.deliveries.push({ subscriptionId: subscription.id, kind, status: last, at: this.clock.now().toISOString() });
    if (this.deliveries.length > 1_000) this.deliveries.splice(0, this.deliveries.length - 1_000);
    return last;
  }

  private async validate(url: string): Promise<void> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const target = new URL(url);
    target.searchParams.set('validationToken', token);
    let response: Response;
    try {
      response = await this.fetcher(target, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: '',
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.message.includes('timed out');
      throw timedOut ? subscriptionErrors.validationTimedOut() : subscriptionErrors.validationFailed();
    }
    if (response.status !== 200) throw subscriptionErrors.validationFailed();
    const type = (response.headers.get('content-type') ?? '').toLowerCase();
    const text = await response.text();
    if (!type.startsWith('text/plain') || text !== token) throw subscriptionErrors.validationMismatch();
  }
}
