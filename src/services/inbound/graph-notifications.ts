/**
 * Microsoft Graph change notifications, Postern's side: the subscription port of each Graph
 * engine (its bookkeeping in `graph_subscriptions`) and what the public notification routes call.
 *
 * - **Only with an https public URL**: Graph posts to https endpoints only; otherwise there is no
 *   port and the engines poll.
 * - **Validation handshake**: the token is echoed only while this process is creating a
 *   subscription (Graph validates during the `POST /subscriptions`), and only when it is short.
 * - **clientState**: a notification is believed only when it names a stored subscription and its
 *   `clientState` hashes to the stored hash (SHA-256, compared with `timingSafeEqual`).
 * - **Never data**: a believed notification only wakes the account's engine for a delta round;
 *   the delta round reads the mailbox itself. Lifecycle events go to the engine likewise.
 * - The engines and the routes must be in one process (roles `web,worker`, the default): wakes and
 *   the validation window are in memory. On a web-only node nothing is woken and the engines of
 *   the worker nodes poll.
 *
 * @see https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
 * @see https://learn.microsoft.com/graph/change-notifications-lifecycle-events
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { PosternError } from '../../errors/index.js';
import type {
  GraphLifecycleEvent,
  GraphSubscriptionListener,
  GraphSubscriptionPort,
} from '../../mail/graph/graph-subscriptions.js';
import {
  deleteGraphSubscription,
  findGraphSubscription,
  getGraphSubscription,
  renewGraphSubscription,
  saveGraphSubscription,
  type Database,
} from '../../store/index.js';

/** The public routes, under the public URL. */
export const GRAPH_NOTIFICATION_PATH = '/api/graph/notifications';
export const GRAPH_LIFECYCLE_PATH = '/api/graph/lifecycle';

/** Graph's validation tokens are short opaque strings; anything longer is not echoed. */
export const MAX_VALIDATION_TOKEN = 1024;

const notificationItem = z.object({
  subscriptionId: z.string().min(1).max(200),
  clientState: z.string().max(256).nullish(),
  lifecycleEvent: z.string().max(64).optional(),
});

/** A notification body as Graph posts it (`value` of at most 1,000 items). */
export const notificationBody = z.object({ value: z.array(z.unknown()).min(1).max(1000) });

const LIFECYCLE_EVENTS = new Set<string>(['reauthorizationRequired', 'subscriptionRemoved', 'missed']);

function hashOf(clientState: string): Buffer {
  return createHash('sha256').update(clientState, 'utf8').digest();
}

/** What a batch of notifications did. */
export interface NotificationOutcome {
  readonly accepted: number;
  readonly refused: number;
}

/** See the module comment. */
export class GraphNotificationService {
  private readonly listeners = new Map<number, Set<GraphSubscriptionListener>>();
  private validating = 0;

  constructor(
    private readonly db: Database,
    private readonly publicUrl: string,
  ) {}

  /** Whether Graph can reach Postern at all (an https public URL). */
  get enabled(): boolean {
    return this.publicUrl.startsWith('https://');
  }

  /** The subscription port of an account's Graph engine, or undefined when notifications are off. */
  portFor(accountId: number): GraphSubscriptionPort | undefined {
    if (!this.enabled) return undefined;
    const base = this.publicUrl.replace(/(?<!\/)\/+$/, '');
    return {
      notificationUrl: `${base}${GRAPH_NOTIFICATION_PATH}`,
      lifecycleUrl: `${base}${GRAPH_LIFECYCLE_PATH}`,
      load: async (folder) => {
        const record = await getGraphSubscription(this.db, accountId, folder);
        return record === undefined
          ? undefined
          : { subscriptionId: record.subscriptionId, expiresAt: record.expiresAt };
      },
      save: (folder, subscriptionId, clientState, expiresAt) =>
        saveGraphSubscription(this.db, {
          accountId,
          folder,
          subscriptionId,
          clientStateHash: hashOf(clientState).toString('hex'),
          expiresAt,
        }),
      renewed: (subscriptionId, expiresAt) => renewGraphSubscription(this.db, subscriptionId, expiresAt),
      forget: (subscriptionId) => deleteGraphSubscription(this.db, subscriptionId),
      expectValidation: () => {
        this.validating += 1;
        let closed = false;
        return () => {
          if (closed) return;
          closed = true;
          this.validating -= 1;
        };
      },
      attach: (listener) => {
        const set = this.listeners.get(accountId) ?? new Set<GraphSubscriptionListener>();
        set.add(listener);
        this.listeners.set(accountId, set);
        return () => {
          set.delete(listener);
          if (set.size === 0) this.listeners.delete(accountId);
        };
      },
    };
  }

  /** The validation token to echo, or a refusal when no subscription is being created here. */
  validationEcho(token: string): string {
    if (!this.enabled || this.validating === 0 || token.length === 0 || token.length > MAX_VALIDATION_TOKEN)
      throw new PosternError('GRAPH_NOTIFICATION_REFUSED', {
        message: 'Postern is not creating a Microsoft Graph subscription now; this validation request is refused.',
      });
    return token;
  }

  /** Change notifications: each believed one wakes its account's engine; throws when none is believed. */
  async notify(items: readonly unknown[]): Promise<NotificationOutcome> {
    return this.dispatch(items, (listener, item) => listener.notified(item.subscriptionId));
  }

  /** Lifecycle events: handed to the engine that owns the subscription. */
  async lifecycle(items: readonly unknown[]): Promise<NotificationOutcome> {
    return this.dispatch(items, (listener, item) => {
      if (item.lifecycleEvent !== undefined && LIFECYCLE_EVENTS.has(item.lifecycleEvent))
        listener.lifecycle(item.lifecycleEvent as GraphLifecycleEvent, item.subscriptionId);
    });
  }

  private async dispatch(
    items: readonly unknown[],
    deliver: (listener: GraphSubscriptionListener, item: z.infer<typeof notificationItem>) => void,
  ): Promise<NotificationOutcome> {
    let accepted = 0;
    let refused = 0;
    // A batch names few subscriptions: each (subscription, clientState) is looked up once.
    const verified = new Map<string, Promise<number | undefined>>();
    for (const raw of items) {
      const parsed = notificationItem.safeParse(raw);
      let accountId: number | undefined;
      if (parsed.success) {
        const key = `${parsed.data.subscriptionId}\n${parsed.data.clientState ?? ''}`;
        const lookup = verified.get(key) ?? this.verify(parsed.data);
        verified.set(key, lookup);
        accountId = await lookup;
      }
      if (!parsed.success || accountId === undefined) {
        refused += 1;
        continue;
      }
      accepted += 1;
      for (const listener of this.listeners.get(accountId) ?? []) deliver(listener, parsed.data);
    }
    if (accepted === 0) throw new PosternError('GRAPH_NOTIFICATION_REFUSED', { details: { refused } });
    return { accepted, refused };
  }

  /** The account of a notification whose subscription and clientState are Postern's. */
  private async verify(item: z.infer<typeof notificationItem>): Promise<number | undefined> {
    const record = await findGraphSubscription(this.db, item.subscriptionId);
    const given = hashOf(item.clientState ?? '');
    // Compared even when the subscription is unknown, so that timing tells nothing either way.
    const stored = record === undefined ? Buffer.alloc(32) : Buffer.from(record.clientStateHash, 'hex');
    const same = stored.length === given.length && timingSafeEqual(stored, given);
    return record !== undefined && same && item.clientState != null ? record.accountId : undefined;
  }
}
