/**
 * Change notifications for the Graph inbound engine: one subscription per synced folder
 * (`created` messages of `users/{mailbox}/mailFolders('{id}')/messages`), created when the
 * engine's session opens, renewed (`PATCH`) well before it expires, deleted when the engine stops.
 * A notification only wakes the engine for a delta round — its content is never used as data.
 *
 * - Each subscription gets a fresh random `clientState` (32 bytes); the port keeps only its hash.
 * - A subscription stored by an earlier process is reused when Graph still knows it and it is
 *   not due for renewal; otherwise it is deleted (best effort) and a new one created.
 * - Lifecycle events: `reauthorizationRequired` → renewed now; `subscriptionRemoved` → created
 *   again; `missed` → a delta round (the engine's part).
 * - Any failure leaves the folder without a live subscription: the engine then polls at the
 *   account's interval, and the next maintenance tries again.
 *
 * @see https://learn.microsoft.com/graph/api/subscription-post-subscriptions
 * @see https://learn.microsoft.com/graph/api/subscription-update
 * @see https://learn.microsoft.com/graph/change-notifications-lifecycle-events
 * @see ../../../../shared/reference/microsoft-protocols.md §8 (Change notifications)
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isPosternError } from '../../errors/index.js';
import type { SyncLogger } from '../imap/folder-sync.js';
import { GraphCallStopped, type GraphClient } from './graph-client.js';
import type { GraphFolder } from './graph-sync-folder.js';

/** A subscription as the store keeps it (its `clientState` only as a hash, kept by the port). */
export interface StoredGraphSubscription {
  readonly subscriptionId: string;
  readonly expiresAt: Date;
}

/** The lifecycle events Graph sends to the lifecycle URL. */
export type GraphLifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

/** What the engine hears from the notification endpoint (through the port). */
export interface GraphSubscriptionListener {
  /** A verified change notification for one of the engine's subscriptions. */
  notified(subscriptionId: string): void;
  /** A verified lifecycle event for one of the engine's subscriptions. */
  lifecycle(event: GraphLifecycleEvent, subscriptionId: string): void;
}

/** What the subscriptions need from outside the mail layer; the service layer binds it to an account. */
export interface GraphSubscriptionPort {
  /** Where Graph posts change notifications (https). */
  readonly notificationUrl: string;
  /** Where Graph posts lifecycle events (https). */
  readonly lifecycleUrl: string;
  load(folder: string): Promise<StoredGraphSubscription | undefined>;
  /** Records a new subscription; the port hashes `clientState` and never keeps it. */
  save(folder: string, subscriptionId: string, clientState: string, expiresAt: Date): Promise<void>;
  renewed(subscriptionId: string, expiresAt: Date): Promise<void>;
  forget(subscriptionId: string): Promise<void>;
  /** Opens the validation handshake while a subscription is being created; call the result to close it. */
  expectValidation(): () => void;
  /** Starts hearing notifications; call the result to stop. */
  attach(listener: GraphSubscriptionListener): () => void;
}

/** Timing of subscriptions. */
export interface GraphSubscriptionTiming {
  /** Lifetime asked for (Outlook messages: at most 10,080 minutes). */
  readonly lifetimeMs: number;
  /** Renewed when less than this is left. */
  readonly renewBeforeMs: number;
  /** After a failed creation (Graph could not validate the URL, say), the wait before the next try. */
  readonly retryAfterFailureMs: number;
}

/** Three days: inside the 10,080 minutes Graph allows for Outlook messages, and the older 4,230. */
export const DEFAULT_SUBSCRIPTION_TIMING: GraphSubscriptionTiming = {
  lifetimeMs: 3 * 86_400_000,
  renewBeforeMs: 86_400_000,
  retryAfterFailureMs: 15 * 60_000,
};

const subscriptionReply = z.object({ id: z.string().min(1).max(200), expirationDateTime: z.string().min(1) });

interface Live {
  readonly folder: GraphFolder;
  subscriptionId: string;
  expiresAt: Date;
}

/** The subscriptions of one engine's folders; see the module comment. */
export class GraphSubscriptions {
  private readonly live = new Map<string, Live>();
  /** When creating a folder's subscription last failed (real time): not tried again for a while. */
  private readonly failedAt = new Map<string, number>();

  constructor(
    private readonly port: GraphSubscriptionPort,
    private readonly timing: GraphSubscriptionTiming,
    private readonly clock: () => Date,
    private readonly log: SyncLogger,
    private readonly mailbox: string,
  ) {}

  /** Creates, reuses or renews each folder's subscription as needed. Never throws but a stop. */
  async maintain(client: GraphClient, folders: readonly GraphFolder[]): Promise<void> {
    for (const folder of folders) {
      const failed = this.failedAt.get(folder.name);
      if (!this.live.has(folder.name) && failed !== undefined && Date.now() - failed < this.timing.retryAfterFailureMs)
        continue;
      try {
        await this.maintainFolder(client, folder);
        this.failedAt.delete(folder.name);
      } catch (error) {
        if (error instanceof GraphCallStopped) throw error;
        this.failedAt.set(folder.name, Date.now());
        this.live.delete(folder.name);
        this.log.warn(
          { mailbox: this.mailbox, folder: folder.name, err: isPosternError(error) ? error : String(error) },
          'no Graph change notifications for this folder for now; polling at the account interval',
        );
      }
    }
  }

  /** `reauthorizationRequired`: renews the subscription now. */
  async renewNow(client: GraphClient, subscriptionId: string): Promise<void> {
    const entry = [...this.live.values()].find((s) => s.subscriptionId === subscriptionId);
    if (entry === undefined) return;
    entry.expiresAt = new Date(0); // due: the next maintenance renews it
    await this.maintain(client, [entry.folder]);
  }

  /** `subscriptionRemoved`: Graph removed it; forgets it and creates a new one. */
  async replace(client: GraphClient, subscriptionId: string): Promise<void> {
    const entry = [...this.live.values()].find((s) => s.subscriptionId === subscriptionId);
    if (entry === undefined) return;
    this.live.delete(entry.folder.name);
    this.failedAt.delete(entry.folder.name);
    await this.port.forget(subscriptionId);
    await this.maintain(client, [entry.folder]);
  }

  /** Deletes every subscription in Graph (best effort) and forgets them: the engine stops. */
  async removeAll(client: GraphClient): Promise<void> {
    for (const entry of [...this.live.values()]) {
      this.live.delete(entry.folder.name);
      await this.deleteInGraph(client, entry.subscriptionId);
      await this.port.forget(entry.subscriptionId);
    }
  }

  private async maintainFolder(client: GraphClient, folder: GraphFolder): Promise<void> {
    const now = this.clock().getTime();
    let entry = this.live.get(folder.name);
    if (entry === undefined) {
      const stored = await this.port.load(folder.name);
      if (stored !== undefined) {
        if (stored.expiresAt.getTime() > now && (await this.knownToGraph(client, stored.subscriptionId))) {
          entry = { folder, subscriptionId: stored.subscriptionId, expiresAt: stored.expiresAt };
          this.live.set(folder.name, entry);
          this.log.info({ mailbox: this.mailbox, folder: folder.name }, 'Graph subscription of an earlier run reused');
        } else {
          await this.deleteInGraph(client, stored.subscriptionId);
          await this.port.forget(stored.subscriptionId);
        }
      }
    }
    if (entry === undefined) {
      await this.create(client, folder);
      return;
    }
    if (entry.expiresAt.getTime() - now > this.timing.renewBeforeMs) return;
    await this.renew(client, entry);
  }

  private async create(client: GraphClient, folder: GraphFolder): Promise<void> {
    const clientState = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.clock().getTime() + this.timing.lifetimeMs);
    const close = this.port.expectValidation();
    let reply: z.infer<typeof subscriptionReply>;
    try {
      reply = subscriptionReply.parse(
        await client.json<unknown>({
          method: 'POST',
          path: client.apiUrl('subscriptions'),
          body: {
            json: {
              changeType: 'created',
              notificationUrl: this.port.notificationUrl,
              lifecycleNotificationUrl: this.port.lifecycleUrl,
              resource: `users/${encodeURIComponent(client.mailbox)}/mailFolders('${folder.id}')/messages`,
              expirationDateTime: expiresAt.toISOString(),
              clientState,
            },
          },
        }),
      );
    } finally {
      close();
    }
    const granted = new Date(reply.expirationDateTime);
    await this.port.save(folder.name, reply.id, clientState, granted);
    this.live.set(folder.name, { folder, subscriptionId: reply.id, expiresAt: granted });
    this.log.info(
      { mailbox: this.mailbox, folder: folder.name, expiresAt: granted.toISOString() },
      'Graph change notifications subscribed',
    );
  }

  private async renew(client: GraphClient, entry: Live): Promise<void> {
    const wanted = new Date(this.clock().getTime() + this.timing.lifetimeMs);
    try {
      const reply = subscriptionReply.parse(
        await client.json<unknown>({
          method: 'PATCH',
          path: client.apiUrl(`subscriptions/${encodeURIComponent(entry.subscriptionId)}`),
          body: { json: { expirationDateTime: wanted.toISOString() } },
        }),
      );
      entry.expiresAt = new Date(reply.expirationDateTime);
      await this.port.renewed(entry.subscriptionId, entry.expiresAt);
      this.log.info(
        { mailbox: this.mailbox, folder: entry.folder.name, expiresAt: entry.expiresAt.toISOString() },
        'Graph subscription renewed',
      );
    } catch (error) {
      if (!(isPosternError(error) && error.details?.status === 404)) throw error;
      // Gone (expired or removed): a new one.
      this.live.delete(entry.folder.name);
      await this.port.forget(entry.subscriptionId);
      await this.create(client, entry.folder);
    }
  }

  private async knownToGraph(client: GraphClient, subscriptionId: string): Promise<boolean> {
    try {
      await client.json<unknown>({
        method: 'GET',
        path: client.apiUrl(`subscriptions/${encodeURIComponent(subscriptionId)}`),
      });
      return true;
    } catch (error) {
      if (isPosternError(error) && error.details?.status === 404) return false;
      throw error;
    }
  }

  private async deleteInGraph(client: GraphClient, subscriptionId: string): Promise<void> {
    try {
      await client.json<unknown>({
        method: 'DELETE',
        path: client.apiUrl(`subscriptions/${encodeURIComponent(subscriptionId)}`),
      });
    } catch (error) {
      if (error instanceof GraphCallStopped) throw error;
      // Already gone, or Graph unreachable: it expires by itself.
    }
  }
}
