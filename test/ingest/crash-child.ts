/**
 * The process the crash-safety test kills: it syncs one account's folder from the emulator into
 * the database, printing "ingested <uid>" after each commit and "done" at the end. Configured by
 * the environment (see crash-safety.test.ts).
 */
import { MailboxSync } from '../../src/mail/imap/mailbox-sync.js';
import { createSyncStore } from '../../src/services/inbound/mailbox-sync-store.js';
import { openDatabase, requireEmailAccount } from '../../src/store/index.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

const db = await openDatabase(required('CRASH_DB_URL'));
const account = await requireEmailAccount(db, Number(required('CRASH_ACCOUNT_ID')));
const sync = new MailboxSync({
  host: '127.0.0.1',
  port: Number(required('CRASH_IMAP_PORT')),
  tls: { ca: required('CRASH_CA'), servername: 'localhost' },
  user: account.username,
  accessToken: async () => required('CRASH_TOKEN'),
  folder: account.folder,
  afterFetch: account.afterFetchAction,
  maxMessageBytes: account.maxMessageBytes,
  firstSync: account.firstSync,
  store: createSyncStore(db, account, {
    onIngested: (_result, message) => {
      process.stdout.write(`ingested ${message.uid}\n`);
    },
  }),
  tuning: { batchCount: 20 },
});
await sync.syncOnce();
await db.close();
process.stdout.write('done\n');
