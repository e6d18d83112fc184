/**
 * Builds a MailboxSync against the emulator for an account stored in a fresh database, with
 * short timings so that recoveries happen within a test.
 */
import { MailboxSync, type MailboxSyncOptions, type SyncStatusChange } from '../../src/mail/imap/mailbox-sync.js';
import type { OversizeNotice } from '../../src/mail/imap/folder-sync.js';
import { createSyncStore } from '../../src/services/inbound/mailbox-sync-store.js';
import {
  createEmailAccount,
  createList,
  type Database,
  type EmailAccountFields,
  type EmailAccountRecord,
} from '../../src/store/index.js';
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

/**
 * A new folder `folder` in developers@contoso.com's mailbox and an account in `db` that reads it
 * from its first message, with its own default list; `key` (at most 5 characters) names both.
 */
export async function accountOnFolder(
  mail: MailEmulator,
  db: Database,
  folder: string,
  key: string,
  fields: Partial<EmailAccountFields> = {},
): Promise<EmailAccountRecord> {
  const developers = 'developers@contoso.com';
  mail.exchange.service.store.createFolder(developers, folder);
  const list = await createList(db, { name: `List of ${folder}` });
  return createEmailAccount(db, {
    name: `Developers ${folder}`,
    key,
    emailAddress: developers,
    username: developers,
    defaultListId: list.id,
    firstSync: { kind: 'all' },
    folder,
    ...fields,
  });
}
