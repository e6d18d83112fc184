/**
 * What changed, for every node at once: account, provider and grant changes made on any node
 * reach the others within moments over PostgreSQL LISTEN/NOTIFY (store/change-channel.ts), and
 * this node's own changes are delivered here too, so that a subscriber handles both alike. A note
 * names what changed, never its content; a subscriber reads the store. Notes sent while the
 * listening connection was down are lost: a `resync` change then tells subscribers to look at
 * everything again, and the mailbox workers' periodic reconcile is the safety net besides.
 *
 * The console's live stream (services/live/live-stream.ts) subscribes here too: `message` (an
 * inbound message stored), `delivery` (an outgoing message queued or its delivery state changed),
 * `conversation` (status, assignment, read) and `accountStatus` (an account's live status or
 * timeline) are its kinds; the workers pass over them.
 */
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { Logger } from '../../log/index.js';
import { listenForChanges, notifyChange, type ChangeListener, type Database } from '../../store/index.js';

const change = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('account'), id: z.number().int(), op: z.enum(['changed', 'deleted']) }),
  z.object({ kind: z.literal('provider'), id: z.number().int() }),
  /** A grant of this provider was stored or removed. */
  z.object({ kind: z.literal('grant'), providerId: z.number().int() }),
  /** Mailbox leases were let go (a node stopped, or shed some): free mailboxes wait for a claim. */
  z.object({ kind: z.literal('leases') }),
  /** A node started or stopped: the even share changed. */
  z.object({ kind: z.literal('node'), id: z.string() }),
  /** An inbound message (row `id`) was stored. */
  z.object({
    kind: z.literal('message'),
    id: z.number().int(),
    accountId: z.number().int(),
    interactionId: z.number().int().nullable(),
  }),
  /** An outgoing message (row `id`) was queued, or its delivery state changed. */
  z.object({
    kind: z.literal('delivery'),
    id: z.number().int(),
    accountId: z.number().int(),
    interactionId: z.number().int().nullable(),
    state: z.enum(['queued', 'sending', 'sent', 'failed', 'cancelled']),
  }),
  /**
   * A conversation (`id`) was closed, reopened, assigned, read, snoozed or woken, one of its
   * internal notes changed, or who is replying in it changed (a draft started, refreshed or discarded).
   */
  z.object({
    kind: z.literal('conversation'),
    id: z.number().int(),
    accountId: z.number().int(),
    change: z.enum(['status', 'assignment', 'read', 'note', 'snooze', 'replying', 'contact']),
  }),
  /** An account's live status changed, or its timeline got an entry, without a change of its settings. */
  z.object({ kind: z.literal('accountStatus'), id: z.number().int() }),
  /** Notes may have been lost (the listening connection came back): look at everything again. */
  z.object({ kind: z.literal('resync') }),
]);

/** One change, as subscribers receive it. */
export type ClusterChange = z.infer<typeof change>;

const note = z.object({ origin: z.string(), change });

/** Options of {@link ChangeFeed}. */
export interface ChangeFeedOptions {
  /** The database URL the listening connection opens (PostgreSQL); undefined: this node only. */
  readonly listenUrl: string | undefined;
  /** First wait before reconnecting a lost listening connection, doubled up to 10 s. Default 500 ms. */
  readonly reconnectMs?: number;
}

/** The nodes' change feed (see the module comment). */
export class ChangeFeed {
  private readonly events = new EventEmitter<{ change: [ClusterChange, boolean] }>();
  private listener: ChangeListener | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private failures = 0;

  constructor(
    private readonly db: Database,
    /** This node's id: notes it sent itself are not delivered twice. */
    readonly nodeId: string,
    private readonly logger: Logger,
    private readonly options: ChangeFeedOptions,
  ) {
    this.events.setMaxListeners(0);
  }

  /** Subscribes; `local` tells whether the change was made in this process. Returns the unsubscribe. */
  subscribe(listener: (change: ClusterChange, local: boolean) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  /**
   * Announces a change made here: to this process's subscribers at once, and to the other nodes.
   * Never throws: a note that could not be sent is logged, and the others' reconcile catches up.
   */
  publish(made: ClusterChange): void {
    this.events.emit('change', made, true);
    if (this.options.listenUrl === undefined) return;
    const payload = JSON.stringify({ origin: this.nodeId, change: made });
    notifyChange(this.db, payload).catch((error: unknown) =>
      this.logger.warn({ err: error, change: made.kind }, 'could not tell the other nodes about a change'),
    );
  }

  /** Starts listening to the other nodes (PostgreSQL). */
  async start(): Promise<void> {
    this.stopped = false;
    if (this.options.listenUrl === undefined) return;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.close();
  }

  private async connect(): Promise<void> {
    const url = this.options.listenUrl;
    if (url === undefined || this.stopped) return;
    const listener = await listenForChanges(url, {
      onNote: (payload) => this.deliver(payload),
      onLost: (error) => {
        this.listener = undefined;
        this.logger.warn({ err: error }, 'the change feed lost its database connection; reconnecting');
        this.scheduleReconnect();
      },
    });
    if (this.stopped) {
      await listener.close();
      return;
    }
    this.listener = listener;
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const base = this.options.reconnectMs ?? 500;
    const wait = Math.min(10_000, base * 2 ** Math.min(this.failures, 5));
    this.failures += 1;
    this.reconnectTimer = setTimeout(() => {
      this.connect().then(
        () => {
          if (this.listener === undefined) return;
          this.failures = 0;
          this.events.emit('change', { kind: 'resync' }, false);
        },
        (error: unknown) => {
          this.logger.warn({ err: error }, 'the change feed could not reconnect yet');
          this.scheduleReconnect();
        },
      );
    }, wait);
    this.reconnectTimer.unref();
  }

  private deliver(payload: string): void {
    let parsed: z.infer<typeof note>;
    try {
      parsed = note.parse(JSON.parse(payload));
    } catch (error) {
      this.logger.warn({ err: error }, 'an unreadable note on the change feed was ignored');
      return;
    }
    if (parsed.origin === this.nodeId) return;
    this.events.emit('change', parsed.change, false);
  }
}
