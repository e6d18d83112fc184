import { PosternError, isPosternError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { MailboxSync, type SyncStatusChange, type SyncTuning } from '../mail/imap/mailbox-sync.js';
import type { AccessTokenService } from '../services/access-token-service.js';
import type { AccountService } from '../services/account-service.js';
import { imapEndpointOf, type ImapEndpoint } from '../services/mailbox-connection.js';
import { createSyncStore, type SyncStoreOptions } from '../services/mailbox-sync-store.js';
import {
  appendEvent,
  getEmailAccount,
  listEmailAccounts,
  setEmailAccountStatus,
  type Database,
  type EmailAccountRecord,
} from '../store/index.js';

export interface MailboxWorkersOptions {
  clock?: () => Date;
  tuning?: Partial<SyncTuning>;
  /** Called after each fetched message is stored or recognised as a duplicate (metrics, webhook wake-up). */
  onIngested?: SyncStoreOptions['onIngested'];
}

interface Worker {
  sync: MailboxSync;
  /** The settings it was started with; a change restarts it. */
  fingerprint: string;
}

/**
 * One mailbox worker per active account (worker role). Follows `AccountService.changes`, so that
 * enabling, disabling, editing or deleting an account takes effect without a restart, and turns
 * the sync engine's status changes into the account's live status and its timeline.
 */
export class MailboxWorkers {
  private readonly workers = new Map<number, Worker>();
  private readonly unsubscribe: Array<() => void> = [];
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly accounts: AccountService,
    private readonly accessTokens: AccessTokenService,
    private readonly logger: Logger,
    private readonly options: MailboxWorkersOptions = {},
  ) {}

  async start(): Promise<void> {
    const onChanged = (id: number): void => this.enqueue(() => this.reconcile(id));
    const onDeleted = (id: number): void => this.enqueue(() => this.stopWorker(id));
    this.accounts.changes.on('changed', onChanged);
    this.accounts.changes.on('deleted', onDeleted);
    this.unsubscribe.push(
      () => this.accounts.changes.off('changed', onChanged),
      () => this.accounts.changes.off('deleted', onDeleted),
    );
    for (const account of await listEmailAccounts(this.db)) await this.reconcile(account.id);
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
    const account = await getEmailAccount(this.db, id);
    if (account === undefined) return this.stopWorker(id);
    if (!account.active) {
      await this.stopWorker(id);
      if (account.status !== 'disabled') await setEmailAccountStatus(this.db, id, 'disabled');
      return;
    }
    const current = this.workers.get(id);
    if (current !== undefined && current.fingerprint === fingerprintOf(account)) return;
    await this.stopWorker(id);
    await this.startWorker(account);
  }

  private async startWorker(account: EmailAccountRecord): Promise<void> {
    const log = this.logger.child({ component: 'mailbox', accountId: account.id, key: account.key });
    let endpoint: ImapEndpoint;
    try {
      endpoint = await imapEndpointOf(this.db, this.accounts, this.accessTokens, account);
    } catch (error) {
      const failure = isPosternError(error) ? error : new PosternError('INTERNAL', { cause: error });
      log.warn({ err: error }, 'mailbox worker not started');
      await setEmailAccountStatus(this.db, account.id, 'error', {
        code: failure.code,
        message: failure.message,
        remedy: failure.remedy ?? null,
      });
      return;
    }
    const sync = new MailboxSync({
      ...endpoint,
      folder: account.folder,
      scanJunk: account.scanJunk,
      afterFetch: account.afterFetchAction,
      afterFetchFolder: account.afterFetchFolder,
      maxMessageBytes: account.maxMessageBytes,
      useIdle: account.useIdle,
      pollIntervalMs: account.pollIntervalSeconds * 1000,
      firstSync: account.firstSync,
      store: createSyncStore(
        this.db,
        account,
        this.options.onIngested === undefined ? {} : { onIngested: this.options.onIngested },
      ),
      logger: log,
      ...(this.options.clock === undefined ? {} : { clock: this.options.clock }),
      ...(this.options.tuning === undefined ? {} : { tuning: this.options.tuning }),
      onStatus: (change) => this.enqueue(() => this.recordStatus(account, change)),
      onOversize: (notice) =>
        this.enqueue(async () => {
          await appendEvent(this.db, {
            scope: 'account',
            scopeId: account.id,
            type: 'account.oversize_moved',
            level: 'warn',
            message: `A message of ${Math.round(notice.size / 1048576)} MB in ${notice.folder} is over the ${Math.round(account.maxMessageBytes / 1048576)} MB limit; its headers were stored and it was moved to ${notice.movedTo ?? 'another folder'}.`,
            data: { folder: notice.folder, uid: notice.uid, size: notice.size, movedTo: notice.movedTo ?? null },
          });
        }),
    });
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

  /** Mirrors a status change on the account and, when the status itself changed, in its timeline. */
  private async recordStatus(account: EmailAccountRecord, change: SyncStatusChange): Promise<void> {
    if (change.status === 'stopped' || !this.workers.has(account.id)) return;
    const before = await getEmailAccount(this.db, account.id);
    if (before === undefined) return;
    const error =
      change.error === undefined
        ? null
        : { code: change.error.code, message: change.error.message, remedy: change.error.remedy ?? null };
    await setEmailAccountStatus(this.db, account.id, change.status, error);
    if (before.status === change.status && before.lastError?.code === error?.code) return;
    const level =
      change.status === 'connected' || change.status === 'connecting'
        ? 'info'
        : change.status === 'error'
          ? 'error'
          : 'warn';
    await appendEvent(this.db, {
      scope: 'account',
      scopeId: account.id,
      type: `account.${change.status}`,
      level,
      message:
        error === null
          ? `Email account ${account.key} is ${change.status}.`
          : `Email account ${account.key} is ${change.status}: ${error.message}`,
      data: {
        ...(error === null ? {} : { code: error.code, remedy: error.remedy }),
        ...(change.retryInMs === undefined ? {} : { retryInMs: change.retryInMs }),
      },
    });
  }
}

/** The settings a running worker depends on. */
function fingerprintOf(account: EmailAccountRecord): string {
  return JSON.stringify([
    account.service,
    account.modernAuth,
    // Sealed: a new password restarts the worker without the password ever being held here.
    account.sealedPassword,
    account.username,
    account.providerId,
    account.modernAuthEmail,
    account.imapHost,
    account.imapPort,
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
