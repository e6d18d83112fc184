/**
 * The console's live stream: what changed, told to each signed-in browser (or integration) as it
 * happens, so that nothing polls. Every change reaches this node through the nodes' change feed
 * (cluster/change-feed.ts: this process's own changes at once, the other nodes' over PostgreSQL
 * LISTEN/NOTIFY); here it gets an event id, goes into a bounded ring buffer, and is handed to the
 * subscribers allowed to see its account — an administrator sees every account, an agent the
 * accounts assigned to them, the same rule as the inbox.
 *
 * An event is a note (kind and ids), never content: the client reads the API again, which checks
 * access as always. Ids are `<boot>-<sequence>`: a reconnect naming the last id it saw is replayed
 * what it missed from the buffer; an id of another run of this node (a restart, another node), one
 * older than the buffer, or one after the feed lost notes gets `resync` instead — "read everything
 * again" — because what it missed can no longer be told.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#the-last-event-id-header
 */
import crypto from 'node:crypto';
import type { ChangeFeed, ClusterChange } from '../cluster/change-feed.js';

/** An event as subscribers receive it: kind and ids only. */
export type LiveEvent =
  | {
      readonly kind: 'message';
      readonly accountId: number;
      readonly interactionId: number | null;
      readonly messageId: number;
    }
  | {
      readonly kind: 'delivery';
      readonly accountId: number;
      readonly interactionId: number | null;
      readonly messageId: number;
      readonly state: 'queued' | 'sending' | 'sent' | 'failed' | 'cancelled';
    }
  | {
      readonly kind: 'conversation';
      readonly accountId: number;
      readonly interactionId: number;
      readonly change: 'status' | 'assignment' | 'read' | 'note' | 'snooze' | 'replying' | 'contact';
    }
  | { readonly kind: 'account'; readonly accountId: number; readonly change: 'status' | 'settings' | 'deleted' };

/** What a subscriber is handed: an event with its id, or `resync` (read everything again). */
export type LiveFrame =
  | { readonly id: string; readonly event: LiveEvent }
  | { readonly id: string; readonly event: { readonly kind: 'resync' } };

/** Who subscribes: an administrator, or an agent with the accounts they may see. */
export interface LiveViewer {
  readonly userId: number;
  readonly role: 'admin' | 'agent';
}

/** Options of {@link LiveStream}. */
export interface LiveStreamOptions {
  /** How many events are kept for replay. */
  readonly capacity: number;
  /** The accounts an agent may see (InteractionService.visibleAccountIds). */
  readonly visibleAccountIds: (viewer: LiveViewer) => Promise<readonly number[]>;
  /** This run's id in event ids; default random. */
  readonly bootId?: string;
}

/** One open subscription. */
export interface LiveSubscription {
  /** What the subscriber missed since its Last-Event-ID: the events, or one `resync`. */
  readonly replay: readonly LiveFrame[];
  close(): void;
}

interface Entry {
  readonly seq: number;
  readonly event: LiveEvent;
}

interface Subscriber {
  readonly viewer: LiveViewer;
  /** The accounts an agent may see; undefined for an administrator (all). */
  visible: ReadonlySet<number> | undefined;
  readonly deliver: (frame: LiveFrame) => void;
  /** Bumped by each reload of `visible`, so that only the latest applies. */
  generation: number;
}

/** The live stream of this node; see the module comment. */
export class LiveStream {
  private readonly boot: string;
  private readonly ring: Array<Entry | undefined>;
  /** The last sequence number given. */
  private seq = 0;
  /** Ids at or below this cannot be replayed (evicted, or lost by the feed). */
  private floor = 0;
  private readonly subscribers = new Set<Subscriber>();
  private readonly unsubscribe: () => void;

  constructor(
    feed: Pick<ChangeFeed, 'subscribe'>,
    private readonly options: LiveStreamOptions,
  ) {
    this.boot = options.bootId ?? crypto.randomBytes(6).toString('base64url');
    this.ring = new Array<Entry | undefined>(Math.max(1, options.capacity));
    this.unsubscribe = feed.subscribe((change) => this.follow(change));
  }

  /** How many subscriptions are open on this node. */
  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Subscribes `viewer`; `lastEventId` is the id of the last event it saw (a reconnect), if any.
   * The replay is computed and the subscription registered in one step, so that nothing falls
   * between them.
   */
  async subscribe(
    viewer: LiveViewer,
    lastEventId: string | undefined,
    deliver: (frame: LiveFrame) => void,
  ): Promise<LiveSubscription> {
    const visible = await this.visibleOf(viewer);
    const subscriber: Subscriber = { viewer, visible, deliver, generation: 0 };
    const replay = lastEventId === undefined ? [] : this.resume(lastEventId, subscriber);
    this.subscribers.add(subscriber);
    return { replay, close: () => this.subscribers.delete(subscriber) };
  }

  /** Stops following the feed and forgets every subscriber. */
  stop(): void {
    this.unsubscribe();
    this.subscribers.clear();
  }

  private follow(change: ClusterChange): void {
    if (change.kind === 'resync') {
      // The feed lost notes: nobody can be told what they missed. The resync takes an id of its
      // own, so that a subscriber away meanwhile (an older id) is told too.
      this.seq += 1;
      this.floor = this.seq;
      this.broadcastResync();
      return;
    }
    const event = liveEventOf(change);
    if (change.kind === 'account') this.reloadVisibility();
    if (event === undefined) return;
    this.seq += 1;
    const entry: Entry = { seq: this.seq, event };
    this.ring[this.seq % this.ring.length] = entry;
    this.floor = Math.max(this.floor, this.seq - this.ring.length);
    const frame: LiveFrame = { id: this.idOf(entry.seq), event };
    for (const subscriber of this.subscribers) if (canSee(subscriber, event.accountId)) subscriber.deliver(frame);
  }

  private resume(lastEventId: string, subscriber: Subscriber): LiveFrame[] {
    const last = this.seqOf(lastEventId);
    if (last === undefined || last < this.floor || last > this.seq) return [this.resyncFrame()];
    const frames: LiveFrame[] = [];
    for (let seq = last + 1; seq <= this.seq; seq += 1) {
      const entry = this.ring[seq % this.ring.length];
      if (entry === undefined || entry.seq !== seq) return [this.resyncFrame()];
      if (canSee(subscriber, entry.event.accountId)) frames.push({ id: this.idOf(seq), event: entry.event });
    }
    return frames;
  }

  /**
   * An account changed (its agents may have): agents read their accounts again, and one whose
   * accounts changed is told to read everything again (a new tab, a tab gone).
   */
  private reloadVisibility(): void {
    for (const subscriber of this.subscribers) {
      if (subscriber.visible === undefined) continue;
      subscriber.generation += 1;
      const generation = subscriber.generation;
      const before = subscriber.visible;
      this.visibleOf(subscriber.viewer).then(
        (after) => {
          if (subscriber.generation !== generation || after === undefined || !this.subscribers.has(subscriber)) return;
          subscriber.visible = after;
          if (!sameSet(before, after)) subscriber.deliver(this.resyncFrame());
        },
        // The store could not answer: the agent keeps the accounts it had until the next change.
        () => undefined,
      );
    }
  }

  private broadcastResync(): void {
    const frame = this.resyncFrame();
    for (const subscriber of this.subscribers) subscriber.deliver(frame);
  }

  private async visibleOf(viewer: LiveViewer): Promise<ReadonlySet<number> | undefined> {
    if (viewer.role === 'admin') return undefined;
    return new Set(await this.options.visibleAccountIds(viewer));
  }

  private resyncFrame(): LiveFrame {
    return { id: this.idOf(this.seq), event: { kind: 'resync' } };
  }

  private idOf(seq: number): string {
    return `${this.boot}-${seq}`;
  }

  /** The sequence number of an id of this run, or undefined for anything else. */
  private seqOf(id: string): number | undefined {
    const dash = id.lastIndexOf('-');
    if (dash < 0 || id.slice(0, dash) !== this.boot) return undefined;
    const digits = id.slice(dash + 1);
    if (digits === '' || digits.length > 15) return undefined;
    for (let index = 0; index < digits.length; index += 1) {
      const code = digits.charCodeAt(index);
      if (code < 0x30 || code > 0x39) return undefined;
    }
    return Number(digits);
  }
}

function canSee(subscriber: Subscriber, accountId: number): boolean {
  return subscriber.visible === undefined || subscriber.visible.has(accountId);
}

function sameSet(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  if (a.size !== b.size) return false;
  for (const value of a) if (!b.has(value)) return false;
  return true;
}

/** The event a subscriber sees for a change of the feed, if any. */
export function liveEventOf(change: ClusterChange): LiveEvent | undefined {
  switch (change.kind) {
    case 'message':
      return {
        kind: 'message',
        accountId: change.accountId,
        interactionId: change.interactionId,
        messageId: change.id,
      };
    case 'delivery':
      return {
        kind: 'delivery',
        accountId: change.accountId,
        interactionId: change.interactionId,
        messageId: change.id,
        state: change.state,
      };
    case 'conversation':
      return { kind: 'conversation', accountId: change.accountId, interactionId: change.id, change: change.change };
    case 'accountStatus':
      return { kind: 'account', accountId: change.id, change: 'status' };
    case 'account':
      return { kind: 'account', accountId: change.id, change: change.op === 'deleted' ? 'deleted' : 'settings' };
    case 'provider':
    case 'grant':
    case 'leases':
    case 'node':
    case 'resync':
      return undefined;
  }
}
