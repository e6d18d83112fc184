/**
 * The process the Graph crash test kills: it reads one account's folder through the emulated
 * Graph API into the database, printing "ingested <graph id>" after each commit and "done" at the
 * end. Configured by the environment (see inbound-crash.test.ts).
 */
import { GraphClient } from '../../src/mail/graph/graph-client.js';
import { GraphSync } from '../../src/mail/graph/graph-sync.js';
import { createGraphSyncStore } from '../../src/services/inbound/graph-sync-store.js';
import { openDatabase, requireEmailAccount } from '../../src/store/index.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

const db = await openDatabase(required('CRASH_DB_URL'));
const account = await requireEmailAccount(db, Number(required('CRASH_ACCOUNT_ID')));
const sync = new GraphSync({
  mailbox: account.username,
  openClient: async (signal) =>
    new GraphClient({
      target: { apiBase: required('CRASH_API_BASE'), mailbox: account.username, ca: required('CRASH_CA') },
      accessToken: async () => required('CRASH_TOKEN'),
      purpose: 'read',
      signal,
    }),
  folder: account.folder,
  afterFetch: account.afterFetchAction,
  maxMessageBytes: account.maxMessageBytes,
  firstSync: account.firstSync,
  store: createGraphSyncStore(db, account, {
    onIngested: (_result, message) => {
      process.stdout.write(`ingested ${message.folder}\n`);
    },
  }),
  tuning: { pageSize: 50, groupCount: 20 },
});
await sync.syncOnce();
await db.close();
process.stdout.write('done\n');
