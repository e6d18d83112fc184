import type { Logger } from '../log/index.js';
import type { ChangeFeed, ClusterChange } from '../services/cluster/change-feed.js';
import type { ClusterService } from '../services/cluster/cluster-service.js';
import type {
  EmailAccountRecord,
  MailboxSyncService,
  MailboxSyncSession,
  SyncSessionOptions,
  SyncStatusChange,
  SyncTuning,
} from '../services/accounts/mailbox-sync-service.js';

export interface MailboxWorkersOptions {
  clock?: () => Date;
  tuning?: Partial<SyncTuning>;
  /** Tuning of the Graph engine (accounts on transport `graph`). */
  graphTuning?: SyncSessionOptions['graphTuning'];
  /**
   * Called after each fetched message is stored or recognised as a duplicate (metrics, webhook
   * wake-up, the live stream), with the account it was read for.
   */
  onIngested?: (...args: [...Parameters<NonNullable<SyncSessionOptions['onIngested']>>, accountId: number]) => void;
  /**
   * Several nodes (PostgreSQL): this node reads only the mailboxes whose lease it holds, and each
   * of their writes checks the lease's epoch. Absent: every active account (one node).
   */
  leases?: Pick<
    ClusterService,
    'leaseRound' | 'renewLeases' | 'release' | 'fence' | 'leaseSettings' | 'withdrawFromMailboxes'
  >;
  /** Every how often the leases are renewed and claimed (ms). Default a third of a lease. */
  leaseIntervalMs?: number;
  /**
   * The nodes' change feed: account, provider and grant changes made on any node. Absent: the
   * account changes of this process only.
   */
  feed?: Pick<ChangeFeed, 'subscribe' | 'publish'>;
  /** Every how often every account is looked at again, the safety net of the feed (ms). Default 30 s. */
  reconcileIntervalMs?: number;
}

/** Every how often a node checks that its leases were renewed in time (ms; a twentieth of shorter leases). */
const CUT_OFF_CHECK_MS = 1000;

/** Mailboxes a lease round starts at once. */
const PARALLEL_STARTS = 4;

/** A lease round that waited this long in the queue says so in the log (ms). */
const SLOW_ROUND_MS = 1000;

interface Worker {
  sync: MailboxSyncSession;
  /** The settings it was started with; a change restarts it. */
  fingerprint: string;
  providerId: number | null;
  /** The engine's last status. */
  status: SyncStatusChange['status'] | undefined;
}

/**
 * One mailbox worker per active account (worker role). Follows the accounts' changes, so that
 * enabling, disabling, editing or deleting an account takes effect without a restart, and turns
 * the sync engine's status changes into the account's live status and its timeline.
 *
 * With several nodes (`leases`), a worker runs only for an account whose mailbox lease this node
 * holds: a lease round every third of a lease renews and claims (ClusterService decides how
 * many), workers of leases lost or over the share stop — before the lease is released, so that
 * a mailbox never has two readers — and a node that could not renew for two thirds of a lease
 * stops reading before anyone else may take over. Changes arrive through the nodes' change feed;
 * a periodic reconcile catches whatever a lost note missed.
 */
export class MailboxWorkers {
  private readonly workers = new Map<number, Worker>();
  private readonly unsubscribe: Array<() => void> = [];
  private queue: Promise<void> = Promise.resolve();
  /**
   * What the workers report, recorded in order (status, timeline, notices) — apart from
   * {@link queue}: a node that just started 500 mailboxes has some 1,500 statuses to record
   * (9 s on PostgreSQL), and a lease round behind them left another node's mailboxes unread
   * that long (bench:cluster, SIGTERM).
   */
  private records: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Leases held (account id → epoch); undefined without leases. */
  private held: Map<number, number> | undefined;
  /** When the leases were last renewed (performance.now()). */
  private renewedAt = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  /** The lease round waiting in the queue: why, since when, and what was ahead of it. */
  private roundAsked: { reason: string; at: number; behind: number; running: string | undefined } | undefined;
  /** Tasks waiting in the queue, and the one running (for the lease round's log). */
  private pending = 0;
  private runningTask: string | undefined;
  private renewing = false;

  constructor(
    private readonly mailboxes: MailboxSyncService,
    private readonly logger: Logger,
    private readonly options: MailboxWorkersOptions = {},
  ) {}

  async start(): Promise<void> {
    const { feed, leases } = this.options;
    if (feed === undefined) {
      const onChanged = (id: number): void => this.enqueue('account change', () => this.reconcile(id));
      const onDeleted = (id: number): void => this.enqueue('account deleted', () => this.stopWorker(id));
      const { changes } = this.mailboxes;
      changes.on('changed', onChanged);
      changes.on('deleted', onDeleted);
      this.unsubscribe.push(
        () => changes.off('changed', onChanged),
        () => changes.off('deleted', onDeleted),
      );
    } else {
      this.unsubscribe.push(feed.subscribe((change) => this.follow(change)));
    }
    if (leases !== undefined) this.held = new Map();
    // The first round and reconcile run in the queue (changes arriving meanwhile wait behind them),
    // and their failure fails the start.
    const initial = this.queue.then(async () => {
      if (leases !== undefined) await this.leaseRound();
      await this.reconcileAll();
    });
    this.queue = initial.catch(() => undefined);
    await initial;
    if (leases !== undefined) {
      const every = this.options.leaseIntervalMs ?? Math.floor(leases.leaseSettings.ttlMs / 3);
      this.every(every, () => {
        void this.renew();
        this.queueLeaseRound('timer');
      });
      // Checked every second, not only when renewing: checked every third of a lease, a node cut
      // off just after a check noticed it only at the lease's very end, while another node could
      // already claim the mailbox (two IMAP sessions for a moment, seen on a loaded machine).
      this.every(Math.min(CUT_OFF_CHECK_MS, leases.leaseSettings.ttlMs / 20), () =>
        this.stopIfCutOff(leases.leaseSettings.ttlMs),
      );
    }
    this.every(this.options.reconcileIntervalMs ?? 30_000, () => this.enqueue('reconcile', () => this.reconcileAll()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    for (const off of this.unsubscribe.splice(0)) off();
    await this.queue;
    await Promise.all([...this.workers.keys()].map((id) => this.stopWorker(id)));
    await this.records;
    const { leases } = this.options;
    if (leases === undefined) return;
    // Every worker has stopped: the mailboxes are free for the other nodes at once — counted out of
    // the shares first, or the others would find themselves at their share and leave them free.
    try {
      await leases.withdrawFromMailboxes();
      if ((await leases.release()) > 0) this.options.feed?.publish({ kind: 'leases' });
    } catch (error) {
      this.logger.warn({ err: error }, 'could not release the mailbox leases; they expire by themselves');
    }
  }

  /** Account ids whose lease this node holds (all running accounts without leases). */
  leased(): number[] {
    return this.held === undefined ? this.running() : [...this.held.keys()];
  }

  /** Ids of the accounts with a running worker. */
  running(): number[] {
    return [...this.workers.keys()];
  }

  private every(ms: number, tick: () => void): void {
    const timer = setInterval(tick, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** What a change on the feed means here. */
  private follow(change: ClusterChange): void {
    switch (change.kind) {
      case 'account':
        if (change.op === 'deleted') this.enqueue('account deleted', () => this.stopWorker(change.id));
        else this.enqueue('account change', () => this.reconcile(change.id));
        // A new or re-enabled account changes the shares.
        if (this.held !== undefined) this.queueLeaseRound('account change');
        return;
      case 'provider':
        this.enqueue('provider change', () => this.restartFailing(change.id));
        return;
      case 'grant':
        this.enqueue('grant change', () => this.restartFailing(change.providerId));
        return;
      case 'leases':
      case 'node':
        if (this.held !== undefined) this.queueLeaseRound(change.kind === 'node' ? 'node change' : 'leases released');
        return;
      case 'resync':
        if (this.held !== undefined) this.queueLeaseRound('feed reconnected');
        this.enqueue('reconcile', () => this.reconcileAll());
        return;
      case 'message':
      case 'delivery':
      case 'conversation':
      case 'accountStatus':
        return;
    }
  }

  /** One lease round in the queue (never two waiting); `reason` is logged with it. */
  private queueLeaseRound(reason: string): void {
    if (this.roundAsked !== undefined) return;
    // What the round waits behind: with leases to take over, a slow queue is a slow takeover.
    this.roundAsked = { reason, at: performance.now(), behind: this.pending, running: this.runningTask };
    this.enqueue('lease round', async () => {
      // A reconcile of every account ahead of it in the queue may have run it already.
      if (this.roundAsked === undefined) return;
      await this.leaseRound();
    });
  }

  /** Renews and claims; stops the workers of leases lost, then gives back what is over the share. */
  private async leaseRound(): Promise<void> {
    const { leases } = this.options;
    const asked = this.roundAsked;
    this.roundAsked = undefined;
    if (leases === undefined || this.stopped) return;
    const sentAt = performance.now();
    const round = await leases.leaseRound();
    const answeredAt = performance.now();
    this.renewedAt = Math.max(this.renewedAt, sentAt);
    const before = this.held ?? new Map<number, number>();
    const held = new Map(round.held);
    for (const id of round.surplus) held.delete(id);
    this.held = held;
    for (const id of [...this.workers.keys()]) if (!held.has(id)) await this.stopWorker(id);
    if (round.surplus.length > 0) {
      await leases.release(round.surplus);
      this.logger.info({ accounts: round.surplus }, "mailboxes over this node's share given back");
      this.options.feed?.publish({ kind: 'leases' });
    }
    // Several at a time: a node taking over a dead node's share starts hundreds of mailboxes, each
    // waiting mostly on the database (one after another, 500 took 4–7 s in bench:cluster).
    const starting = [...held.keys()].filter((id) => !this.workers.has(id));
    const next = starting[Symbol.iterator]();
    const lane = async (): Promise<void> => {
      for (let step = next.next(); !step.done; step = next.next()) await this.reconcile(step.value);
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_STARTS, starting.length) }, lane));
    const claimed = [...held.keys()].filter((id) => !before.has(id)).length;
    const waitedMs = asked === undefined ? 0 : Math.round(sentAt - asked.at);
    if (claimed === 0 && round.surplus.length === 0 && waitedMs < SLOW_ROUND_MS) return;
    // Said when mailboxes change hands, or when the round waited long in the queue: the timeline
    // of a takeover, and what held it up.
    this.logger.info(
      {
        claimed,
        givenBack: round.surplus.length,
        held: held.size,
        started: starting.length,
        ...(asked === undefined
          ? {}
          : {
              reason: asked.reason,
              waitedMs,
              behind: asked.behind,
              ...(asked.running === undefined ? {} : { behindRunning: asked.running }),
            }),
        roundMs: Math.round(answeredAt - sentAt),
        startMs: Math.round(performance.now() - answeredAt),
      },
      'mailbox lease round',
    );
  }

  /**
   * Renews the leases held, on the timer and outside the queue: a queue busy starting hundreds of
   * mailboxes (or waiting on a slow reconcile) must not leave the leases unrenewed, or the node
   * takes itself for cut off, stops every mailbox, restarts them in the next round — and falls
   * behind again (seen with 1,000 mailboxes per node on a loaded machine). Leases found lost stop
   * their workers at once; claims and shares stay the queued round's.
   */
  private async renew(): Promise<void> {
    const { leases } = this.options;
    const before = this.held;
    if (leases === undefined || before === undefined || before.size === 0 || this.stopped || this.renewing) return;
    this.renewing = true;
    try {
      const sentAt = performance.now();
      const renewed = await leases.renewLeases();
      this.renewedAt = Math.max(this.renewedAt, sentAt);
      // A round that ran meanwhile knows better (it may have claimed leases this answer predates).
      if (this.held !== before) return;
      for (const [id, epoch] of before) {
        if (renewed.get(id) === epoch) continue;
        before.delete(id);
        this.logger.warn({ accountId: id }, 'mailbox lease lost: stopping the mailbox');
        void this.stopWorker(id);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not renew the mailbox leases');
    } finally {
      this.renewing = false;
    }
  }

  /**
   * Cut off from the database for two thirds of a lease: stop reading, before the lease expires
   * and another node may take the mailbox. The leases come back with the next successful round.
   */
  private stopIfCutOff(ttlMs: number): void {
    if (this.held === undefined || this.held.size === 0) return;
    if (performance.now() - this.renewedAt < (ttlMs * 2) / 3) return;
    this.logger.warn({ accounts: [...this.held.keys()] }, 'mailbox leases not renewed in time: stopping the mailboxes');
    this.held = new Map();
    for (const id of [...this.workers.keys()]) void this.stopWorker(id);
  }

  /**
   * Looks at every account again (new, changed, disabled or deleted ones): every account as
   * listed, with its record from that one read. A lease round asked for meanwhile (another node
   * stopping: its mailboxes are free) runs at once instead of after the last account: with a
   * thousand accounts the reconcile takes seconds, and the others' mailboxes would wait.
   */
  private async reconcileAll(): Promise<void> {
    const accounts = await this.mailboxes.listAccounts();
    const known = new Set(accounts.map((account) => account.id));
    for (const id of [...this.workers.keys()]) if (!known.has(id)) await this.stopWorker(id);
    for (const account of accounts) {
      if (this.roundAsked !== undefined) await this.leaseRound();
      await this.reconcile(account.id, account);
    }
  }

  /**
   * A provider or one of its grants changed (a new secret, a new sign-in): its accounts' workers
   * that are not connected start again with it; connected ones pick it up at their next token.
   */
  private async restartFailing(providerId: number): Promise<void> {
    for (const [id, worker] of [...this.workers]) {
      if (worker.providerId !== providerId || worker.status === 'connected') continue;
      await this.stopWorker(id);
      await this.reconcile(id);
    }
  }

  /** Records what a worker reported, after what was reported before it. */
  private record(task: () => Promise<void>): void {
    this.records = this.records
      .then(task)
      .catch((error: unknown) => this.logger.error({ err: error }, 'mailbox worker report not recorded'));
  }

  /** Runs `task` after the ones queued before it; `label` says what it is in the lease round's log. */
  private enqueue(label: string, task: () => Promise<void>): void {
    this.pending += 1;
    this.queue = this.queue
      .then(() => {
        this.pending -= 1;
        this.runningTask = label;
        return task();
      })
      .catch((error: unknown) => this.logger.error({ err: error }, 'mailbox worker change failed'))
      .finally(() => {
        this.runningTask = undefined;
      });
  }

  /** Starts, restarts or stops the account's worker as its record (read now, or `listed`) says. */
  private async reconcile(id: number, listed?: EmailAccountRecord): Promise<void> {
    if (this.stopped) return;
    const account = listed ?? (await this.mailboxes.findAccount(id));
    if (account === undefined) return this.stopWorker(id);
    if (!account.active) {
      await this.stopWorker(id);
      await this.mailboxes.markDisabled(account);
      return;
    }
    const epoch = this.held?.get(id);
    if (this.held !== undefined && epoch === undefined) return this.stopWorker(id);
    const fingerprint = `${fingerprintOf(account)}#${epoch ?? ''}`;
    const current = this.workers.get(id);
    if (current !== undefined && current.fingerprint === fingerprint) return;
    await this.stopWorker(id);
    await this.startWorker(account, fingerprint, epoch);
  }

  private async startWorker(
    account: EmailAccountRecord,
    fingerprint: string,
    epoch: number | undefined,
  ): Promise<void> {
    const log = this.logger.child({ component: 'mailbox', accountId: account.id, key: account.key });
    const onIngested = this.options.onIngested;
    let sync: MailboxSyncSession | undefined;
    // This worker, not one started since for the same account: what it reports is recorded only while it runs.
    const current = (): boolean => sync !== undefined && this.workers.get(account.id)?.sync === sync;
    try {
      sync = await this.mailboxes.openSync(account, {
        logger: log,
        ...(this.options.clock === undefined ? {} : { clock: this.options.clock }),
        ...(this.options.tuning === undefined ? {} : { tuning: this.options.tuning }),
        ...(this.options.graphTuning === undefined ? {} : { graphTuning: this.options.graphTuning }),
        ...(onIngested === undefined
          ? {}
          : { onIngested: (result, message) => onIngested(result, message, account.id) }),
        ...(epoch === undefined || this.options.leases === undefined
          ? {}
          : { fence: this.options.leases.fence(account.id, epoch) }),
        onStatus: (change) => {
          const running = this.workers.get(account.id);
          if (running !== undefined && running.fingerprint === fingerprint) running.status = change.status;
          this.record(() => this.recordStatus(account, change, current));
        },
        onOversize: (notice) => this.record(() => this.mailboxes.recordOversize(account, notice)),
        onWithheld: (notice) => this.record(() => this.mailboxes.recordWithheld(account, notice)),
      });
    } catch (error) {
      log.warn({ err: error }, 'mailbox worker not started');
      await this.mailboxes.recordStartFailure(account, error);
      return;
    }
    this.workers.set(account.id, { sync, fingerprint, providerId: account.providerId, status: undefined });
    sync.start();
    log.info('mailbox worker started');
  }

  private async stopWorker(id: number): Promise<void> {
    const worker = this.workers.get(id);
    if (worker === undefined) return;
    this.workers.delete(id);
    await worker.sync.stop();
  }

  /** Mirrors a status change on the account and in its timeline, while the account's worker runs. */
  private async recordStatus(
    account: EmailAccountRecord,
    change: SyncStatusChange,
    current: () => boolean,
  ): Promise<void> {
    if (change.status === 'stopped' || !current()) return;
    await this.mailboxes.recordStatus(account, change);
  }
}

/** The settings a running worker depends on. */
function fingerprintOf(account: EmailAccountRecord): string {
  return JSON.stringify([
    account.service,
    // The engine itself: IMAP, or Microsoft Graph (for `auto`, once reading switched to it).
    account.transport,
    account.effective.inbound.via,
    account.modernAuth,
    // Sealed: a new password restarts the worker without the password ever being held here.
    account.sealedPassword,
    account.username,
    account.providerId,
    account.modernAuthEmail,
    account.imapHost,
    account.imapPort,
    account.tlsCaPem,
    account.folder,
    account.scanJunk,
    account.afterFetchAction,
    account.afterFetchFolder,
    account.maxMessageBytes,
    account.useIdle,
    account.pollIntervalSeconds,
    account.firstSync,
  ]);
}
