/**
 * Cluster benchmark (`npm run bench:cluster`), issue 17's acceptance: BENCH_NODES (3) real
 * `postern start` processes on one PostgreSQL (embedded, durable defaults), each reading
 * BENCH_MAILBOXES_PER_NODE (1,000) idle mailboxes of the emulator over IMAP IDLE.
 *
 * 1. **Memory per mailbox per node**: each node's RSS (`/proc/<pid>/status` and its own
 *    `process_resident_memory_bytes`) and JS heap (`nodejs_heap_size_used_bytes`) once the nodes
 *    run without accounts, then again once every mailbox has exactly one IMAP session and the
 *    sessions have settled; the difference divided by the mailboxes the node holds.
 * 2. **Takeover after `kill -9`**: for each mailbox of the killed node, the time from the kill to
 *    the first sample (every 100 ms, in the emulator's process: `helpers/cluster-world*.ts`) at
 *    which it has an IMAP session again, after one without. BENCH_KILLS (1) times, each followed by
 *    a replacement node and the wait for an even spread.
 * 3. **Handover after SIGTERM**: the same for a node stopped cleanly (its leases released).
 *
 * Accounts are created through the nodes' HTTP API (a Cloud Provider on the emulator as a custom
 * authority, the delegate signed in by ROPC, accounts of the shared mailboxes `queue0001@` …,
 * IMAP, first sync `new`). The leases keep Postern's defaults unless BENCH_LEASE_SECONDS is set.
 * Environment: BENCH_NODES (3), BENCH_MAILBOXES_PER_NODE (1000), BENCH_KILLS (1),
 * BENCH_SETTLE_MS (10000), BENCH_LEASE_SECONDS (Postern's default).
 * Figures are recorded in docs/PERFORMANCE.md; this is never run as a timed test.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { z } from 'zod';
import { startEmbeddedPostgres, type RunningPostgres } from '../test/helpers/embedded-postgres.js';
import { CLI, ClusterNode, callApi, type NodeMemory } from './helpers/cluster-node.js';
import { ClusterWorld, type ClusterWorldSessions, type ClusterWorldWatch } from './helpers/cluster-world.js';
import { describeMachine, median, now, printFigures, quantile, sleep } from './helpers/figures.js';
import {
  WORLD_AGENT,
  WORLD_CLIENT_ID,
  WORLD_PASSWORD,
  WORLD_TENANT_ID,
  queueMailbox,
} from './helpers/world-protocol.js';

const NODES = Number(process.env.BENCH_NODES ?? '3');
const PER_NODE = Number(process.env.BENCH_MAILBOXES_PER_NODE ?? '1000');
const KILLS = Number(process.env.BENCH_KILLS ?? '1');
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? '10000');
const LEASE_SECONDS = process.env.BENCH_LEASE_SECONDS;
const MAILBOXES = NODES * PER_NODE;
const SAMPLE_MS = 100;
/** Account creations in flight, spread over the nodes' APIs. */
const CREATE_CONCURRENCY = 8;
const SPREAD_TIMEOUT_MS = 15 * 60_000;
const TAKEOVER_TIMEOUT_MS = 5 * 60_000;
const PROGRESS_EVERY_MS = 30_000;
/** What a node logs when it stops its mailboxes because its lease round came too late (workers/mailbox-workers.ts). */
const CUT_OFF_LOG = 'mailbox leases not renewed in time';

const idReply = z.object({ id: z.number() });
const leaseRows = z.array(z.object({ account_id: z.number(), email_address: z.string(), node_id: z.string() }));
const claimRows = z.array(z.object({ node_id: z.string().nullable(), acquired_at: z.string().nullable() }));

/** Everything the benchmark started, for the cleanup. */
interface Started {
  postgres?: RunningPostgres;
  world?: ClusterWorld;
  readonly nodes: ClusterNode[];
  readonly dirs: string[];
}

const loadAverage = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const mb = (bytes: number): number => bytes / 1_048_576;

/** Polls `probe` every `everyMs` until it returns a value; fails after `timeoutMs`. */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 500,
): Promise<T> {
  const deadline = now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function query(url: string, text: string, values: unknown[] = []): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows }: { rows: unknown[] } = await client.query(text, values);
    return rows;
  } finally {
    await client.end();
  }
}

/** Runs one CLI command against the shared database; returns its standard output. */
function cli(args: string[], env: Record<string, string>, input?: string): string {
  const result = spawnSync(process.execPath, [CLI, ...args], { env, input, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`postern ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** The median of three readings of each node's memory, a second apart. */
async function measureMemory(nodes: readonly ClusterNode[], bearer: string): Promise<NodeMemory[]> {
  const readings: NodeMemory[][] = [];
  for (let i = 0; i < 3; i += 1) {
    if (i > 0) await sleep(1000);
    readings.push(await Promise.all(nodes.map((node) => node.memory(bearer))));
  }
  return nodes.map((_, index) => {
    const of = (pick: (memory: NodeMemory) => number): number =>
      median(readings.map((reading) => pick(reading[index] ?? { procRss: 0, metricsRss: 0, heapUsed: 0 })));
    return { procRss: of((m) => m.procRss), metricsRss: of((m) => m.metricsRss), heapUsed: of((m) => m.heapUsed) };
  });
}

/** The nodes still running, as the first of them lists them. */
async function runningNodes(nodes: readonly ClusterNode[], bearer: string): Promise<Map<string, number>> {
  const first = nodes.find((node) => node.alive);
  if (first === undefined) throw new Error('no node is running');
  const items = await first.nodes(bearer);
  return new Map(items.filter((item) => item.state === 'running').map((item) => [item.id, item.mailboxesHeld]));
}

/**
 * Waits until every mailbox has exactly one IMAP session and the live nodes hold them all, within
 * one of even; resolves with the time it took.
 */
async function waitForSpread(world: ClusterWorld, nodes: readonly ClusterNode[], bearer: string): Promise<number> {
  const started = now();
  const live = nodes.filter((node) => node.alive).length;
  let shownAt = started;
  await until(
    `every mailbox read once, spread over ${live} nodes`,
    async () => {
      const sessions = await world.sessions();
      const held = [...(await runningNodes(nodes, bearer)).values()];
      if (now() - shownAt > PROGRESS_EVERY_MS) {
        shownAt = now();
        process.stdout.write(
          `  … ${Math.round((shownAt - started) / 1000)} s: ${sessions.withOne} mailboxes with one session, ${sessions.withNone} with none, ${sessions.withMore} with more; held ${held.join(' / ')}; load ${loadAverage()}\n`,
        );
      }
      if (sessions.withOne !== MAILBOXES || sessions.withMore > 0) return undefined;
      const total = held.reduce((a, b) => a + b, 0);
      return held.length === live && total === MAILBOXES && Math.max(...held) - Math.min(...held) <= 1
        ? true
        : undefined;
    },
    SPREAD_TIMEOUT_MS,
    1000,
  );
  return now() - started;
}

/** Lines of the nodes' logs that say they stopped their mailboxes for want of a timely lease round. */
function countCutOffs(nodes: readonly ClusterNode[]): number {
  return nodes.reduce((sum, node) => sum + node.countLogLines(CUT_OFF_LOG), 0);
}

/**
 * The nodes' memory once the sessions have settled: measured after BENCH_SETTLE_MS, and measured
 * again (after waiting for the spread anew, three attempts at most) when a mailbox lost its
 * session meanwhile or a node stopped its mailboxes.
 */
async function measureSettled(
  world: ClusterWorld,
  nodes: readonly ClusterNode[],
  bearer: string,
): Promise<{ after: NodeMemory[]; worldAfter: ClusterWorldSessions; attempts: number }> {
  for (let attempts = 1; ; attempts += 1) {
    const cutOffs = countCutOffs(nodes);
    await sleep(SETTLE_MS);
    const after = await measureMemory(nodes, bearer);
    const worldAfter = await world.sessions();
    const steady = worldAfter.withOne === MAILBOXES && countCutOffs(nodes) === cutOffs;
    if (steady || attempts === 3) return { after, worldAfter, attempts };
    process.stdout.write(
      `  the sessions moved while memory was measured (${worldAfter.withOne} mailboxes with one session, ${countCutOffs(nodes) - cutOffs} lease cut-offs): measuring again\n`,
    );
    await waitForSpread(world, nodes, bearer);
  }
}

/** Creates the Cloud Provider, signs the delegate in and creates one account per mailbox. */
async function createAccounts(world: ClusterWorld, nodes: readonly ClusterNode[], bearer: string): Promise<void> {
  const first = nodes[0];
  if (first === undefined) throw new Error('no node');
  const provider = idReply.parse(
    await callApi(first.url, bearer, 'POST', '/api/cloudProviders', {
      name: 'Bench tenant',
      applicationId: WORLD_CLIENT_ID,
      tenantId: WORLD_TENANT_ID,
      cloud: 'custom',
      authorityUrl: world.ready.authority,
      caFile: world.ready.caFile,
      grantType: 'password',
    }),
  );
  await callApi(first.url, bearer, 'POST', `/api/cloudProviders/${provider.id}/authenticate`, {
    username: WORLD_AGENT,
    password: WORLD_PASSWORD,
  });
  // One list for all (a helpdesk's queues share their contacts), created before the accounts: the
  // fallback list an account without one gets is found-or-created per account, and concurrent
  // creations race on its name (409 RESOURCE_CONFLICT).
  const list = idReply.parse(await callApi(first.url, bearer, 'POST', '/api/lists', { name: 'Customers' }));
  let next = 1;
  const lane = async (laneIndex: number): Promise<void> => {
    const node = nodes[laneIndex % nodes.length] ?? first;
    for (let i = next++; i <= MAILBOXES; i = next++) {
      await callApi(node.url, bearer, 'POST', '/api/email/accounts', {
        name: `Queue ${i}`,
        key: `Q${String(i).padStart(4, '0')}`,
        emailAddress: queueMailbox(i),
        username: queueMailbox(i),
        service: 'outlook365',
        providerId: provider.id,
        modernAuthEmail: WORLD_AGENT,
        defaultListId: list.id,
        transport: 'imap_smtp',
        imapHost: '127.0.0.1',
        imapPort: world.ready.imapPort,
        firstSync: { kind: 'new' },
      });
    }
  };
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, (_, i) => lane(i)));
}

/** Per node, and on average: memory added by the mailboxes it holds. */
function memoryFigures(
  nodes: readonly ClusterNode[],
  held: ReadonlyMap<ClusterNode, number>,
  before: readonly NodeMemory[],
  after: readonly NodeMemory[],
): Record<string, number> {
  const figures: Record<string, number> = {};
  const perMailbox = { proc: [] as number[], metrics: [] as number[], heap: [] as number[] };
  for (const [index, node] of nodes.entries()) {
    const b = before[index];
    const a = after[index];
    const count = held.get(node) ?? 0;
    if (b === undefined || a === undefined || count === 0) continue;
    const kib = (delta: number): number => delta / 1024 / count;
    perMailbox.proc.push(kib(a.procRss - b.procRss));
    perMailbox.metrics.push(kib(a.metricsRss - b.metricsRss));
    perMailbox.heap.push(kib(a.heapUsed - b.heapUsed));
    Object.assign(figures, {
      [`${node.name}Mailboxes`]: count,
      [`${node.name}RssMbBefore`]: mb(b.procRss),
      [`${node.name}RssMbAfter`]: mb(a.procRss),
      [`${node.name}HeapMbBefore`]: mb(b.heapUsed),
      [`${node.name}HeapMbAfter`]: mb(a.heapUsed),
      [`${node.name}RssKibPerMailbox`]: kib(a.procRss - b.procRss),
      [`${node.name}MetricsRssKibPerMailbox`]: kib(a.metricsRss - b.metricsRss),
      [`${node.name}HeapKibPerMailbox`]: kib(a.heapUsed - b.heapUsed),
    });
  }
  const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
  return {
    ...figures,
    meanRssKibPerMailbox: mean(perMailbox.proc),
    meanMetricsRssKibPerMailbox: mean(perMailbox.metrics),
    meanHeapKibPerMailbox: mean(perMailbox.heap),
  };
}

/**
 * Sends `signal` to `victim` and waits until each of its mailboxes has a session again; returns
 * the distribution, from the signal, of: the session back, the lease claimed by another node
 * (its `acquired_at`), the session seen gone.
 */
async function takeOver(
  world: ClusterWorld,
  databaseUrl: string,
  victim: ClusterNode,
  signal: 'SIGKILL' | 'SIGTERM',
  bearer: string,
  nodes: readonly ClusterNode[],
): Promise<Record<string, number | string>> {
  const victimId = await victim.nodeId(bearer);
  const cutOffs = countCutOffs(nodes);
  const leases = leaseRows.parse(
    await query(
      databaseUrl,
      'select l.account_id, a.email_address, l.node_id from mailbox_leases l join email_accounts a on a.id = l.account_id where l.node_id = $1',
      [victimId],
    ),
  );
  await world.watch(leases.map((lease) => lease.email_address));
  const signalledAt = now();
  victim.kill(signal);
  let report: ClusterWorldWatch | undefined;
  try {
    report = await until(
      `the ${leases.length} mailboxes of ${victim.name} read again`,
      async () => {
        const current = await world.watchReport();
        return current.mailboxes.every(([, , backAt]) => backAt !== null) ? current : undefined;
      },
      TAKEOVER_TIMEOUT_MS,
    );
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}; reporting what came back\n`);
    report = await world.watchReport();
  }
  const exit = await victim.exited;
  printRounds(nodes, victim, signalledAt);
  const back = report.mailboxes.flatMap(([, , backAt]) => (backAt === null ? [] : [backAt - signalledAt]));
  const dropped = report.mailboxes.flatMap(([, droppedAt]) => (droppedAt === null ? [] : [droppedAt - signalledAt]));
  const claims = claimRows.parse(
    await query(databaseUrl, 'select node_id, acquired_at from mailbox_leases where account_id = any($1)', [
      leases.map((lease) => lease.account_id),
    ]),
  );
  const claimed = claims.flatMap((row) =>
    row.node_id === null || row.node_id === victimId || row.acquired_at === null
      ? []
      : [Date.parse(row.acquired_at) - signalledAt],
  );
  const takers = new Map<string, number>();
  for (const row of claims) if (row.node_id !== null) takers.set(row.node_id, (takers.get(row.node_id) ?? 0) + 1);
  return {
    mailboxes: leases.length,
    backAgain: back.length,
    notBackAgain: leases.length - back.length,
    neverSeenWithoutSession: report.mailboxes.filter(([, droppedAt]) => droppedAt === null).length,
    backMsMin: quantile(back, 0),
    backMsP50: quantile(back, 0.5),
    backMsP90: quantile(back, 0.9),
    backMsP99: quantile(back, 0.99),
    backMsMax: quantile(back, 1),
    leaseClaimedMsMin: quantile(claimed, 0),
    leaseClaimedMsP50: quantile(claimed, 0.5),
    leaseClaimedMsMax: quantile(claimed, 1),
    sessionGoneMsP50: quantile(dropped, 0.5),
    sessionGoneMsMax: quantile(dropped, 1),
    samplerLongestGapMs: report.longestGapMs,
    victimExitedAfterMs: exit.at - signalledAt,
    victimExit: exit.signal ?? String(exit.code),
    takenBy: [...takers.values()].sort((a, b) => b - a).join(' + '),
    leaseCutOffsDuring: countCutOffs(nodes) - cutOffs,
  };
}

/**
 * The survivors' lease rounds since the signal that took mailboxes or waited in the queue (what
 * Postern logs as "mailbox lease round"): when each began, why, and what it waited behind.
 */
function printRounds(nodes: readonly ClusterNode[], victim: ClusterNode, signalledAt: number): void {
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  for (const node of nodes) {
    if (node === victim || !node.alive) continue;
    for (const record of node.logRecords('mailbox lease round', signalledAt - 1000)) {
      const round = record as unknown as LeaseRoundLog;
      const waited = round.waitedMs ?? 0;
      const askedAt = round.at - signalledAt - round.startMs - round.roundMs - waited;
      const behind = `behind ${round.behind ?? '?'} queued${round.behindRunning === undefined ? '' : ` and a running ${round.behindRunning}`}`;
      process.stdout.write(
        `  ${node.name}: round asked at +${seconds(askedAt)} (${round.reason ?? '?'}, ${behind}), waited ${seconds(waited)}, claimed ${round.claimed} in ${seconds(round.roundMs)}, started ${round.started} in ${seconds(round.startMs)}\n`,
      );
    }
  }
}

/** What a node logs of a lease round (workers/mailbox-workers.ts). */
interface LeaseRoundLog {
  readonly at: number;
  readonly claimed: number;
  readonly started: number;
  readonly roundMs: number;
  readonly startMs: number;
  readonly reason?: string;
  readonly waitedMs?: number;
  readonly behind?: number;
  readonly behindRunning?: string;
}

async function cleanUp(started: Started): Promise<void> {
  for (const node of started.nodes) await node.remove().catch(() => undefined);
  await started.world?.stop().catch(() => undefined);
  await started.postgres?.stop().catch(() => undefined);
  for (const dir of started.dirs) fs.rmSync(dir, { recursive: true, force: true });
}

async function run(started: Started): Promise<void> {
  const machine = describeMachine();
  process.stdout.write(
    `Cluster benchmark: ${NODES} nodes × ${PER_NODE} mailboxes\nMachine: ${machine}\nload average before: ${loadAverage()}\n`,
  );
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: the script runs "npm run build" first.`);
  started.postgres = await startEmbeddedPostgres({ durable: true, purpose: 'The benchmark' });
  await query(started.postgres.url, 'create database postern_cluster_bench');
  const databaseUrl = started.postgres.url.replace(/\/postgres$/, '/postern_cluster_bench');
  const world = await ClusterWorld.start({ mailboxes: MAILBOXES, sampleMs: SAMPLE_MS });
  started.world = world;

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    POSTERN_DATABASE_URL: databaseUrl,
    POSTERN_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    POSTERN_LOG_CONSOLE: 'false',
    ...(LEASE_SECONDS === undefined ? {} : { POSTERN_MAILBOX_LEASE_SECONDS: LEASE_SECONDS }),
  };
  const adminDir = fs.mkdtempSync(`${os.tmpdir()}/postern-bench-cluster-admin-`);
  started.dirs.push(adminDir);
  const adminEnv = { ...env, POSTERN_DATA_DIR: adminDir };
  cli(['users', 'add', 'ops', '--role', 'admin', '--password-stdin'], adminEnv, 'ops-password-123456\n');
  const token = /Token \(shown once\): (pst_\S+)/.exec(
    cli(['tokens', 'create', 'bench', '--user', 'ops'], adminEnv),
  )?.[1];
  if (token === undefined) throw new Error('no API token was printed');
  const bearer = `Bearer ${token}`;

  let serial = 0;
  const startNode = async (): Promise<ClusterNode> => {
    const node = await ClusterNode.start(`node${(serial += 1)}`, env);
    started.nodes.push(node);
    return node;
  };
  const first = await Promise.all(Array.from({ length: NODES }, () => startNode()));
  await until(
    `${NODES} nodes running`,
    async () => ((await runningNodes(first, bearer)).size === NODES ? true : undefined),
    60_000,
  );
  await sleep(SETTLE_MS);
  const before = await measureMemory(first, bearer);
  const worldBefore = await world.sessions();

  const createdAt = now();
  await createAccounts(world, first, bearer);
  const createMs = now() - createdAt;
  process.stdout.write(`${MAILBOXES} accounts created through the nodes' API in ${(createMs / 1000).toFixed(1)} s\n`);
  const spreadMs = await waitForSpread(world, first, bearer);
  const readAfterMs = now() - createdAt;
  const { after, worldAfter, attempts } = await measureSettled(world, first, bearer);
  const running = await runningNodes(first, bearer);
  const held = new Map<ClusterNode, number>();
  for (const node of first) held.set(node, running.get(await node.nodeId(bearer)) ?? 0);
  const memory = {
    mailboxes: MAILBOXES,
    accountsCreatedInMs: createMs,
    allReadOnceAfterCreationStartMs: readAfterMs,
    allReadOnceAfterLastCreationMs: spreadMs,
    emulatorImapConnections: worldAfter.connections,
    mailboxesWithOneSessionWhenMeasured: worldAfter.withOne,
    measurementAttempts: attempts,
    leaseCutOffsSoFar: countCutOffs(first),
    ...memoryFigures(first, held, before, after),
    emulatorRssMbBefore: mb(worldBefore.rss),
    emulatorRssMbAfter: mb(worldAfter.rss),
    loadAverage: loadAverage(),
  };
  printFigures(`${NODES} nodes, ${MAILBOXES} idle mailboxes: memory per mailbox per node`, memory);

  const kills: Array<Record<string, number | string>> = [];
  for (let round = 1; round <= KILLS; round += 1) {
    const victim = started.nodes.find((node) => node.alive);
    if (victim === undefined) throw new Error('no node to kill');
    const survivors = started.nodes.filter((node) => node.alive && node !== victim);
    const figures = await takeOver(world, databaseUrl, victim, 'SIGKILL', bearer, started.nodes);
    if (round === 1) {
      // The survivors' memory with the dead node's share added, against their baseline.
      await sleep(SETTLE_MS);
      const taken = await measureMemory(survivors, bearer);
      const shares = await runningNodes(survivors, bearer);
      for (const [index, node] of survivors.entries()) {
        const base = before[first.indexOf(node)];
        const mem = taken[index];
        const count = shares.get(await node.nodeId(bearer)) ?? 0;
        if (base === undefined || mem === undefined || count === 0) continue;
        figures[`${node.name}MailboxesAfterTakeover`] = count;
        figures[`${node.name}RssMbAfterTakeover`] = mb(mem.procRss);
        figures[`${node.name}RssKibPerMailboxAfterTakeover`] = (mem.procRss - base.procRss) / 1024 / count;
      }
    }
    await startNode();
    figures.replacementSpreadMs = await waitForSpread(world, started.nodes, bearer);
    figures.loadAverage = loadAverage();
    kills.push(figures);
    printFigures(`kill -9 of ${victim.name} (round ${round} of ${KILLS}): time from the kill, ms`, figures);
  }

  const stopped = started.nodes.find((node) => node.alive);
  if (stopped === undefined) throw new Error('no node to stop');
  const sigterm = await takeOver(world, databaseUrl, stopped, 'SIGTERM', bearer, started.nodes);
  sigterm.loadAverage = loadAverage();
  printFigures(`SIGTERM of ${stopped.name}: time from the signal, ms`, sigterm);

  const end = await world.sessions();
  const overall = {
    mostSessionsOnOneMailboxAtAnySample: end.mostEver,
    emulatorRssMb: mb(end.rss),
    // A node that stops all its mailboxes because its lease round came too late: should be 0.
    leaseCutOffs: started.nodes.map((node) => `${node.name} ${node.countLogLines(CUT_OFF_LOG)}`).join(', '),
  };
  printFigures('Throughout', overall);
  process.stdout.write(`load average after: ${loadAverage()}\n`);
  process.stdout.write(
    `\nJSON ${JSON.stringify({ machine, nodes: NODES, perNode: PER_NODE, memory, kills, sigterm, overall })}\n`,
  );
}

async function main(): Promise<void> {
  const started: Started = { nodes: [], dirs: [] };
  // An interrupted run leaves nothing behind: the nodes and the world die at once, then the rest.
  // (embedded-postgres stops its server on a signal, and the world process ends when this one does).
  const interrupt = (): void => {
    for (const node of started.nodes) node.removeNow();
    for (const dir of started.dirs) fs.rmSync(dir, { recursive: true, force: true });
    void cleanUp(started).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    await run(started);
  } finally {
    await cleanUp(started);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
