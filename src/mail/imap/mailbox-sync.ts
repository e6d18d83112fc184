/**
 * The sync engine of one mailbox: connect over TLS with SASL XOAUTH2, sync the folder (and Junk
 * when asked), then wait for new mail with IDLE (or poll) and sync again — until stopped.
 *
 * - The access token comes from the caller (the token service): a fresh one for every session.
 *   The session is renewed before the token expires, because Exchange ends it with
 *   `* BYE Session invalidated - AccessTokenExpired`.
 * - Failures reconnect by themselves, with exponential backoff and jitter; throttling waits for
 *   the back-off Exchange suggests; an error a person must fix (sign-in refused, "authenticated
 *   but not connected") is reported with its remedy and retried slowly, so that the account
 *   recovers on its own once the cause is fixed.
 * - Every status change (connecting, connected, disconnected with the reason, error) goes to
 *   `onStatus`.
 * - The client comes from the mailbox-access layer (`../access/imap-client.ts`), which always
 *   listens for imapflow's 'error' event: a reset session ends the session, never the process.
 *
 * @see ../../../../shared/reference/microsoft-protocols.md §4, §5, §6
 * @see https://www.rfc-editor.org/rfc/rfc2177 (IDLE; re-issued before 29 minutes)
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
 */
import type { ImapFlow } from 'imapflow';
import { PosternError } from '../../errors/index.js';
import { createImapClient } from '../access/imap-client.js';
import {
  FolderSync,
  type AfterFetchAction,
  type FolderSyncReport,
  type OversizeNotice,
  type WithheldNotice,
  type SyncLogger,
  type SyncStore,
} from './folder-sync.js';
import { mapImapError, type ImapErrorContext } from './imap-errors.js';
import { DEFAULT_BACKOFF, backoffDelay, jwtExpiry, renewalTime, type BackoffPolicy } from './reconnect-policy.js';
import type { FirstSync } from './sync-plan.js';

/** An access token, with its expiry when the token service knows it. */
export type AccessToken = string | { readonly token: string; readonly expiresAt?: Date };

/** The engine's status, as an account shows it. */
export type SyncStatus = 'connecting' | 'connected' | 'disconnected' | 'error' | 'stopped';

/** A status change. */
export interface SyncStatusChange {
  readonly status: SyncStatus;
  /** Why, for `disconnected` and `error`. */
  readonly error?: PosternError;
  /** When the next attempt is made. */
  readonly retryInMs?: number;
  readonly at: Date;
}

/** Tuning with sensible defaults; tests shorten them. */
export interface SyncTuning {
  readonly batchCount: number;
  readonly batchBytes: number;
  /** Messages committed per transaction, at most (see FolderSyncSettings.groupCount). */
  readonly groupCount: number;
  /** Bytes of MIME committed per transaction, at most (a larger message is committed alone). */
  readonly groupBytes: number;
  readonly backoff: BackoffPolicy;
  /** Renew the session this long before the token expires. */
  readonly renewBeforeMs: number;
  /** Session length when the token's expiry is unknown. */
  readonly fallbackLifetimeMs: number;
  /** Re-issue IDLE (and look at Junk) at least this often. */
  readonly idleRefreshMs: number;
  readonly connectionTimeoutMs: number;
  readonly socketTimeoutMs: number;
  readonly reconcileWindowMs: number;
  readonly oversizeFolder: string;
}

/** Options of {@link MailboxSync}. */
export interface MailboxSyncOptions {
  readonly host: string;
  readonly port: number;
  /** TLS options: a private CA, the name on the certificate when `host` is an address. */
  readonly tls?: { readonly ca?: string | Buffer; readonly servername?: string; readonly rejectUnauthorized?: boolean };
  /** The mailbox to open (`user=` of XOAUTH2, or the login name with a password); for a shared mailbox its address. */
  readonly user: string;
  /** A valid access token for the mailbox's resource, from the token service (SASL XOAUTH2)… */
  readonly accessToken?: () => Promise<AccessToken>;
  /** …or, for a server without Modern Authentication, the password (LOGIN); exactly one of the two. */
  readonly password?: () => Promise<string>;
  /** The token is an app-only one (client credentials): a refused sign-in is then read as such. */
  readonly appOnly?: boolean;
  readonly folder: string;
  readonly scanJunk?: boolean;
  /** Junk folder path; default the folder marked \Junk, else "Junk Email". */
  readonly junkFolder?: string;
  readonly afterFetch?: AfterFetchAction;
  readonly afterFetchFolder?: string | null;
  readonly maxMessageBytes: number;
  readonly useIdle?: boolean;
  readonly pollIntervalMs?: number;
  readonly firstSync?: FirstSync;
  readonly store: SyncStore;
  readonly logger?: SyncLogger;
  readonly clock?: () => Date;
  /**
   * Milliseconds on a clock that only moves forward (default `performance.now()`): durations —
   * when to renew the session, how long a throttling answer was waited out — are measured on it,
   * so that the wall clock jumping (a suspend, an NTP correction) neither keeps a session past its
   * token's life nor renews sessions in a storm.
   */
  readonly monotonic?: () => number;
  readonly random?: () => number;
  readonly onStatus?: (change: SyncStatusChange) => void;
  readonly onOversize?: (notice: OversizeNotice) => void;
  /** A message in the folder the server would not send (see FolderSyncReport.withheld): once per session. */
  readonly onWithheld?: (notice: WithheldNotice) => void;
  readonly onSynced?: (reports: readonly FolderSyncReport[]) => void;
  readonly tuning?: Partial<SyncTuning>;
}

const DEFAULT_TUNING: SyncTuning = {
  // Each batch ends with its after-fetch action and a new FETCH, during which nothing is parsed:
  // fewer, larger batches keep the parse pool busy (the bytes limit still bounds memory).
  batchCount: 200,
  batchBytes: 25 * 1024 * 1024,
  // Each commit waits for one fsync (~5 ms on the benchmark machine's disk): 50 messages share it.
  groupCount: 50,
  groupBytes: 8 * 1024 * 1024,
  backoff: DEFAULT_BACKOFF,
  renewBeforeMs: 5 * 60_000,
  fallbackLifetimeMs: 45 * 60_000,
  idleRefreshMs: 9 * 60_000,
  connectionTimeoutMs: 30_000,
  socketTimeoutMs: 5 * 60_000,
  reconcileWindowMs: 15 * 60_000,
  oversizeFolder: 'Postern Oversize',
};

const SILENT: SyncLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

interface Session {
  readonly client: ImapFlow;
  readonly folders: FolderSync;
  /** When to renew, as the wall clock said at the start (for the log). */
  readonly renewAt: Date;
  /** When to renew, on the monotonic clock: what {@link MailboxSync.watch} goes by. */
  readonly renewAtMonotonic: number;
  junkPath?: string | null;
  /** EXISTS arrived since the last sync began (also while a sync ran, when nobody was waiting). */
  newMail: boolean;
  /** IDLE stopped announcing new mail on this session: it is renewed. */
  idleDeaf?: boolean;
  /** IDLE refused by the server this many times in a row (the pause before the next grows). */
  idleRefusals?: number;
}

/** The sync engine of one mailbox; see the module comment. */
export class MailboxSync {
  private readonly tuning: SyncTuning;
  private readonly log: SyncLogger;
  private readonly clock: () => Date;
  private readonly monotonic: () => number;
  private readonly random: () => number;
  private readonly context: ImapErrorContext;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private abort = new AbortController();
  private session: Session | undefined;
  private current: SyncStatusChange;
  /** The last throttling answer's suggested backoff, and when it came (on the monotonic clock). */
  private throttled: { readonly suggestedMs: number; readonly atMs: number } | undefined;

  constructor(private readonly options: MailboxSyncOptions) {
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.log = options.logger ?? SILENT;
    this.clock = options.clock ?? (() => new Date());
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.random = options.random ?? Math.random;
    this.context = {
      host: options.host,
      port: options.port,
      user: options.user,
      folder: options.folder,
      method: options.password !== undefined ? 'password' : options.appOnly === true ? 'xoauth2-app' : 'xoauth2',
    };
    this.current = { status: 'stopped', at: this.clock() };
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

  /** Stops: ends the session politely and resolves when the engine is idle. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    const session = this.session;
    if (session !== undefined) await closeQuietly(session.client, true);
    await this.loop;
    this.setStatus({ status: 'stopped', at: this.clock() });
  }

  /**
   * Connects, syncs the folders once and logs out — for a connection test, a command-line run or
   * a test. Throws the mapped catalogue error on failure; never retries.
   */
  async syncOnce(): Promise<FolderSyncReport[]> {
    const session = await this.openSession();
    try {
      const reports = await this.syncFolders(session, true);
      await closeQuietly(session.client, true);
      return reports;
    } catch (error) {
      await closeQuietly(session.client, false);
      throw this.mapError(error);
    } finally {
      this.session = undefined;
    }
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      this.setStatus({ status: 'connecting', at: this.clock() });
      let session: Session | undefined;
      try {
        session = await this.openSession();
        this.setStatus({ status: 'connected', at: this.clock() });
        await this.syncFolders(session, true);
        attempt = 0;
        await this.watch(session);
        await closeQuietly(session.client, true);
        if (!this.stopping && session.idleDeaf !== true)
          this.log.info(
            { user: this.options.user },
            this.options.password === undefined
              ? 'renewing the IMAP session before the access token expires'
              : 'renewing the IMAP session after its planned lifetime',
          );
      } catch (error) {
        if (session !== undefined) await closeQuietly(session.client, false);
        if (this.stopping) break;
        const mapped = this.mapError(error);
        const wait = this.retryDelay(mapped, attempt);
        if (mapped.code !== 'IMAP_TOKEN_EXPIRED' || attempt > 0) attempt += 1;
        const status = mapped.code === 'INTERNAL' || mapped.code.startsWith('STORE_') ? 'error' : 'disconnected';
        this.log[mapped.kind === 'transient' ? 'warn' : 'error'](
          { err: mapped, retryInMs: wait },
          `mailbox ${this.options.user}: ${mapped.message}`,
        );
        this.setStatus({ status, error: mapped, retryInMs: wait, at: this.clock() });
        await this.sleep(wait);
      } finally {
        this.session = undefined;
      }
    }
  }

  /** How this session signs in, and until when its credentials hold (unknown for a password). */
  private async credentials(): Promise<{
    auth: { user: string; accessToken: string } | { user: string; pass: string };
    expiresAt: Date | undefined;
  }> {
    const { user, accessToken, password } = this.options;
    if (password !== undefined) return { auth: { user, pass: await password() }, expiresAt: undefined };
    if (accessToken === undefined)
      throw new PosternError('INTERNAL', {
        message: `Mailbox ${user} has neither an access token nor a password to sign in with.`,
      });
    const issued = await accessToken();
    const token = typeof issued === 'string' ? issued : issued.token;
    return {
      auth: { user, accessToken: token },
      expiresAt: (typeof issued === 'string' ? undefined : issued.expiresAt) ?? jwtExpiry(token),
    };
  }

  private async openSession(): Promise<Session> {
    const { auth, expiresAt } = await this.credentials();
    const client = createImapClient({
      host: this.options.host,
      port: this.options.port,
      ...(this.options.tls === undefined ? {} : { tls: this.options.tls }),
      auth,
      ...(this.options.logger === undefined ? {} : { logger: this.options.logger }),
      onThrottle: (suggestedMs) => {
        this.throttled = { suggestedMs, atMs: this.monotonic() };
      },
      timeouts: {
        connectionMs: this.tuning.connectionTimeoutMs,
        greetingMs: this.tuning.connectionTimeoutMs,
        socketMs: this.tuning.socketTimeoutMs,
      },
      // The failure surfaces through the pending command or 'close'; the mapped code is logged here.
      onError: (error) => this.log.debug({ err: this.mapError(error) }, 'IMAP connection error'),
    });
    const now = this.clock();
    const renewAt = renewalTime(expiresAt, now, {
      renewBeforeMs: this.tuning.renewBeforeMs,
      fallbackLifetimeMs: this.tuning.fallbackLifetimeMs,
      minimumMs: Math.min(30_000, this.tuning.renewBeforeMs),
    });
    const session: Session = {
      client,
      renewAt,
      // The token's expiry is a wall-clock time, read once here; from now on only the duration counts.
      renewAtMonotonic: this.monotonic() + (renewAt.getTime() - now.getTime()),
      folders: new FolderSync(
        client,
        {
          afterFetch: this.options.afterFetch ?? 'mark_seen',
          afterFetchFolder: this.options.afterFetchFolder ?? null,
          maxMessageBytes: this.options.maxMessageBytes,
          oversizeFolder: this.tuning.oversizeFolder,
          firstSync: this.options.firstSync ?? { kind: 'days', days: 7 },
          batchCount: this.tuning.batchCount,
          batchBytes: this.tuning.batchBytes,
          groupCount: this.tuning.groupCount,
          groupBytes: this.tuning.groupBytes,
          reconcileWindowMs: this.tuning.reconcileWindowMs,
          clock: this.clock,
        },
        this.options.store,
        this.context,
        this.log,
        (notice) => this.options.onOversize?.(notice),
        (notice) => this.options.onWithheld?.(notice),
      ),
      newMail: false,
    };
    client.on('exists', () => {
      session.newMail = true;
    });
    this.session = session;
    try {
      await client.connect();
    } catch (error) {
      await closeQuietly(client, false);
      throw this.mapError(error);
    }
    this.log.info({ user: this.options.user, renewAt: session.renewAt.toISOString() }, 'IMAP session open');
    return session;
  }

  /** Waits for new mail and syncs, until the session must be renewed or the engine stops. */
  private async watch(session: Session): Promise<void> {
    const every = this.options.useIdle === false ? (this.options.pollIntervalMs ?? 60_000) : this.tuning.idleRefreshMs;
    while (!this.stopping) {
      const remaining = session.renewAtMonotonic - this.monotonic();
      if (remaining <= 0) return;
      const waited = !session.newMail;
      const woke = waited ? await this.waitForNews(session.client, Math.min(remaining, every)) : 'news';
      if (woke === 'stopped') return;
      if (woke === 'closed') throw closedError(session.client);
      if (woke === 'refused') {
        // No IDLE means no news: look for mail now, then try IDLE again, after a pause that grows
        // while the refusals go on (a server that always refuses must not make this a busy loop).
        const refusals = (session.idleRefusals ?? 0) + 1;
        session.idleRefusals = refusals;
        const wait = backoffDelay(refusals - 1, this.tuning.backoff, this.random);
        this.log.warn(
          { user: this.options.user, refusals, waitMs: wait },
          'the server refused IDLE; checking for new mail instead',
        );
        await this.sleep(wait);
      } else if (waited) {
        session.idleRefusals = 0;
      }
      session.newMail = false;
      try {
        const reports = await this.syncFolders(session, false, woke === 'news');
        // IDLE let the refresh find mail it never announced (stored now, or announced by the
        // refresh's own commands): Exchange sometimes stops pushing on a session without a BYE.
        // A new session hears again; this one is renewed now, its first sync takes what is new.
        if (
          woke === 'timeout' &&
          this.options.useIdle !== false &&
          ((reports[0]?.stored ?? 0) > 0 || session.newMail)
        ) {
          this.log.warn(
            { user: this.options.user, folder: this.options.folder, stored: reports[0]?.stored },
            'IDLE did not announce new mail that the periodic check found; opening a new session',
          );
          session.idleDeaf = true;
          return;
        }
      } catch (error) {
        const mapped = this.mapError(error);
        if (mapped.code !== 'IMAP_THROTTLED' || !session.client.usable) throw mapped;
        const wait = throttleWait(mapped, this.tuning.backoff.baseMs);
        this.log.warn({ err: mapped, waitMs: wait }, 'Exchange throttles this mailbox; waiting as it suggests');
        await this.sleep(wait);
        // The sync did not finish: the mail that started it is still to be read, and nothing
        // will announce it again (after a refused SELECT no folder is even selected for IDLE).
        session.newMail = true;
      }
    }
  }

  /**
   * `announced`: the server announced new mail (EXISTS) in the main folder, still selected on this
   * session — its state is then current and it is not selected again. A poll or a periodic check
   * selects it, for a server that stopped announcing says nothing until asked.
   */
  private async syncFolders(session: Session, reconcile: boolean, announced = false): Promise<FolderSyncReport[]> {
    session.newMail = false;
    const folders: Array<{ path: string; junk: boolean }> = [{ path: this.options.folder, junk: false }];
    if (this.options.scanJunk === true) {
      const junk = await this.junkPath(session);
      if (junk !== null && junk.toLowerCase() !== this.options.folder.toLowerCase())
        folders.push({ path: junk, junk: true });
    }
    const reports: FolderSyncReport[] = [];
    let mainUidNext = 0;
    for (const folder of folders) {
      try {
        // With Junk to scan the main folder was selected again after it (see below) — and its
        // UIDNEXT then compared: keep selecting it, so that the comparison stays exact.
        const selected = announced && folders.length === 1;
        reports.push(await session.folders.sync(folder.path, folder.junk, reconcile, selected));
      } catch (error) {
        throw this.mapError(error, folder.path);
      }
      if (!folder.junk) mainUidNext = selectedUidNext(session.client);
    }
    // IDLE watches the selected folder: leave the main one selected. Mail that reached it while
    // another folder was selected raised no EXISTS: a grown UIDNEXT is the only sign of it.
    if (folders.length > 1) {
      const reopened = await session.client.mailboxOpen(this.options.folder);
      if (reopened.uidNext > mainUidNext) session.newMail = true;
    }
    this.options.onSynced?.(reports);
    return reports;
  }

  private async junkPath(session: Session): Promise<string | null> {
    if (session.junkPath !== undefined) return session.junkPath;
    if (this.options.junkFolder !== undefined) return (session.junkPath = this.options.junkFolder);
    const folders = await session.client.list();
    const found =
      folders.find((folder) => folder.specialUse === '\\Junk') ??
      folders.find((folder) => folder.path.toLowerCase() === 'junk email');
    if (found === undefined)
      this.log.warn({ user: this.options.user }, 'the account asks to scan Junk, and the mailbox has no Junk folder');
    return (session.junkPath = found?.path ?? null);
  }

  /**
   * Resolves on new mail (EXISTS), after `ms`, when the connection closes, on stop, or when the
   * server refuses IDLE (throttled: imapflow has waited out the suggested backoff by then).
   */
  private waitForNews(client: ImapFlow, ms: number): Promise<'news' | 'timeout' | 'closed' | 'stopped' | 'refused'> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (why: 'news' | 'timeout' | 'closed' | 'stopped' | 'refused'): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.off('exists', onExists);
        client.off('close', onClose);
        this.abort.signal.removeEventListener('abort', onAbort);
        resolve(why);
      };
      const onExists = (): void => finish('news');
      const onClose = (): void => finish('closed');
      const onAbort = (): void => finish('stopped');
      const timer = setTimeout(() => finish('timeout'), Math.max(0, ms));
      client.on('exists', onExists);
      client.on('close', onClose);
      this.abort.signal.addEventListener('abort', onAbort);
      if (!client.usable) finish('closed');
      else if (this.options.useIdle !== false) {
        // imapflow resolves `false` when the server refuses IDLE: waiting on would hear nothing.
        client.idle().then(
          (result) => {
            if (result === false) finish(client.usable ? 'refused' : 'closed');
          },
          () => finish(client.usable ? 'timeout' : 'closed'),
        );
      }
    });
  }

  private retryDelay(error: PosternError, attempt: number): number {
    if (error.code === 'IMAP_TOKEN_EXPIRED' && attempt === 0) return 0;
    if (error.code === 'IMAP_THROTTLED') return throttleWait(error, this.tuning.backoff.baseMs);
    return backoffDelay(attempt, this.tuning.backoff, this.random, error.kind === 'needs-admin');
  }

  private mapError(error: unknown, folder?: string): PosternError {
    const context = { ...this.context, ...(folder === undefined ? {} : { folder }) };
    const mapped = mapImapError(error, context);
    const throttled = this.throttled;
    if (mapped.code !== 'IMAP_CONNECTION_FAILED' || throttled === undefined) return mapped;
    // A throttling answer followed by `* BYE` ends the command as a lost connection: it is the
    // throttling that explains it, and its backoff that must be waited out.
    const waitedMs = this.monotonic() - throttled.atMs;
    if (waitedMs >= throttled.suggestedMs) return mapped;
    this.throttled = undefined;
    return mapImapError(
      Object.assign(new Error('Request is throttled'), {
        code: 'ETHROTTLE',
        throttleReset: throttled.suggestedMs,
        throttleWaited: waitedMs,
        responseText: `Request is throttled. Suggested Backoff Time: ${throttled.suggestedMs} milliseconds`,
      }),
      context,
    );
  }

  private setStatus(change: SyncStatusChange): void {
    const same = this.current.status === change.status && this.current.error?.code === change.error?.code;
    this.current = change;
    if (!same || change.status === 'disconnected' || change.status === 'error') this.options.onStatus?.(change);
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.abort.signal.addEventListener('abort', done);
    });
  }
}

/** The error for a session the server closed: its BYE reason decides the code. */
function closedError(client: ImapFlow): Error {
  return Object.assign(new Error('The IMAP connection was closed'), { code: 'NoConnection', reason: client.byeReason });
}

function throttleWait(error: PosternError, minimumMs: number): number {
  const suggested = error.details?.backoffMs;
  return Math.max(minimumMs, typeof suggested === 'number' ? suggested : 0);
}

async function closeQuietly(client: ImapFlow, graceful: boolean): Promise<void> {
  if (graceful && client.usable) {
    try {
      await client.logout();
      return;
    } catch {
      // fall through to close
    }
  }
  client.close();
}

/** UIDNEXT of the folder selected now (as its SELECT reported it), or 0 when none is. */
function selectedUidNext(client: ImapFlow): number {
  return client.mailbox === false ? 0 : client.mailbox.uidNext;
}
