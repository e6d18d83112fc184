/**
 * Graph ingest benchmark (`npm run bench:graph-ingest`), issue 14's acceptance: the 2,000-message
 * mailbox of `ingest-corpus.ts` in the emulator (its own process, `helpers/world*.ts`, Microsoft
 * Graph served beside IMAP over the same mailboxes), read two ways in the same run:
 *
 * - **bare**: a Graph client on undici's fetch trusting the emulator's CA, with the delegate's
 *   token (ROPC, Mail.ReadWrite.Shared): `GET /users/{mailbox}/mailFolders/inbox/messages?$select=id&$top=1000`
 *   following `@odata.nextLink`, and every message's `GET /users/{mailbox}/messages/{id}/$value`,
 *   at most four requests in flight (Exchange's MailboxConcurrency limit per app and mailbox),
 *   each message parsed with mailparser's `simpleParser` (default options) as it arrives; nothing
 *   stored;
 * - **full**: Postern's Graph inbound engine on the embedded default (SQLite in a fresh data
 *   directory): `GraphSync.syncOnce()` (src/mail/graph/graph-sync.ts) for an account of transport
 *   `graph` on the shared mailbox, built as the mailbox workers build it
 *   (MailboxSyncService.openGraphSync: `graphClientOf` for the client, `createGraphSyncStore` for
 *   the storage) — a delta round from the folder, `$value` of each message, parse on the parse
 *   pool, `ingestPrepared` in groups with the delta link in the last group's transaction, and the
 *   account's after-fetch action (mark read: `PATCH isRead`) after each commit. The provider (with
 *   Graph's scopes), the delegate's sign-in, the account and its Graph token are prepared before
 *   the clock starts.
 *
 * One unmeasured warm-up of each, then BENCH_ROUNDS rounds alternating which goes first; medians
 * and the ratio full / bare are printed, with the emulator's Graph answers by status (a 429 means
 * a reader went over the concurrency limit). Target: ratio ≤ 1.3.
 * Environment: BENCH_MESSAGES (2000), BENCH_ROUNDS (3); BENCH_PROFILE=full|bare runs one read of
 * that kind only (no warm-up, no comparison), for `node --cpu-prof`; BENCH_TUNING (JSON, e.g.
 * `{"pageSize":500,"groupCount":100}`) overrides the engine's tuning; BENCH_PARSE=inline parses on
 * the event loop instead of the parse pool; BENCH_AFTER_FETCH=none leaves the messages unread
 * (no PATCH per message) — the last three for exploring, the defaults are Postern's.
 * Figures are recorded in docs/PERFORMANCE.md; this is never run as a timed test.
 */
import fs from 'node:fs';
import path from 'node:path';
import { rootCertificates } from 'node:tls';
import { simpleParser } from 'mailparser';
import { Agent, fetch } from 'undici';
import { z } from 'zod';
import { createCaFetch } from '../emulator/tls/ca-fetch.js';
import { GraphSync } from '../src/mail/graph/graph-sync.js';
import { parseMessage } from '../src/mail/mime/parse-message.js';
import { graphClientOf } from '../src/services/accounts/mailbox-connection.js';
import { createGraphSyncStore } from '../src/services/inbound/graph-sync-store.js';
import { countAccountMessages, getDeltaLink } from '../src/store/index.js';
import { describeMachine, median, now, printFigures } from './helpers/figures.js';
import { createQueueAccounts, openPostern } from './helpers/postern-side.js';
import { comparisonFigures, interleaveReads, type ReadRun } from './helpers/read-comparison.js';
import { World, type WorldReady } from './helpers/world.js';
import {
  WORLD_AGENT,
  WORLD_CLIENT_ID,
  WORLD_GRAPH_READ_SCOPES,
  WORLD_GRAPH_SCOPES,
  WORLD_PASSWORD,
  WORLD_TENANT_ID,
  queueMailbox,
} from './helpers/world-protocol.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? '2000');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');
const MAILBOX = queueMailbox(1);
/** Exchange's MailboxConcurrency limit: requests of one app on one mailbox in flight. */
const IN_FLIGHT = 4;
/** The bare reader's page: Graph's largest `$top` for messages. */
const BARE_PAGE = 1000;
const TUNING = z
  .object({
    pageSize: z.number().int().positive(),
    groupCount: z.number().int().positive(),
    groupBytes: z.number().int().positive(),
  })
  .partial()
  .parse(JSON.parse(process.env.BENCH_TUNING ?? '{}'));
const INLINE_PARSE = process.env.BENCH_PARSE === 'inline';
const AFTER_FETCH = z.enum(['none', 'mark_seen']).optional().parse(process.env.BENCH_AFTER_FETCH);

/** One timed read of the mailbox. */
interface Run extends ReadRun {
  /** Graph requests the emulator answered during the read, and how many of them were 429. */
  readonly requests: number;
  readonly throttled: number;
}

/** The emulator's Graph answers since the last call (the counts are reset). */
async function graphAnswers(world: World): Promise<{ requests: number; throttled: number }> {
  const report = await world.ask({ type: 'graph-report' });
  if (report.type !== 'graph-report') throw new Error(`unexpected reply ${report.type}`);
  const counts = Object.entries(report.statuses);
  return {
    requests: counts.reduce((sum, [, n]) => sum + n, 0),
    throttled: counts.filter(([status]) => status === '429').reduce((sum, [, n]) => sum + n, 0),
  };
}

/** A delegated Graph token for the bare client (ROPC, as Postern's provider signs in). */
async function bareToken(ready: WorldReady): Promise<string> {
  const response = await createCaFetch(ready.caPem)(`${ready.authority}/${WORLD_TENANT_ID}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: WORLD_CLIENT_ID,
      username: WORLD_AGENT,
      password: WORLD_PASSWORD,
      scope: WORLD_GRAPH_READ_SCOPES,
    }).toString(),
  });
  return z.object({ access_token: z.string() }).parse(await response.json()).access_token;
}

const listPage = z.object({
  value: z.array(z.object({ id: z.string() })),
  '@odata.nextLink': z.string().optional(),
});

/**
 * The bare read: list the Inbox and fetch every `$value`, four requests in flight at most (four
 * lanes; a lane with nothing to fetch lists the next page, or waits for the lane listing it),
 * mailparser on each message; nothing stored. One undici pool for the whole benchmark, as
 * Postern's Graph client keeps one per CA.
 */
async function bareRun(world: World, agent: Agent, token: string): Promise<Run> {
  await graphAnswers(world);
  const loop = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const started = now();
  const root = `${world.ready.authority}/v1.0/users/${encodeURIComponent(MAILBOX)}`;
  const get = async (url: string): Promise<Buffer> => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, dispatcher: agent });
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${body.toString('utf8', 0, 500)}`);
    return body;
  };
  const queue: string[] = [];
  let next: string | undefined = `${root}/mailFolders/inbox/messages?$select=id&$top=${BARE_PAGE}`;
  let listing: Promise<void> | undefined;
  const listMore = (url: string): Promise<void> =>
    (listing ??= (async () => {
      const page = listPage.parse(JSON.parse((await get(url)).toString('utf8')));
      queue.push(...page.value.map((item) => item.id));
      next = page['@odata.nextLink'];
    })().finally(() => {
      listing = undefined;
    }));
  let messages = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      const id = queue.shift();
      if (id !== undefined) {
        const parsed = await simpleParser(await get(`${root}/messages/${encodeURIComponent(id)}/$value`));
        if (parsed.messageId === undefined) throw new Error(`message ${id} parsed without a Message-ID`);
        messages += 1;
        continue;
      }
      if (listing !== undefined) await listing;
      else if (next !== undefined) await listMore(next);
      else return;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const ms = now() - started;
  const used = process.cpuUsage(cpu);
  const loopBusyMs = performance.eventLoopUtilization(loop).active;
  if (messages !== MESSAGES) throw new Error(`the bare reader read ${messages} messages, not ${MESSAGES}`);
  return { ms, messages, cpuMs: (used.user + used.system) / 1000, loopBusyMs, ...(await graphAnswers(world)) };
}

/** The full Graph pipeline into a fresh embedded database. */
async function fullRun(world: World): Promise<Run & { dbBytes: number }> {
  const side = await openPostern(world.ready, { scopes: WORLD_GRAPH_SCOPES });
  try {
    const { runtime } = side;
    const { accounts, accessTokens } = runtime.services;
    const [account] = await createQueueAccounts(side, world.ready, 1, {
      firstSync: { kind: 'all' },
      transport: 'graph',
    });
    if (account === undefined) throw new Error('no account');
    // The Graph token is fetched before the clock starts.
    await accessTokens.accessToken((await accounts.grantFor(account)).id, 'graph');
    const logger = runtime.log.logger.child({ component: 'mailbox', accountId: account.id, key: account.key });
    const sync = new GraphSync({
      mailbox: account.username,
      openClient: (signal) =>
        graphClientOf(runtime.db, accounts, accessTokens, account, { purpose: 'read', signal, logger }),
      folder: account.folder,
      scanJunk: account.scanJunk,
      afterFetch: AFTER_FETCH ?? account.afterFetchAction,
      afterFetchFolder: account.afterFetchFolder,
      maxMessageBytes: account.maxMessageBytes,
      firstSync: account.firstSync,
      store: createGraphSyncStore(runtime.db, account, INLINE_PARSE ? { parse: parseMessage } : {}),
      logger,
      tuning: TUNING,
    });
    await graphAnswers(world);
    const loop = performance.eventLoopUtilization();
    const cpu = process.cpuUsage();
    const started = now();
    await sync.syncOnce();
    const ms = now() - started;
    const used = process.cpuUsage(cpu);
    const loopBusyMs = performance.eventLoopUtilization(loop).active;
    const answers = await graphAnswers(world);
    const messages = await countAccountMessages(runtime.db, account.id);
    const checkpoint = await getDeltaLink(runtime.db, account.id, account.folder);
    if (messages !== MESSAGES || checkpoint === undefined)
      throw new Error(`stored ${messages} messages, delta link ${checkpoint === undefined ? 'missing' : 'stored'}`);
    const dbBytes = fs
      .readdirSync(side.dataDir)
      .filter((name) => name.startsWith('postern.db'))
      .reduce((sum, name) => sum + fs.statSync(path.join(side.dataDir, name)).size, 0);
    return { ms, messages, cpuMs: (used.user + used.system) / 1000, loopBusyMs, ...answers, dbBytes };
  } finally {
    await side.close();
  }
}

async function main(): Promise<void> {
  const machine = describeMachine();
  process.stdout.write(`Machine: ${machine}\n`);
  const world = await World.start({ mailboxes: 1, senders: 0 });
  const agent = new Agent({ connect: { ca: [...rootCertificates, world.ready.caPem] } });
  try {
    const populated = await world.ask({ type: 'populate', mailbox: MAILBOX, corpus: 'ingest', count: MESSAGES });
    if (populated.type !== 'populated' || populated.count !== MESSAGES) throw new Error('the mailbox was not filled');
    process.stdout.write(
      `mailbox: ${populated.count} messages, ${(populated.bytes / 1_048_576).toFixed(1)} MB of MIME\n`,
    );
    const token = await bareToken(world.ready);
    const only = process.env.BENCH_PROFILE;
    if (only === 'full' || only === 'bare') {
      const run = only === 'full' ? await fullRun(world) : await bareRun(world, agent, token);
      printFigures(`One ${only} Graph read (profiling)`, {
        ms: run.ms,
        cpuMs: run.cpuMs,
        loopBusyMs: run.loopBusyMs,
        messages: run.messages,
        graphRequests: run.requests,
        graph429s: run.throttled,
      });
      return;
    }

    // The warm-up also fills the emulator's per-message encodings and the connection pools.
    const { bare, full } = await interleaveReads(
      ROUNDS,
      () => bareRun(world, agent, token),
      () => fullRun(world),
    );
    const figures = {
      ...comparisonFigures(MESSAGES, populated.bytes, bare, full),
      bareGraphRequestsMedian: median(bare.map((run) => run.requests)),
      fullGraphRequestsMedian: median(full.map((run) => run.requests)),
      graph429sBareFull: `${bare.reduce((sum, run) => sum + run.throttled, 0)} / ${full.reduce((sum, run) => sum + run.throttled, 0)}`,
      databaseMegabytes: median(full.map((run) => run.dbBytes)) / 1_048_576,
    };
    printFigures(
      `Graph ingest of ${MESSAGES} messages: bare Graph reader + mailparser vs Postern's Graph pipeline (SQLite)`,
      figures,
    );
    process.stdout.write(`\nJSON ${JSON.stringify({ machine, graphIngest: figures })}\n`);
  } finally {
    await agent.close();
    await world.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
