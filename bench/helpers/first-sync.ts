/**
 * Postern's side of the ingest benchmarks: one `MailboxSync.syncOnce()` of an account's folder,
 * built as the mailbox workers build it (src/mail/imap/mailbox-sync.ts with the account's settings
 * and sync store) — fetch, parse and sanitize on the parse pool, group commits with the checkpoint,
 * the after-fetch action — timed from the first command to the last commit, then checked: every
 * message stored and the checkpoint at the highest UID.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Runtime } from '../../src/cli/runtime.js';
import { MailboxSync, type SyncTuning } from '../../src/mail/imap/mailbox-sync.js';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import { imapEndpointOf } from '../../src/services/accounts/mailbox-connection.js';
import { createSyncStore } from '../../src/services/inbound/mailbox-sync-store.js';
import { countAccountMessages, getCheckpoint, type EmailAccountRecord } from '../../src/store/index.js';
import { measureRead, type ReadRun } from './read-comparison.js';

/** Options of {@link timeFirstSync}; the defaults are Postern's. */
export interface FirstSyncOptions {
  /** How many messages the folder holds, UIDs 1 to `messages`: the read must store them all. */
  readonly messages: number;
  /** Overrides of the sync's tuning, for exploring. */
  readonly tuning?: Partial<SyncTuning>;
  /** Parse on the event loop instead of the parse pool, for exploring. */
  readonly inlineParse?: boolean;
}

/** Reads the account's folder into the store once; the access token (if any) is fetched before the clock starts. */
export async function timeFirstSync(
  runtime: Runtime,
  account: EmailAccountRecord,
  options: FirstSyncOptions,
): Promise<ReadRun> {
  const endpoint = await imapEndpointOf(runtime.db, runtime.services.accounts, runtime.services.accessTokens, account);
  await endpoint.accessToken?.();
  const sync = new MailboxSync({
    ...endpoint,
    folder: account.folder,
    scanJunk: account.scanJunk,
    afterFetch: account.afterFetchAction,
    afterFetchFolder: account.afterFetchFolder,
    maxMessageBytes: account.maxMessageBytes,
    firstSync: account.firstSync,
    store: createSyncStore(runtime.db, account, options.inlineParse === true ? { parse: parseMessage } : {}),
    logger: runtime.log.logger.child({ component: 'mailbox', accountId: account.id, key: account.key }),
    ...(options.tuning === undefined ? {} : { tuning: options.tuning }),
  });
  const run = await measureRead(async () => {
    await sync.syncOnce();
    return options.messages;
  });
  const stored = await countAccountMessages(runtime.db, account.id);
  const checkpoint = await getCheckpoint(runtime.db, account.id, account.folder);
  if (stored !== options.messages || checkpoint?.lastUid !== options.messages)
    throw new Error(`stored ${stored} messages, checkpoint ${checkpoint?.lastUid ?? 'none'}`);
  return run;
}

/** Bytes of the embedded SQLite database (with its WAL) in a data directory. */
export function sqliteBytes(dataDir: string): number {
  return fs
    .readdirSync(dataDir)
    .filter((name) => name.startsWith('postern.db'))
    .reduce((sum, name) => sum + fs.statSync(path.join(dataDir, name)).size, 0);
}
