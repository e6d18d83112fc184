/**
 * The outbox dispatcher (worker role). It claims due outbox rows account by account — within the
 * account's limits, counted in the database so that they hold across every node (see
 * store/outbox.ts and domain/outbox-policy.ts) — and hands each claimed row to the delivery
 * service, many accounts in parallel. A claim carries a lease that the dispatcher renews while the
 * submission runs; a claim whose node died is released when its lease runs out and sent again.
 *
 * Time comes from the database clock (`db.now()`), so tests move it instead of waiting. Wake-ups:
 * every `pollIntervalMs`, when a message is queued in this process (`wake()`), when a delivery
 * finishes, and at the moment an account's limit frees room.
 *
 * @see ../../../shared/BRIEF.md flow 4 "Send", "Several machines", "Reliability"
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { sendingConcurrency } from '../domain/outbox-policy.js';
import type { Logger } from '../log/index.js';
import type { DeliveryOutcome } from '../services/outbound/delivery-service.js';
import type {
  AccountTransport,
  OutboxDispatchService,
  OutboxRecord,
} from '../services/outbound/outbox-dispatch-service.js';

/**
 * Delivers one claimed row (the DeliveryService). While the store cannot write it holds the
 * delivery rather than failing it; `signal` aborts when the dispatcher stops, so that a store that
 * stays down cannot hold the shutdown.
 */
export interface Deliverer {
  deliver(row: OutboxRecord, claimer: string, signal?: AbortSignal): Promise<DeliveryOutcome>;
}

/** Options of {@link OutboxDispatcher}. */
export interface OutboxDispatcherOptions {
  /**
   * Identifies this node in claims (`<node id>#<n>`): the cluster's node id, so that other nodes
   * can tell its claims when it goes silent. Default `<host>:<pid>:<random>`.
   */
  readonly nodeId?: string;
  /**
   * The other nodes that went silent or stopped (several nodes): their claims are queued again
   * within {@link DEAD_NODE_SWEEP_MS} of being seen so, instead of when their lease runs out.
   */
  readonly deadNodes?: () => Promise<readonly string[]>;
  /** How often the outbox is looked at without a wake-up. Default 1 second. */
  readonly pollIntervalMs?: number;
  /** How long a claim holds without renewal. Default 10 minutes (renewed every third of it). */
  readonly leaseMs?: number;
  /** Submissions this node runs at once, all accounts together. Default 300. */
  readonly maxInFlight?: number;
  /**
   * At start, queue again the claims of a previous run: `all` (a single SQLite process knows
   * nothing else is sending) or only `expired` ones (PostgreSQL, other nodes may be sending).
   * Default by engine.
   */
  readonly recoverOnStart?: 'all' | 'expired';
  /**
   * The transports this node can submit with. Default all: SMTP submission, Microsoft Graph, and
   * `auto` (SMTP until Exchange refuses SMTP AUTH, then Graph).
   */
  readonly transports?: readonly AccountTransport[];
  /**
   * Milliseconds on a clock that only moves forward (default `performance.now()`). How long an
   * account is skipped and when maintenance is due are durations measured on it: a wall clock set
   * back by hours must not hold an account's mail, or the recovery of dead claims, for hours.
   */
  readonly monotonic?: () => number;
}

/** What one claim round did. */
export interface DispatchRound {
  readonly claimed: number;
  readonly failedImpossible: number;
  readonly accounts: number;
}

const MAINTENANCE_INTERVAL_MS = 60_000;
/** How often the claims of dead nodes are looked for, when {@link OutboxDispatcherOptions.deadNodes} is given. */
export const DEAD_NODE_SWEEP_MS = 5_000;
/** An account blocked by time is skipped at most this long, so raised limits take effect soon. */
const MAX_SKIP_MS = 60_000;

/** Claims due outbox rows within each account's limits and delivers them. */
export class OutboxDispatcher {
  private readonly nodeId: string;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly maxInFlight: number;
  private readonly transports: readonly AccountTransport[];
  private readonly inFlight = new Map<number, { claimer: string; done: Promise<void> }>();
  /**
   * Accounts blocked by time: skipped while neither clock says the time has come — the database's
   * (moved by tests, jumping forward) nor the monotonic one (a wall clock set back).
   */
  private readonly skipUntil = new Map<number, { wall: number; tick: number }>();
  /** Submissions under way per account in this process: no claim is tried while they fill its limit. */
  private readonly accountInFlight = new Map<number, number>();
  private sequence = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastMaintenance = { wall: Number.NEGATIVE_INFINITY, tick: Number.NEGATIVE_INFINITY };
  private lastDeadNodeSweep = { wall: Number.NEGATIVE_INFINITY, tick: Number.NEGATIVE_INFINITY };
  private readonly monotonic: () => number;
  /** Aborted by {@link stop}: deliveries held by a store that cannot write give up their wait. */
  private stopping = new AbortController();
  /** The storage failure claim rounds meet, logged once until a round succeeds again. */
  private storeFailing: string | undefined;

  constructor(
    private readonly outbox: OutboxDispatchService,
    private readonly deliverer: Deliverer,
    private readonly logger: Logger,
    private readonly options: OutboxDispatcherOptions = {},
  ) {
    this.nodeId = options.nodeId ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.leaseMs = options.leaseMs ?? 10 * 60_000;
    this.maxInFlight = options.maxInFlight ?? 300;
    this.transports = options.transports ?? ['imap_smtp', 'graph', 'auto'];
    this.monotonic = options.monotonic ?? (() => performance.now());
  }

  /** Recovers claims of a previous run, then dispatches until {@link stop}. */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    this.heartbeat = setInterval(() => void this.renewLeases(), Math.max(1000, Math.floor(this.leaseMs / 3))).unref();
    this.loop = this.run();
  }

  /** Stops claiming, and resolves when the submissions under way have finished. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    this.wake();
    await this.loop;
    await this.drain();
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Looks at the outbox now (a message was queued, a delivery finished). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * One claim round and the deliveries it started, awaited — for tests and tools that step the
   * clock themselves. Does not recover claims; call {@link recover} for that.
   */
  async runOnce(): Promise<DispatchRound> {
    const round = await this.claimRound();
    await this.drain();
    return round;
  }

  /** Queues again claims left by a dead run (all, or expired ones and dead nodes'); returns how many. */
  async recover(scope: 'all' | 'expired', deadNodes: readonly string[] = []): Promise<number> {
    const released = await this.outbox.recoverClaims(scope, deadNodes);
    if (released > 0)
      this.logger.warn(
        { count: released, scope, ...(deadNodes.length === 0 ? {} : { deadNodes }) },
        'interrupted submissions queued again',
      );
    return released;
  }

  /** Submissions under way in this process. */
  get activeCount(): number {
    return this.inFlight.size;
  }

  private async run(): Promise<void> {
    try {
      await this.recover(this.options.recoverOnStart ?? this.outbox.recoveryScopeAtStart());
    } catch (error) {
      this.logger.error({ err: error }, 'outbox recovery failed');
    }
    while (this.running) {
      try {
        await this.claimRound();
        if (this.storeFailing !== undefined)
          this.logger.info({ code: this.storeFailing }, 'the store writes again; sending resumes');
        this.storeFailing = undefined;
      } catch (error) {
        // A store that cannot write holds sending (nothing is claimed, nothing fails): said once.
        const storage = this.outbox.storageFailure(error);
        if (storage === undefined) this.logger.error({ err: error }, 'outbox claim round failed');
        else if (this.storeFailing !== storage.code) {
          this.storeFailing = storage.code;
          this.logger.error(
            { err: storage, code: storage.code },
            'the store cannot write; sending is held until it can',
          );
        }
      }
      await this.sleep();
    }
  }

  private async claimRound(): Promise<DispatchRound> {
    const now = this.outbox.now();
    const tick = this.monotonic();
    await this.maintain(now, tick);
    const accounts = await this.outbox.accountsWithDueMail(now, this.transports);
    let claimed = 0;
    let failedImpossible = 0;
    for (const account of accounts) {
      const room = this.maxInFlight - this.inFlight.size;
      if (room <= 0) break;
      const skip = this.skipUntil.get(account.accountId);
      if (skip !== undefined && skip.wall > now.getTime() && skip.tick > tick) continue;
      // Through Graph, at most 4 at a time per mailbox (MailboxConcurrency), whatever the setting.
      const concurrency = sendingConcurrency(account.transport, account.concurrency);
      if ((this.accountInFlight.get(account.accountId) ?? 0) >= concurrency) continue;
      this.sequence += 1;
      const claimer = `${this.nodeId}#${this.sequence}`;
      const result = await this.outbox.claim({
        accountId: account.accountId,
        limits: {
          perMinute: account.sendPerMinute,
          recipientsPerDay: account.recipientsPerDay,
          concurrency,
        },
        now,
        claimer,
        leaseMs: this.leaseMs,
        max: room,
      });
      for (const row of result.impossible)
        failedImpossible += (await this.outbox.failOverDailyLimit(row, account.recipientsPerDay, now)) ? 1 : 0;
      if (result.claimed.length === 0 && result.retryAt !== null) {
        const wait = Math.max(0, Math.min(result.retryAt.getTime() - now.getTime(), MAX_SKIP_MS));
        this.skipUntil.set(account.accountId, { wall: now.getTime() + wait, tick: tick + wait });
      } else {
        this.skipUntil.delete(account.accountId);
      }
      for (const row of result.claimed) this.launch(row, claimer);
      claimed += result.claimed.length;
    }
    return { claimed, failedImpossible, accounts: accounts.length };
  }

  private launch(row: OutboxRecord, claimer: string): void {
    this.accountInFlight.set(row.accountId, (this.accountInFlight.get(row.accountId) ?? 0) + 1);
    const done = this.deliverer
      .deliver(row, claimer, this.stopping.signal)
      .then(
        () => undefined,
        (error: unknown) =>
          this.logger.error(
            { err: error, messageId: row.messageId, accountId: row.accountId },
            'delivery could not be recorded; the claim is released when its lease ends',
          ),
      )
      .finally(() => {
        this.inFlight.delete(row.id);
        const left = (this.accountInFlight.get(row.accountId) ?? 1) - 1;
        if (left <= 0) this.accountInFlight.delete(row.accountId);
        else this.accountInFlight.set(row.accountId, left);
        this.wake();
      });
    this.inFlight.set(row.id, { claimer, done });
  }

  /** Expired claims of other nodes, old counters and idempotency keys, once a minute. */
  private async maintain(now: Date, tick: number): Promise<void> {
    await this.sweepDeadNodes(now, tick);
    // Due when either clock says a minute passed: a wall clock set back must not postpone it for hours.
    const last = this.lastMaintenance;
    if (now.getTime() - last.wall < MAINTENANCE_INTERVAL_MS && tick - last.tick < MAINTENANCE_INTERVAL_MS) return;
    this.lastMaintenance = { wall: now.getTime(), tick };
    await this.recover('expired');
    await this.outbox.pruneExpired(now);
  }

  /** Queues again the claims of nodes gone silent, every {@link DEAD_NODE_SWEEP_MS}. */
  private async sweepDeadNodes(now: Date, tick: number): Promise<void> {
    if (this.options.deadNodes === undefined) return;
    const last = this.lastDeadNodeSweep;
    if (now.getTime() - last.wall < DEAD_NODE_SWEEP_MS && tick - last.tick < DEAD_NODE_SWEEP_MS) return;
    this.lastDeadNodeSweep = { wall: now.getTime(), tick };
    const dead = (await this.options.deadNodes()).filter((node) => node !== this.nodeId);
    if (dead.length > 0) await this.recover('expired', dead);
  }

  private async renewLeases(): Promise<void> {
    const claimers = [...new Set([...this.inFlight.values()].map((entry) => entry.claimer))];
    if (claimers.length === 0) return;
    try {
      await this.outbox.renewClaims(claimers, new Date(this.outbox.now().getTime() + this.leaseMs));
    } catch (error) {
      this.logger.warn({ err: error }, 'could not renew outbox leases');
    }
  }

  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()].map((entry) => entry.done));
  }

  /** Waits for a wake-up, the poll interval, or the moment a skipped account frees room. */
  private async sleep(): Promise<void> {
    if (!this.running) return;
    if (this.woken) {
      this.woken = false;
      return;
    }
    const tick = this.monotonic();
    const nextFree =
      Math.min(...[...this.skipUntil.values()].map((skip) => skip.tick), Number.POSITIVE_INFINITY) - tick;
    const wait = Math.max(10, Math.min(this.pollIntervalMs, nextFree));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
    this.wakeUp = undefined;
    this.woken = false;
  }
}
