/**
 * What the mailbox workers (workers/mailbox-workers.ts) need, as use cases: the accounts to run
 * and their changes, a sync engine bound to an account (by its transport: IMAP, or Microsoft Graph
 * for `graph`; its storage through ingest-message.ts either way), and the account's live status
 * and timeline as the engine reports them. The workers decide which accounts run and when they
 * restart; this service builds and records.
 */
import { EventEmitter } from 'node:events';
import { PosternError, isPosternError } from '../../errors/index.js';
import type { OversizeNotice, SyncLogger, WithheldNotice } from '../../mail/imap/folder-sync.js';
import { MailboxSync, type SyncStatusChange, type SyncTuning } from '../../mail/imap/mailbox-sync.js';
import { GraphSync, type GraphOversizeNotice, type GraphSyncTuning } from '../../mail/graph/graph-sync.js';
import {
  appendEvent,
  getEmailAccount,
  listEmailAccounts,
  setEmailAccountStatus,
  type Database,
  type EmailAccountRecord,
} from '../../store/index.js';
import type { AccessTokenService } from '../identity/access-token-service.js';
import type { AccountService } from './account-service.js';
import { graphClientOf, imapEndpointOf } from './mailbox-connection.js';
import type { GraphNotificationService } from '../inbound/graph-notifications.js';
import { TransportSwitchService, switchingRefusal } from './transport-switch.js';
import { createGraphSyncStore } from '../inbound/graph-sync-store.js';
import { createSyncStore, type SyncStoreOptions } from '../inbound/mailbox-sync-store.js';

export type { EmailAccountRecord } from '../../store/index.js';
export type { OversizeNotice, WithheldNotice } from '../../mail/imap/folder-sync.js';
export type { SyncStatusChange, SyncTuning } from '../../mail/imap/mailbox-sync.js';
export type { GraphOversizeNotice, GraphSyncTuning } from '../../mail/graph/graph-sync.js';

/** A message moved aside for its size, by either engine. */
export type AnyOversizeNotice = OversizeNotice | GraphOversizeNotice;

/** A sync engine of one mailbox, not yet started. */
export interface MailboxSyncSession {
  start(): void;
  stop(): Promise<void>;
}

/** What a sync engine is built with besides its account. */
export interface SyncSessionOptions {
  readonly logger: SyncLogger;
  readonly clock?: () => Date;
  readonly tuning?: Partial<SyncTuning>;
  /** Tuning of the Graph engine (accounts on transport `graph`). */
  readonly graphTuning?: Partial<GraphSyncTuning>;
  /** Called after each fetched message is stored or recognised as a duplicate (metrics, webhook wake-up). */
  readonly onIngested?: SyncStoreOptions['onIngested'];
  /** Several nodes: the lease check of every write for the mailbox (see SyncStoreOptions.fence). */
  readonly fence?: SyncStoreOptions['fence'];
  readonly onStatus: (change: SyncStatusChange) => void;
  readonly onOversize: (notice: AnyOversizeNotice) => void;
  readonly onWithheld: (notice: WithheldNotice) => void;
}

/** The mailbox workers' use cases. */
export class MailboxSyncService {
  /**
   * Emits `status` with the account id after its live status or its timeline changed here (the
   * live stream follows it; changes of its settings are the AccountService's `changes`).
   */
  readonly statusChanges = new EventEmitter<{ status: [number] }>();
  private readonly switches: TransportSwitchService;

  constructor(
    private readonly db: Database,
    private readonly accounts: AccountService,
    private readonly accessTokens: AccessTokenService,
    private readonly graphNotifications?: GraphNotificationService,
  ) {
    this.switches = new TransportSwitchService(db, accounts, accessTokens);
  }

  /** Account changes (`changed`, `deleted`, with the account id) made in this process. */
  get changes(): AccountService['changes'] {
    return this.accounts.changes;
  }

  /** Every email account, active or not. */
  listAccounts(): Promise<EmailAccountRecord[]> {
    return listEmailAccounts(this.db);
  }

  findAccount(id: number): Promise<EmailAccountRecord | undefined> {
    return getEmailAccount(this.db, id);
  }

  /** Shows a deactivated account as `disabled`. */
  async markDisabled(account: EmailAccountRecord): Promise<void> {
    if (account.status === 'disabled') return;
    await setEmailAccountStatus(this.db, account.id, 'disabled');
    this.statusChanges.emit('status', account.id);
  }

  /**
   * The account's sync engine, bound to its endpoint and its storage: Microsoft Graph for transport
   * `graph` (and `auto` once reading switched to Graph), IMAP otherwise. Throws when the endpoint
   * cannot be resolved.
   */
  async openSync(account: EmailAccountRecord, options: SyncSessionOptions): Promise<MailboxSyncSession> {
    if (account.effective.inbound.via === 'graph') return this.openGraphSync(account, options);
    const endpoint = await imapEndpointOf(this.db, this.accounts, this.accessTokens, account);
    return new MailboxSync({
      ...endpoint,
      folder: account.folder,
      scanJunk: account.scanJunk,
      afterFetch: account.afterFetchAction,
      afterFetchFolder: account.afterFetchFolder,
      maxMessageBytes: account.maxMessageBytes,
      useIdle: account.useIdle,
      pollIntervalMs: account.pollIntervalSeconds * 1000,
      firstSync: account.firstSync,
      store: createSyncStore(this.db, account, storeOptionsOf(options)),
      logger: options.logger,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.tuning === undefined ? {} : { tuning: options.tuning }),
      onStatus: options.onStatus,
      onOversize: options.onOversize,
      onWithheld: options.onWithheld,
    });
  }

  /** The Graph engine of an account on transport `graph`; the route is checked now, the token at each round. */
  private async openGraphSync(account: EmailAccountRecord, options: SyncSessionOptions): Promise<MailboxSyncSession> {
    // Resolves the route now, so that an account without a Graph endpoint fails to start, visibly.
    const probe = await graphClientOf(this.db, this.accounts, this.accessTokens, account, { purpose: 'read' });
    const subscriptions = this.graphNotifications?.portFor(account.id);
    return new GraphSync({
      ...(subscriptions === undefined ? {} : { subscriptions }),
      mailbox: probe.mailbox,
      openClient: (signal) =>
        graphClientOf(this.db, this.accounts, this.accessTokens, account, {
          purpose: 'read',
          signal,
          logger: options.logger,
        }),
      folder: account.folder,
      scanJunk: account.scanJunk,
      afterFetch: account.afterFetchAction,
      afterFetchFolder: account.afterFetchFolder,
      maxMessageBytes: account.maxMessageBytes,
      pollIntervalMs: account.pollIntervalSeconds * 1000,
      firstSync: account.firstSync,
      store: createGraphSyncStore(this.db, account, storeOptionsOf(options)),
      logger: options.logger,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.graphTuning === undefined ? {} : { tuning: options.graphTuning }),
      onStatus: options.onStatus,
      onOversize: options.onOversize,
    });
  }

  /** Shows why the account's worker could not start (its endpoint could not be resolved). */
  async recordStartFailure(account: EmailAccountRecord, error: unknown): Promise<void> {
    const failure = isPosternError(error) ? error : new PosternError('INTERNAL', { cause: error });
    await setEmailAccountStatus(this.db, account.id, 'error', {
      code: failure.code,
      message: failure.message,
      remedy: failure.remedy ?? null,
    });
    this.statusChanges.emit('status', account.id);
  }

  /** Mirrors a status change on the account and, when the status itself changed, in its timeline. */
  async recordStatus(account: EmailAccountRecord, change: SyncStatusChange): Promise<void> {
    if (change.status === 'stopped') return;
    const before = await getEmailAccount(this.db, account.id);
    if (before === undefined) return;
    let reported = change.error;
    if (reported !== undefined && before.transport === 'auto' && switchingRefusal(reported)?.direction === 'inbound') {
      // Transport `auto`: IMAP disabled for the mailbox (or, for an app, its IMAP sign-in refused)
      // switches reading to Graph when Graph opens the folder (the worker restarts on the
      // account's change); otherwise the remedy also says what would allow it.
      const decision = await this.switches.afterImapRefused(before, reported);
      if (decision.switched) return;
      reported = decision.error;
    }
    const error =
      reported === undefined
        ? null
        : { code: reported.code, message: reported.message, remedy: reported.remedy ?? null };
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
    this.statusChanges.emit('status', account.id);
  }

  /** Tells the account's timeline that an oversize message was moved aside, its headers kept. */
  async recordOversize(account: EmailAccountRecord, notice: AnyOversizeNotice): Promise<void> {
    await appendEvent(this.db, {
      scope: 'account',
      scopeId: account.id,
      type: 'account.oversize_moved',
      level: 'warn',
      message: `A message of ${Math.round(notice.size / 1048576)} MB in ${notice.folder} is over the ${Math.round(account.maxMessageBytes / 1048576)} MB limit; its headers were stored and it was moved to ${notice.movedTo ?? 'another folder'}.`,
      data: {
        folder: notice.folder,
        ...('graphId' in notice ? { graphId: notice.graphId } : { uid: notice.uid }),
        size: notice.size,
        movedTo: notice.movedTo ?? null,
        ...('reason' in notice ? { reason: notice.reason, reportedSize: notice.reportedSize } : {}),
      },
    });
    this.statusChanges.emit('status', account.id);
  }

  /**
   * Tells the account's timeline that the server would not send a message that is in the folder:
   * nothing after it is lost (later mail is stored, the checkpoint waits), and it is asked for again.
   */
  async recordWithheld(account: EmailAccountRecord, notice: WithheldNotice): Promise<void> {
    await appendEvent(this.db, {
      scope: 'account',
      scopeId: account.id,
      type: 'account.message_withheld',
      level: 'warn',
      message: `The mail server answered a fetch of message ${notice.uid} in ${notice.folder} without sending it, three times. Later mail is stored meanwhile; Postern asks for this message again at every sync and will not pass over it.`,
      data: {
        folder: notice.folder,
        uidValidity: notice.uidValidity,
        uid: notice.uid,
        remedy:
          'Usually this clears by itself (Exchange Online withholds a message now and then). If it lasts, open the message in Outlook on the web: when Exchange cannot render it, moving it to another folder and back, or forwarding it to the mailbox, gives the server a copy it can send.',
      },
    });
    this.statusChanges.emit('status', account.id);
  }
}

/** The storage options a sync engine's store is built with. */
function storeOptionsOf(options: SyncSessionOptions): SyncStoreOptions {
  return {
    ...(options.onIngested === undefined ? {} : { onIngested: options.onIngested }),
    ...(options.fence === undefined ? {} : { fence: options.fence }),
  };
}
