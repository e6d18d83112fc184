/**
 * Ingest benchmark (`npm run bench:ingest`), issue 6 point 6(a): a generated 2,000-message
 * mailbox (mixed sizes and attachments, `ingest-corpus.ts`) in the emulator, which runs in its own
 * process, read two ways in the same run:
 *
 * - **bare**: one imapflow session, `UID FETCH 1:* (UID BODY.PEEK[] INTERNALDATE RFC822.SIZE)`,
 *   and each message parsed with mailparser's `simpleParser` (default options) as it arrives;
 * - **full**: Postern's pipeline on the embedded default (SQLite in a fresh data directory), or on
 *   PostgreSQL with BENCH_DATABASE_URL (a fresh database per read) —
 *   `MailboxSync.syncOnce()` (src/mail/imap/mailbox-sync.ts) → the account's sync store
 *   (src/services/inbound/mailbox-sync-store.ts) → `ingestMessage` (src/services/inbound/ingest-message.ts): fetch,
 *   store the raw MIME, parse and sanitize, thread, save the contact, advance the checkpoint, mark
 *   the messages seen after the commit. The account is created through the services; the data
 *   directory, provider and sign-in are prepared before the clock starts.
 *
 * One unmeasured warm-up of each, then BENCH_ROUNDS rounds alternating which goes first; medians
 * and the ratio full / bare are printed. Target: ratio ≤ 1.3.
 * Environment: BENCH_MESSAGES (2000), BENCH_ROUNDS (3); BENCH_DATABASE_URL: an admin URL of a
 * PostgreSQL server that may CREATE DATABASE, or `embedded` to start a private one with
 * PostgreSQL's durable defaults (`npm run bench:ingest:postgres`); BENCH_PROFILE=full|bare runs one read of
 * that kind only (no warm-up, no comparison), for `node --cpu-prof`, and prints the process's peak
 * RSS (run once per kind, each in its own process, to compare memory); BENCH_TUNING (JSON, e.g.
 * `{"batchCount":200,"groupCount":50}`) overrides the sync's tuning; BENCH_PARSE=inline parses
 * on the event loop instead of the parse pool — both for exploring, the defaults are Postern's.
 * Figures are recorded in docs/PERFORMANCE.md; this is never run as a timed test.
 */
import pg from 'pg';
import { z } from 'zod';
import { createCaFetch } from '../emulator/tls/ca-fetch.js';
import { startEmbeddedPostgres, type RunningPostgres } from '../test/helpers/embedded-postgres.js';
import { bareRead } from './helpers/bare-reader.js';
import { describeMachine, median, printFigures } from './helpers/figures.js';
import { sqliteBytes, timeFirstSync } from './helpers/first-sync.js';
import { createQueueAccounts, openPostern } from './helpers/postern-side.js';
import { comparisonFigures, interleaveReads, type ReadRun } from './helpers/read-comparison.js';
import { World, type WorldReady } from './helpers/world.js';
import {
  WORLD_AGENT,
  WORLD_CLIENT_ID,
  WORLD_PASSWORD,
  WORLD_TENANT_ID,
  queueMailbox,
} from './helpers/world-protocol.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? '2000');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');
const MAILBOX = queueMailbox(1);
const TUNING = z
  .object({
    batchCount: z.number().int().positive(),
    batchBytes: z.number().int().positive(),
    groupCount: z.number().int().positive(),
    groupBytes: z.number().int().positive(),
  })
  .partial()
  .parse(JSON.parse(process.env.BENCH_TUNING ?? '{}'));
const INLINE_PARSE = process.env.BENCH_PARSE === 'inline';
const DATABASE_URL = process.env.BENCH_DATABASE_URL;

/**
 * `process.memoryUsage()` every 100 ms until stopped: the main isolate's heap, memory outside it
 * (Buffers, ArrayBuffers) and the process's RSS, at the sample where RSS was highest, and each
 * one's own peak. What RSS holds beyond these is the parse worker's isolate, SQLite's page cache,
 * native allocations and code.
 */
function sampleMemory(): { stop(): Record<string, number> } {
  const mb = (bytes: number): number => Math.round(bytes / 104_857.6) / 10;
  let atPeak = process.memoryUsage();
  const peaks = { ...atPeak };
  const timer = setInterval(() => {
    const usage = process.memoryUsage();
    if (usage.rss > atPeak.rss) atPeak = usage;
    for (const key of ['heapTotal', 'heapUsed', 'external', 'arrayBuffers'] as const)
      peaks[key] = Math.max(peaks[key], usage[key]);
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return {
        sampledPeakRssMb: mb(atPeak.rss),
        atPeakHeapTotalMb: mb(atPeak.heapTotal),
        atPeakHeapUsedMb: mb(atPeak.heapUsed),
        atPeakExternalMb: mb(atPeak.external),
        atPeakArrayBuffersMb: mb(atPeak.arrayBuffers),
        peakHeapTotalMb: mb(peaks.heapTotal),
        peakExternalMb: mb(peaks.external),
        peakArrayBuffersMb: mb(peaks.arrayBuffers),
      };
    },
  };
}

/** A delegated Exchange token for the bare client (ROPC, as Postern's provider signs in). */
async function bareToken(ready: WorldReady): Promise<string> {
  const response = await createCaFetch(ready.caPem)(`${ready.authority}/${WORLD_TENANT_ID}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: WORLD_CLIENT_ID,
      username: WORLD_AGENT,
      password: WORLD_PASSWORD,
      scope: 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access',
    }).toString(),
  });
  return z.object({ access_token: z.string() }).parse(await response.json()).access_token;
}

/** A fresh PostgreSQL database for one read, and how to measure and drop it. */
interface FreshDatabase {
  readonly url: string;
  bytes(): Promise<number>;
  drop(): Promise<void>;
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let freshCount = 0;
async function freshDatabase(adminUrl: string): Promise<FreshDatabase> {
  freshCount += 1;
  const name = `postern_bench_${process.pid}_${freshCount}`;
  await withAdmin(adminUrl, (client) => client.query(`create database ${client.escapeIdentifier(name)}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    bytes: () =>
      withAdmin(adminUrl, async (client) => {
        const result = await client.query<{ size: string }>('select pg_database_size($1)::text as size', [name]);
        return Number(result.rows[0]?.size ?? 0);
      }),
    drop: () =>
      withAdmin(adminUrl, (client) =>
        client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`),
      ).then(() => undefined),
  };
}

/** The full pipeline into a fresh database: embedded SQLite, or PostgreSQL at `adminUrl`. */
async function fullRun(ready: WorldReady, adminUrl: string | undefined): Promise<ReadRun & { dbBytes: number }> {
  const database = adminUrl === undefined ? undefined : await freshDatabase(adminUrl);
  const side = await openPostern(ready, database === undefined ? {} : { env: { POSTERN_DATABASE_URL: database.url } });
  try {
    const [account] = await createQueueAccounts(side, ready, 1, { firstSync: { kind: 'all' } });
    if (account === undefined) throw new Error('no account');
    const run = await timeFirstSync(side.runtime, account, {
      messages: MESSAGES,
      tuning: TUNING,
      inlineParse: INLINE_PARSE,
    });
    const dbBytes = database === undefined ? sqliteBytes(side.dataDir) : await database.bytes();
    return { ...run, dbBytes };
  } finally {
    await side.close();
    await database?.drop();
  }
}

async function main(): Promise<void> {
  const machine = describeMachine();
  process.stdout.write(`Machine: ${machine}\n`);
  const postgres: RunningPostgres | undefined =
    DATABASE_URL === 'embedded' ? await startEmbeddedPostgres({ durable: true, purpose: 'The benchmark' }) : undefined;
  const adminUrl = postgres?.url ?? (DATABASE_URL === '' ? undefined : DATABASE_URL);
  const engine = adminUrl === undefined ? 'SQLite' : 'PostgreSQL';
  process.stdout.write(`database: ${engine}${postgres === undefined ? '' : ' (embedded, durable defaults)'}\n`);
  const world = await World.start({ mailboxes: 1, senders: 0 });
  try {
    const populated = await world.ask({ type: 'populate', mailbox: MAILBOX, corpus: 'ingest', count: MESSAGES });
    if (populated.type !== 'populated' || populated.count !== MESSAGES) throw new Error('the mailbox was not filled');
    process.stdout.write(
      `mailbox: ${populated.count} messages, ${(populated.bytes / 1_048_576).toFixed(1)} MB of MIME\n`,
    );
    const token = await bareToken(world.ready);
    const server = { port: world.ready.imapPort, caPem: world.ready.caPem };
    const only = process.env.BENCH_PROFILE;
    if (only === 'full' || only === 'bare') {
      const memory = sampleMemory();
      const run =
        only === 'full'
          ? await fullRun(world.ready, adminUrl)
          : await bareRead(server, { user: MAILBOX, accessToken: token });
      printFigures(`One ${only} read (profiling)`, {
        ms: run.ms,
        cpuMs: run.cpuMs,
        loopBusyMs: run.loopBusyMs,
        messages: run.messages,
        // The process holds this one read only (the emulator runs in its own): its peak is the read's.
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        ...memory.stop(),
        // For bench/profile-summary.ts --from --to: the read alone, without start-up and set-up.
        profileWindowUs: run.windowUs === undefined ? '' : `--from=${run.windowUs[0]} --to=${run.windowUs[1]}`,
      });
      return;
    }

    const { bare, full } = await interleaveReads(
      ROUNDS,
      () => bareRead(server, { user: MAILBOX, accessToken: token }),
      () => fullRun(world.ready, adminUrl),
    );
    const figures = {
      ...comparisonFigures(MESSAGES, populated.bytes, bare, full),
      databaseMegabytes: median(full.map((run) => run.dbBytes)) / 1_048_576,
    };
    printFigures(
      `Ingest of ${MESSAGES} messages: bare imapflow + mailparser vs Postern's full pipeline (${engine})`,
      figures,
    );
    process.stdout.write(`\nJSON ${JSON.stringify({ machine, engine, ingest: figures })}\n`);
  } finally {
    await world.stop();
    await postgres?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
