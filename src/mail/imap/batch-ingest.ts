/**
 * How one fetched batch reaches the store while it is still streaming in: each message is handed
 * to `store.prepare` on arrival (parsing starts, elsewhere), messages are put in UID order, and
 * groups of them are committed — each group one transaction that also moves the checkpoint to
 * its last message (a group commit). Commits are queued one after another without holding up
 * the fetch, so that receiving, parsing and writing overlap.
 *
 * Order is what keeps "nothing lost": a group is queued only when every planned UID below its
 * last one is in it or in a group before it, and groups commit in queue order, so the checkpoint
 * never passes a message that is not stored. A planned UID the server does not return holds the
 * later ones back until the batch ends. If it was expunged meanwhile, they are then committed in
 * order. If it is still in the folder — the server withheld it (Exchange sometimes answers a FETCH
 * with `OK` and leaves a message out) — the caller says so with `withhold`: the later messages are
 * stored all the same, marked `aboveGap`, so that the checkpoint stays below the withheld one and
 * the next sync asks for it again.
 */
import type { FetchedMessage, SyncStore } from './folder-sync.js';

/** Limits of one group (one transaction). */
export interface GroupLimits {
  /** Messages per group, at most. */
  readonly groupCount: number;
  /** Bytes of MIME per group, at most; a larger message forms a group alone. */
  readonly groupBytes: number;
}

/** What a batch stored. */
export interface BatchOutcome {
  /** UIDs committed, ascending. */
  readonly uids: number[];
  /** Planned UIDs the server withheld (see `withhold`), ascending. */
  readonly withheld: number[];
  readonly stored: number;
  readonly duplicates: number;
}

/** One batch on its way to the store; see the module comment. */
export class BatchIngest {
  private readonly planned: number[];
  private readonly arrived = new Map<number, FetchedMessage>();
  private next = 0;
  private group: FetchedMessage[] = [];
  private groupBytes = 0;
  /** The queued commits, one after another; rejected from the first failure on. */
  private chain: Promise<void> = Promise.resolve();
  private readonly outcome = { uids: [] as number[], withheld: [] as number[], stored: 0, duplicates: 0 };

  /**
   * @param gap a UID withheld earlier in the same sync: messages above it must not move the
   *   checkpoint either.
   */
  constructor(
    private readonly store: SyncStore,
    uids: readonly number[],
    private readonly limits: GroupLimits,
    private gap?: number,
  ) {
    this.planned = [...uids].sort((a, b) => a - b);
    // A failure is reported by end(); until then it must not surface as an unhandled rejection.
    this.chain.catch(() => undefined);
  }

  /** A message has arrived (in any order). */
  arrive(arrived: FetchedMessage): void {
    const message = this.gap !== undefined && arrived.uid > this.gap ? { ...arrived, aboveGap: true } : arrived;
    this.store.prepare?.(message);
    this.arrived.set(message.uid, message);
    for (let uid = this.planned[this.next]; uid !== undefined; uid = this.planned[this.next]) {
      const ready = this.arrived.get(uid);
      if (ready === undefined) break;
      this.arrived.delete(uid);
      this.next += 1;
      this.take(ready);
    }
    if (this.group.length >= this.limits.groupCount || this.groupBytes >= this.limits.groupBytes) this.queue();
  }

  /** Planned UIDs that have not arrived, ascending. */
  missing(): number[] {
    return this.planned.slice(this.next).filter((uid) => !this.arrived.has(uid));
  }

  /**
   * These missing UIDs are still in the folder: the messages above the lowest of them are stored
   * without moving the checkpoint past it. Call before `end`.
   */
  withhold(uids: readonly number[]): void {
    if (uids.length === 0) return;
    this.outcome.withheld.push(...uids);
    this.outcome.withheld.sort((a, b) => a - b);
    const lowest = Math.min(...uids);
    this.gap = this.gap === undefined ? lowest : Math.min(this.gap, lowest);
  }

  /**
   * The fetch is over: commits what is left, waits for every queued commit and reports what was
   * stored. Throws the first commit's failure; the groups before it stay committed.
   */
  async end(): Promise<BatchOutcome> {
    const gap = this.gap;
    for (const uid of [...this.arrived.keys()].sort((a, b) => a - b)) {
      const message = this.arrived.get(uid);
      if (message === undefined) continue;
      this.take(gap !== undefined && uid > gap && message.aboveGap !== true ? { ...message, aboveGap: true } : message);
    }
    this.arrived.clear();
    this.queue();
    await this.chain;
    return this.outcome;
  }

  /** The fetch failed: waits for the commits already queued (their messages stay stored), ignoring their failures. */
  async abandon(): Promise<BatchOutcome> {
    this.arrived.clear();
    this.group = [];
    await this.chain.catch(() => undefined);
    return this.outcome;
  }

  private take(message: FetchedMessage): void {
    const full =
      this.group.length >= this.limits.groupCount || this.groupBytes + message.raw.length > this.limits.groupBytes;
    if (this.group.length > 0 && full) this.queue();
    this.group.push(message);
    this.groupBytes += message.raw.length;
  }

  private queue(): void {
    if (this.group.length === 0) return;
    const committing = this.group;
    this.group = [];
    this.groupBytes = 0;
    this.chain = this.chain.then(async () => {
      const results = await this.store.ingestMany(committing);
      for (const result of results) {
        if (result.outcome === 'stored') this.outcome.stored += 1;
        else this.outcome.duplicates += 1;
      }
      this.outcome.uids.push(...committing.map((message) => message.uid));
    });
    this.chain.catch(() => undefined);
  }
}
