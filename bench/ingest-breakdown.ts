/**
 * Where the ingest benchmark's time goes (`npm run bench:ingest:breakdown`): the same generated
 * mailbox, fetched once into memory, then each stage timed alone in this process, one thread —
 *
 * 1. the fetch alone (imapflow, nothing parsed);
 * 2. mailparser's `simpleParser` with default options (the bare benchmark's parse);
 * 3. Postern's `parseMessage` (mailparser, sanitize-html, digests, header checks);
 * 4. the SQL alone — `ingestPrepared` over the already parsed messages into a fresh SQLite
 *    database: one message per transaction as before group commits; the same with
 *    `synchronous=OFF` (no fsync at all: never used by Postern, measured only to isolate what the
 *    commits' fsyncs cost); in groups of 50 as the sync now commits them (synchronous=FULL); and
 *    the same on a database created with SQLite's default 4 KiB pages instead of Postern's 16 KiB.
 *
 * Environment: BENCH_MESSAGES (2000).
 */
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { ImapFlow } from 'imapflow';
import { sql } from 'kysely';
import { simpleParser } from 'mailparser';
import { parseMessage } from '../src/mail/mime/parse-message.js';
import { ingestPrepared, prepareMessage, type PreparedMessage } from '../src/services/inbound/ingest-message.js';
import type { FetchedMessage } from '../src/mail/imap/folder-sync.js';
import { describeMachine, now, printFigures } from './helpers/figures.js';
import { createQueueAccounts, openPostern } from './helpers/postern-side.js';
import { World, type WorldReady } from './helpers/world.js';
import { queueMailbox } from './helpers/world-protocol.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? '2000');
const MAILBOX = queueMailbox(1);
const GROUP = 50;

async function fetchAll(ready: WorldReady, token: string): Promise<{ ms: number; messages: FetchedMessage[] }> {
  const started = now();
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: ready.imapPort,
    secure: true,
    tls: { ca: ready.caPem },
    auth: { user: MAILBOX, accessToken: token },
    logger: false,
    disableAutoIdle: true,
  });
  await client.connect();
  const box = await client.mailboxOpen('INBOX');
  const messages: FetchedMessage[] = [];
  for await (const message of client.fetch(
    '1:*',
    { uid: true, source: true, internalDate: true, size: true },
    { uid: true },
  )) {
    if (message.source === undefined) throw new Error('no source');
    messages.push({
      folder: 'INBOX',
      uidvalidity: Number(box.uidValidity),
      uid: message.uid,
      raw: message.source,
      isJunk: false,
      size: message.size ?? message.source.length,
      initialImport: true,
    });
  }
  await client.logout();
  return { ms: now() - started, messages };
}

interface Timing {
  readonly ms: number;
  readonly cpuMs: number;
}

async function timed(run: () => Promise<void>): Promise<Timing> {
  const cpu = process.cpuUsage();
  const started = now();
  await run();
  const used = process.cpuUsage(cpu);
  return { ms: now() - started, cpuMs: (used.user + used.system) / 1000 };
}

/** Stores the parsed messages into a fresh database, `group` per transaction, with `synchronous` set first. */
async function storeAll(
  ready: WorldReady,
  prepared: readonly PreparedMessage[],
  synchronous: 'FULL' | 'OFF',
  group: number,
  pageSize?: number,
): Promise<Timing> {
  const side = await openPostern(ready, {
    prepareDataDir: (dataDir) => {
      if (pageSize === undefined) return;
      const file = new BetterSqlite3(path.join(dataDir, 'postern.db'));
      file.pragma(`page_size = ${pageSize}`);
      file.pragma('journal_mode = WAL');
      file.close();
    },
  });
  try {
    const [account] = await createQueueAccounts(side, ready, 1);
    if (account === undefined) throw new Error('no account');
    const db = side.runtime.db;
    await sql.raw(`pragma synchronous = ${synchronous}`).execute(db.kysely);
    return await timed(async () => {
      for (let start = 0; start < prepared.length; start += group)
        await ingestPrepared(db, account, prepared.slice(start, start + group));
    });
  } finally {
    await side.close();
  }
}

async function main(): Promise<void> {
  process.stdout.write(`Machine: ${describeMachine()}\n`);
  const world = await World.start({ mailboxes: 1, senders: 0 });
  try {
    await world.ask({ type: 'populate', mailbox: MAILBOX, corpus: 'ingest', count: MESSAGES });
    const side = await openPostern(world.ready);
    const [account] = await createQueueAccounts(side, world.ready, 1);
    if (account === undefined) throw new Error('no account');
    const grant = await side.runtime.services.accounts.grantFor(account);
    const token = (await side.runtime.services.accessTokens.accessToken(grant.id, 'exchange')).token;
    await side.close();

    await fetchAll(world.ready, token);
    const fetched = await fetchAll(world.ready, token);
    const messages = fetched.messages;
    const bytes = messages.reduce((sum, message) => sum + message.raw.length, 0);
    // Warm-up of both parsers.
    for (const message of messages.slice(0, 200)) {
      await simpleParser(message.raw);
      await parseMessage(message.raw);
    }
    const mailparser = await timed(async () => {
      for (const message of messages) await simpleParser(message.raw);
    });
    const prepared: PreparedMessage[] = [];
    const postern = await timed(async () => {
      for (const message of messages) prepared.push(await prepareMessage(message));
    });
    await storeAll(world.ready, prepared.slice(0, 200), 'FULL', 1);
    const single = await storeAll(world.ready, prepared, 'FULL', 1);
    const singleOff = await storeAll(world.ready, prepared, 'OFF', 1);
    const grouped = await storeAll(world.ready, prepared, 'FULL', GROUP);
    const smallPages = await storeAll(world.ready, prepared, 'FULL', GROUP, 4096);
    const perMessage = (timing: Timing): string =>
      `${((timing.ms * 1000) / messages.length).toFixed(0)} µs (CPU ${((timing.cpuMs * 1000) / messages.length).toFixed(0)} µs)`;
    printFigures(
      `Ingest breakdown, ${messages.length} messages (${(bytes / 1_048_576).toFixed(1)} MB), wall time per message (CPU)`,
      {
        fetchOnly: perMessage({ ms: fetched.ms, cpuMs: Number.NaN }).replace(' (CPU NaN µs)', ''),
        simpleParserDefault: perMessage(mailparser),
        posternParseMessage: perMessage(postern),
        sqlOneMessagePerTransaction: perMessage(single),
        sqlOneMessagePerTransactionSyncOff: perMessage(singleOff),
        [`sqlGroupsOf${GROUP}`]: perMessage(grouped),
        [`sqlGroupsOf${GROUP}On4KiBPages`]: perMessage(smallPages),
        fsyncShareOfOneMessagePerTransaction: `${(((single.ms - singleOff.ms) / single.ms) * 100).toFixed(0)} %`,
      },
    );
  } finally {
    await world.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
