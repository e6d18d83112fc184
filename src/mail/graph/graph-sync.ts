/**
 * The sync engine of one mailbox read through Microsoft Graph, with the IMAP engine's outward
 * shape (`../imap/mailbox-sync.ts`): start and stop, status changes (connecting → connected, or
 * disconnected / error with a catalogue error and the delay before the next attempt), `onSynced`
 * after each round, `onOversize` for each message moved aside.
 *
 * - A round syncs the account's folder (and Junk when asked) by delta (see graph-sync-folder.ts);
 *   between rounds the engine waits the account's poll interval — Graph has no IDLE. With a
 *   subscription port (the public URL is https), each folder also gets a change-notification
 *   subscription (graph-subscriptions.ts): a notification, or a `missed` lifecycle event, wakes
 *   the engine for a round at once; polling stays as the safety net, and is all there is while a
 *   folder has no live subscription.
 * - The Graph client comes from the caller, one per connection attempt, bound to the engine's
 *   abort signal: `stop()` ends waits and requests at once, and resolves when the engine is idle.
 * - Throttling (429) is waited out by the client as Retry-After asks; when its budget is spent,
 *   the engine waits what Graph asked before trying again. Other failures retry with exponential
 *   backoff and jitter; an error a person must fix is retried slowly, so that the account
 *   recovers on its own once the cause is fixed.
 *
 * @see https://learn.microsoft.com/graph/delta-query-messages
 * @see https://learn.microsoft.com/graph/throttling
 * @see ../../../../shared/reference/microsoft-protocols.md §7, §8
 */
import { ZodError } from 'zod';
import { PosternError, isPosternError } from '../../errors/index.js';
import type { AfterFetchAction, SyncLogger } from '../imap/folder-sync.js';
import type { SyncStatusChange } from '../imap/mailbox-sync.js';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from '../imap/reconnect-policy.js';
import type { FirstSync } from '../imap/sync-plan.js';
import { GraphCallStopped, type GraphClient } from './graph-client.js';
import {
  DEFAULT_SUBSCRIPTION_TIMING,
  GraphSubscriptions,
  type GraphLifecycleEvent,
  type GraphSubscriptionPort,
  type GraphSubscriptionTiming,
} from './graph-subscriptions.js';
import {
  GraphFolderSync,
  type GraphFolder,
  type GraphFolderReport,
  type GraphOversizeNotice,
  type GraphSyncStore,
} from './graph-sync-folder.js';

export type {
  GraphFetchedMessage,
  GraphFolderReport,
  GraphOversizeNotice,
  GraphSyncStore,
  DeltaCheckpoint,
} from './graph-sync-folder.js';

/** Tuning with sensible defaults; tests shorten them. */
export interface GraphSyncTuning {
  /** `Prefer: odata.maxpagesize` of delta rounds. */
  readonly pageSize: number;
  readonly groupCount: number;
  readonly groupBytes: number;
  readonly backoff: BackoffPolicy;
  readonly reconcileWindowMs: number;
  readonly reconcileLimit: number;
  readonly oversizeFolder: string;
  /** Subscriptions' lifetime and renewal margin. */
  readonly subscriptionTiming: GraphSubscriptionTiming;
  /** How often, at most, a waiting engine looks whether a subscription is due for renewal. */
  readonly subscriptionCheckMs: number;
}

const DEFAULT_TUNING: GraphSyncTuning = {
  pageSize: 100,
  groupCount: 50,
  groupBytes: 8 * 1024 * 1024,
  backoff: DEFAULT_BACKOFF,
  reconcileWindowMs: 15 * 60_000,
  reconcileLimit: 1_000,
  oversizeFolder: 'Postern Oversize',
  subscriptionTiming: DEFAULT_SUBSCRIPTION_TIMING,
  subscriptionCheckMs: 5 * 60_000,
};

/** Options of {@link GraphSync}. */
export interface GraphSyncOptions {
  /** The mailbox, for logs and errors. */
  readonly mailbox: string;
  /** A Graph client of the mailbox whose calls end when `signal` aborts. */
  readonly openClient: (signal: AbortSignal) => Promise<GraphClient>;
  /** The folder's path as the account names it (`INBOX`, `Customers/Acme`). */
  readonly folder: string;
  readonly scanJunk?: boolean;
  readonly afterFetch?: AfterFetchAction;
  readonly afterFetchFolder?: string | null;
  readonly maxMessageBytes: number;
  readonly pollIntervalMs?: number;
  readonly firstSync?: FirstSync;
  readonly store: GraphSyncStore;
  readonly logger?: SyncLogger;
  readonly clock?: () => Date;
  readonly random?: () => number;
  readonly onStatus?: (change: SyncStatusChange) => void;
  readonly onOversize?: (notice: GraphOversizeNotice) => void;
  readonly onSynced?: (reports: readonly GraphFolderReport[]) => void;
  readonly tuning?: Partial<GraphSyncTuning>;
  /** Change notifications (only when Postern's public URL is https); without it, polling only. */
  readonly subscriptions?: GraphSubscriptionPort;
}

const SILENT: SyncLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

interface Session {
  readonly client: GraphClient;
  readonly folders: GraphFolderSync;
  readonly targets: readonly GraphFolder[];
}

/** The Graph sync engine of one mailbox; see the module comment. */
export class GraphSync {
  private readonly tuning: GraphSyncTuning;
  private readonly log: SyncLogger;
  private readonly clock: () => Date;
  private readonly random: () => number;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private abort = new AbortController();
  private current: SyncStatusChange;
  private readonly subscriptions: GraphSubscriptions | undefined;
  /** Set by a notification: the wait between rounds ends at once. */
  private woken = false;
  private wakeWaiter: (() => void) | undefined;
  private readonly lifecycleQueue: Array<{ event: GraphLifecycleEvent; subscriptionId: string }> = [];

  constructor(private readonly options: GraphSyncOptions) {
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.log = options.logger ?? SILENT;
    this.clock = options.clock ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.current = { status: 'stopped', at: this.clock() };
    this.subscriptions =
      options.subscriptions === undefined
        ? undefined
        : new GraphSubscriptions(
            options.subscriptions,
            this.tuning.subscriptionTiming,
            this.clock,
            this.log,
            options.mailbox,
          );
  }

  /** Ends the wait between rounds: a round starts at once (a change notification). */
  wake(): void {
    this.woken = true;
    this.wakeWaiter?.();
  }

  /** The latest status. */
  get status(): SyncStatusChange {
    return this.current;
  }

  /** Starts syncing in the background; does nothing when already running. */
  start(): void {
    if (this.loop !== undefined) return;
    this.stopping = false;
    this.abort = new AbortController();
    this.loop = this.run().finally(() => {
      this.loop = undefined;
    });
  }

  /** Stops: ends waits and requests at once and resolves when the engine is idle. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.loop;
    await this.unsubscribe();
    this.setStatus({ status: 'stopped', at: this.clock() });
  }

  /** Deletes the engine's subscriptions in Graph (best effort, 10 s at most) and forgets them. */
  private async unsubscribe(): Promise<void> {
    if (this.subscriptions === undefined) return;
    try {
      const client = await this.options.openClient(AbortSignal.timeout(10_000));
      await this.subscriptions.removeAll(client);
    } catch (error) {
      this.log.warn(
        { mailbox: this.options.mailbox, err: isPosternError(error) ? error : String(error) },
        'Graph subscriptions not deleted; they expire by themselves',
      );
    }
  }

  /**
   * Syncs the folders once — for a command-line run or a test. Throws the catalogue error on
   * failure; never retries. `signal` ends it at once (a stop, or a test's kill).
   */
  async syncOnce(signal?: AbortSignal): Promise<GraphFolderReport[]> {
    try {
      const session = await this.openSession(signal ?? new AbortController().signal);
      return await this.syncFolders(session, true);
    } catch (error) {
      throw this.mapError(error);
    }
  }

  private async run(): Promise<void> {
    const detach = this.options.subscriptions?.attach({
      notified: () => this.wake(),
      lifecycle: (event, subscriptionId) => {
        this.lifecycleQueue.push({ event, subscriptionId });
        this.wake();
      },
    });
    try {
      await this.runSessions();
    } finally {
      detach?.();
    }
  }

  private async runSessions(): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      this.setStatus({ status: 'connecting', at: this.clock() });
      try {
        const session = await this.openSession(this.abort.signal);
        this.setStatus({ status: 'connected', at: this.clock() });
        let reconcile = true;
        while (!this.stopping) {
          this.woken = false;
          await this.maintainSubscriptions(session);
          await this.syncFolders(session, reconcile);
          reconcile = false;
          attempt = 0;
          if (this.current.status !== 'connected') this.setStatus({ status: 'connected', at: this.clock() });
          await this.waitForWork(session, this.options.pollIntervalMs ?? 60_000);
        }
      } catch (error) {
        if (this.stopping || error instanceof GraphCallStopped) break;
        const mapped = this.mapError(error);
        const wait = this.retryDelay(mapped, attempt);
        attempt += 1;
        const status = mapped.code === 'INTERNAL' || mapped.code.startsWith('STORE_') ? 'error' : 'disconnected';
        this.log[mapped.kind === 'transient' ? 'warn' : 'error'](
          { err: mapped, retryInMs: wait },
          `mailbox ${this.options.mailbox}: ${mapped.message}`,
        );
        this.setStatus({ status, error: mapped, retryInMs: wait, at: this.clock() });
        await this.sleep(wait);
      }
    }
  }

  /** A client, and the folders to sync resolved to their Graph ids. */
  private async openSession(signal: AbortSignal): Promise<Session> {
    const client = await this.options.openClient(signal);
    const folders = new GraphFolderSync(
      client,
      {
        afterFetch: this.options.afterFetch ?? 'mark_seen',
        afterFetchFolder: this.options.afterFetchFolder ?? null,
        maxMessageBytes: this.options.maxMessageBytes,
        oversizeFolder: this.tuning.oversizeFolder,
        firstSync: this.options.firstSync ?? { kind: 'days', days: 7 },
        pageSize: this.tuning.pageSize,
        groupCount: this.tuning.groupCount,
        groupBytes: this.tuning.groupBytes,
        reconcileWindowMs: this.tuning.reconcileWindowMs,
        reconcileLimit: this.tuning.reconcileLimit,
        clock: this.clock,
      },
      this.options.store,
      this.log,
      (notice) => this.options.onOversize?.(notice),
    );
    const mainId = await folders.findFolder(this.options.folder);
    if (mainId === undefined)
      throw new PosternError('GRAPH_REQUEST_FAILED', {
        message: `The mailbox ${this.options.mailbox} has no folder "${this.options.folder}" in Microsoft Graph.`,
        details: { mailbox: this.options.mailbox, folder: this.options.folder },
      });
    const targets: GraphFolder[] = [{ name: this.options.folder, id: mainId, junk: false }];
    if (this.options.scanJunk === true) {
      const junkId = await folders.findFolder('Junk Email');
      if (junkId === undefined)
        this.log.warn(
          { mailbox: this.options.mailbox },
          'the account asks to scan Junk, and the mailbox has no Junk folder',
        );
      else if (junkId !== mainId) targets.push({ name: 'Junk Email', id: junkId, junk: true });
    }
    this.log.info({ mailbox: this.options.mailbox, folders: targets.map((t) => t.name) }, 'Graph sync ready');
    return { client, folders, targets };
  }

  /** Lifecycle events first (renew now, replace a removed one), then creation and renewal as due. */
  private async maintainSubscriptions(session: Session): Promise<void> {
    const subscriptions = this.subscriptions;
    if (subscriptions === undefined) return;
    for (let next = this.lifecycleQueue.shift(); next !== undefined; next = this.lifecycleQueue.shift()) {
      this.log.info({ mailbox: this.options.mailbox, lifecycleEvent: next.event }, 'Graph lifecycle event');
      if (next.event === 'reauthorizationRequired') await subscriptions.renewNow(session.client, next.subscriptionId);
      else if (next.event === 'subscriptionRemoved') await subscriptions.replace(session.client, next.subscriptionId);
      // `missed`: the round that follows is the answer.
    }
    await subscriptions.maintain(session.client, session.targets);
  }

  /**
   * Waits the poll interval, or less when a notification wakes the engine; meanwhile looks, every
   * `subscriptionCheckMs`, whether a subscription is due for renewal (or a lifecycle event came).
   */
  private async waitForWork(session: Session, pollMs: number): Promise<void> {
    const deadline = Date.now() + pollMs;
    while (!this.stopping && !this.woken) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      const step = this.subscriptions === undefined ? left : Math.min(left, this.tuning.subscriptionCheckMs);
      await this.sleep(step, true);
      if (this.stopping || this.woken) return;
      await this.maintainSubscriptions(session);
    }
  }

  private async syncFolders(session: Session, reconcile: boolean): Promise<GraphFolderReport[]> {
    const reports: GraphFolderReport[] = [];
    for (const folder of session.targets) reports.push(await session.folders.sync(folder, reconcile));
    this.options.onSynced?.(reports);
    return reports;
  }

  private retryDelay(error: PosternError, attempt: number): number {
    const asked = error.details?.retryAfterMs;
    if (error.code === 'GRAPH_THROTTLED' && typeof asked === 'number' && asked > 0)
      return Math.min(asked, this.tuning.backoff.maxMs);
    return backoffDelay(attempt, this.tuning.backoff, this.random, error.kind === 'needs-admin');
  }

  private mapError(error: unknown): PosternError {
    if (isPosternError(error)) return error;
    if (error instanceof GraphCallStopped)
      return new PosternError('GRAPH_CONNECTION_FAILED', {
        message: `Reading ${this.options.mailbox} through Microsoft Graph was stopped.`,
        details: { mailbox: this.options.mailbox },
        cause: error,
      });
    if (error instanceof ZodError)
      return new PosternError('GRAPH_REQUEST_FAILED', {
        message: `Microsoft Graph answered with a body Postern does not understand (mailbox ${this.options.mailbox}).`,
        details: { mailbox: this.options.mailbox },
        cause: error,
      });
    return new PosternError('INTERNAL', { cause: error });
  }

  private setStatus(change: SyncStatusChange): void {
    const same = this.current.status === change.status && this.current.error?.code === change.error?.code;
    this.current = change;
    if (!same || change.status === 'disconnected' || change.status === 'error') this.options.onStatus?.(change);
  }

  /** Waits `ms`; a stop ends it, and so does a wake when `wakeable`. */
  private sleep(ms: number, wakeable = false): Promise<void> {
    if (ms <= 0 || this.stopping) return Promise.resolve();
    const signal = this.abort.signal;
    return new Promise((resolve) => {
      const done = (): void => {
        this.wakeWaiter = undefined;
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      if (wakeable) this.wakeWaiter = done;
    });
  }
}
