import type { Logger } from '../log/index.js';
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
  /** Called after each fetched message is stored or recognised as a duplicate (metrics, webhook wake-up). */
  onIngested?: SyncSessionOptions['onIngested'];
}

interface Worker {
  sync: MailboxSyncSession;
  /** The settings it was started with; a change restarts it. */
  fingerprint: string;
}

/**
 * One mailbox worker per active account (worker role). Follows the accounts' changes, so that
 * enabling, disabling, editing or deleting an account takes effect without a restart, and turns
 * the sync engine's status changes into the account's live status and its timeline.
 */
export class MailboxWorkers {
  private readonly workers = new Map<number, Worker>();
  private readonly unsubscribe: Array<() => void> = [];
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly mailboxes: MailboxSyncService,
    private readonly logger: Logger,
    private readonly options: MailboxWorkersOptions = {},
  ) {}

  async start(): Promise<void> {
    const onChanged = (id: number): void => this.enqueue(() => this.reconcile(id));
    const onDeleted = (id: number): void => this.enqueue(() => this.stopWorker(id));
    const { changes } = this.mailboxes;
    changes.on('changed', onChanged);
    changes.on('deleted', onDeleted);
    this.unsubscribe.push(
      () => changes.off('changed', onChanged),
      () => changes.off('deleted', onDeleted),
    );
    for (const account of await this.mailboxes.listAccounts()) await this.reconcile(account.id);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe.splice(0)) off();
    await this.queue;
    await Promise.all([...this.workers.keys()].map((id) => this.stopWorker(id)));
  }

  /** Ids of the accounts with a running worker. */
  running(): number[] {
    return [...this.workers.keys()];
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue
      .then(task)
      .catch((error: unknown) => this.logger.error({ err: error }, 'mailbox worker change failed'));
  }

  private async reconcile(id: number): Promise<void> {
    if (this.stopped) return;
    const account = await this.mailboxes.findAccount(id);
    if (account === undefined) return this.stopWorker(id);
    if (!account.active) {
      await this.stopWorker(id);
      await this.mailboxes.markDisabled(account);
      return;
    }
    const current = this.workers.get(id);
    if (current !== undefined && current.fingerprint === fingerprintOf(account)) return;
    await this.stopWorker(id);
    await this.startWorker(account);
  }

  private async startWorker(account: EmailAccountRecord): Promise<void> {
    const log = this.logger.child({ component: 'mailbox', accountId: account.id, key: account.key });
    let sync: MailboxSyncSession;
    try {
      sync = await this.mailboxes.openSync(account, {
        logger: log,
        ...(this.options.clock === undefined ? {} : { clock: this.options.clock }),
        ...(this.options.tuning === undefined ? {} : { tuning: this.options.tuning }),
        ...(this.options.graphTuning === undefined ? {} : { graphTuning: this.options.graphTuning }),
        ...(this.options.onIngested === undefined ? {} : { onIngested: this.options.onIngested }),
        onStatus: (change) => this.enqueue(() => this.recordStatus(account, change)),
        onOversize: (notice) => this.enqueue(() => this.mailboxes.recordOversize(account, notice)),
        onWithheld: (notice) => this.enqueue(() => this.mailboxes.recordWithheld(account, notice)),
      });
    } catch (error) {
      log.warn({ err: error }, 'mailbox worker not started');
      await this.mailboxes.recordStartFailure(account, error);
      return;
    }
    this.workers.set(account.id, { sync, fingerprint: fingerprintOf(account) });
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
  private async recordStatus(account: EmailAccountRecord, change: SyncStatusChange): Promise<void> {
    if (change.status === 'stopped' || !this.workers.has(account.id)) return;
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
