/**
 * Builds a MailboxSync against the emulator for an account stored in a fresh database, with
 * short timings so that recoveries happen within a test.
 */
import { MailboxSync, type MailboxSyncOptions, type SyncStatusChange } from '../../src/mail/imap/mailbox-sync.js';
import type { OversizeNotice } from '../../src/mail/imap/folder-sync.js';
import { createSyncStore } from '../../src/services/inbound/mailbox-sync-store.js';
import type { Database, EmailAccountRecord } from '../../src/store/index.js';
import type { MailEmulator } from './helpers.js';
import { CONTOSO } from './helpers.js';

/** A sync and what it reported. */
export interface SyncUnderTest {
  readonly sync: MailboxSync;
  readonly statuses: SyncStatusChange[];
  readonly oversize: OversizeNotice[];
  /** How many access tokens were asked for. */
  tokenCalls(): number;
}

export function buildSync(
  mail: MailEmulator,
  db: Database,
  account: EmailAccountRecord,
  options: Partial<MailboxSyncOptions> & { delegate?: { upn: string; password: string } } = {},
): SyncUnderTest {
  const statuses: SyncStatusChange[] = [];
  const oversize: OversizeNotice[] = [];
  let calls = 0;
  const delegate = options.delegate ?? CONTOSO.andrea;
  const sync = new MailboxSync({
    host: '127.0.0.1',
    port: mail.imapPort,
    tls: { ca: mail.ca, servername: 'localhost' },
    user: account.username,
    accessToken: async () => {
      calls += 1;
      return mail.token(delegate);
    },
    folder: account.folder,
    scanJunk: account.scanJunk,
    afterFetch: account.afterFetchAction,
    afterFetchFolder: account.afterFetchFolder,
    maxMessageBytes: account.maxMessageBytes,
    useIdle: account.useIdle,
    pollIntervalMs: account.pollIntervalSeconds * 1000,
    firstSync: account.firstSync,
    store: createSyncStore(db, account),
    onStatus: (change) => statuses.push(change),
    onOversize: (notice) => oversize.push(notice),
    ...options,
    tuning: { backoff: { baseMs: 50, maxMs: 400, needsAdminMinMs: 200 }, idleRefreshMs: 2000, ...options.tuning },
  });
  return { sync, statuses, oversize, tokenCalls: () => calls };
}
