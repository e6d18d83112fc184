/**
 * IDLE benchmark (`npm run bench:idle`), issue 6 point 6(b): 1,000 Email Accounts, created through
 * Postern's services, each read by its real mailbox worker (`MailboxWorkers`,
 * src/workers/mailbox-workers.ts) over one IMAP IDLE connection to the emulator, which runs in its
 * own process (`helpers/world-process.ts`) so that the two processes' memory is told apart.
 *
 * 1. **Memory per connected idle account**: this process's memory (after a full GC) with the
 *    runtime open and the accounts created, then again once every worker has connected, synced
 *    its empty Inbox and entered IDLE; the difference divided by the number of accounts.
 * 2. **New-mail latency**: an outside sender submits a message over SMTP (STARTTLS, XOAUTH2) to
 *    the emulator's submission server, which delivers it into one of the 1,000 Inboxes. Measured
 *    from the moment the message is in the Inbox (reported by the emulator process) to the moment
 *    Postern's API (`GET /api/interactions/:id` through `app.inject`) returns it — IDLE's EXISTS,
 *    fetch, parse, store, commit, API read. Also from the start of the SMTP submission.
 *    BENCH_SAMPLES (300) messages one at a time, to mailboxes spread over all accounts; then a
 *    steady stream of BENCH_RATE (20) messages a second for 15 s, without waiting for one another;
 *    then one message to every mailbox at once (a burst), for the spread under load, with its
 *    timeline (messages delivered and made visible per half second).
 *
 * Environment: BENCH_ACCOUNTS (1000), BENCH_SAMPLES (300), BENCH_SENDERS (100), BENCH_RATE (20),
 * BENCH_STEADY_MS (15000; 0 skips the steady stream), BENCH_BURST (the smaller of BENCH_ACCOUNTS and 1000:
 * the burst's mailboxes, spread over all accounts), BENCH_HOLD_MS (10000).
 * Figures are recorded in docs/PERFORMANCE.md; this is never run as a timed test.
 */
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { IngestResult } from '../src/services/inbound/ingest-message.js';
import { sql } from 'kysely';
import {
  describeMachine,
  memorySnapshot,
  now,
  printFigures,
  quantile,
  sleep,
  type MemorySnapshot,
} from './helpers/figures.js';
import { createQueueAccounts, openPostern, type PosternSide } from './helpers/postern-side.js';
import { World, type WorldSent } from './helpers/world.js';
import { queueMailbox } from './helpers/world-protocol.js';

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? '1000');
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? '300');
const SENDERS = Number(process.env.BENCH_SENDERS ?? '100');
const HOLD_MS = Number(process.env.BENCH_HOLD_MS ?? '10000');
const RATE = Number(process.env.BENCH_RATE ?? '20');
const STEADY_MS = Number(process.env.BENCH_STEADY_MS ?? '15000');
/** How long every account may take to connect, and then to sync: 3 minutes per 1,000 accounts. */
/** Mailboxes of the burst (one message each, at once), spread over all accounts: the 1,000. */
const BURST = Number(process.env.BENCH_BURST ?? String(Math.min(ACCOUNTS, 1000)));
const SETUP_TIMEOUT_MS = Math.max(180_000, ACCOUNTS * 180);

const detailReply = z.object({ messages: z.array(z.object({ messageId: z.string().nullable() })) });

/** One message's times, ms since the epoch. */
interface Sample {
  readonly sent: WorldSent;
  /** Postern's transaction committed (the sync store's callback). */
  readonly committedAt: number;
  /** Postern's API returned the message. */
  readonly visibleAt: number;
}

/** Follows ingest: resolves a waiter when its Message-ID is committed and visible in the API. */
class Arrivals {
  private readonly waiting = new Map<string, (times: { committedAt: number; visibleAt: number }) => void>();

  constructor(
    private readonly app: FastifyInstance,
    private readonly authorization: string,
  ) {}

  expect(messageId: string): Promise<{ committedAt: number; visibleAt: number }> {
    return new Promise((resolve) => this.waiting.set(messageId, resolve));
  }

  /** The workers' `onIngested`: called after each commit. */
  readonly onIngested = (result: IngestResult): void => {
    if (result.outcome !== 'stored' || !this.waiting.has(result.messageId)) return;
    const committedAt = now();
    const resolve = this.waiting.get(result.messageId);
    this.waiting.delete(result.messageId);
    void this.app
      .inject({
        method: 'GET',
        url: `/api/interactions/${result.interactionId}`,
        headers: { authorization: this.authorization },
      })
      .then((response) => {
        const visibleAt = now();
        const shown = detailReply
          .parse(response.json())
          .messages.some((message) => message.messageId === result.messageId);
        if (!shown) throw new Error(`the API does not show ${result.messageId}`);
        resolve?.({ committedAt, visibleAt });
      });
  };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = now();
  while (!(await check())) {
    if (now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
  return now() - started;
}

async function countWhere(side: PosternSide, query: 'connected' | 'checkpoints'): Promise<number> {
  const text =
    query === 'connected'
      ? sql<{ total: number }>`select count(*) as total from email_accounts where status = 'connected'`
      : sql<{ total: number }>`select count(*) as total from mailbox_checkpoints`;
  const result = await text.execute(side.runtime.db.kysely);
  return Number(result.rows[0]?.total ?? 0);
}

/** One message from `sender` to mailbox `index`, until visible in Postern's API. */
async function deliverOne(
  world: World,
  arrivals: Arrivals,
  id: number,
  sender: number,
  index: number,
): Promise<Sample> {
  const messageId = `<idle-${id}@bench.example>`;
  const seen = arrivals.expect(messageId);
  const sent = await world.submit(id, sender, queueMailbox(index), messageId);
  const times = await seen;
  return { sent, ...times };
}

function latencyFigures(prefix: string, samples: readonly Sample[]): Record<string, number> {
  const fromDelivery = samples.map((s) => s.visibleAt - s.sent.deliveredAt);
  const toCommit = samples.map((s) => s.committedAt - s.sent.deliveredAt);
  const fromSubmission = samples.map((s) => s.visibleAt - s.sent.submittedAt);
  return {
    [`${prefix}Samples`]: samples.length,
    [`${prefix}DeliveredToApiMsP50`]: quantile(fromDelivery, 0.5),
    [`${prefix}DeliveredToApiMsP90`]: quantile(fromDelivery, 0.9),
    [`${prefix}DeliveredToApiMsP99`]: quantile(fromDelivery, 0.99),
    [`${prefix}DeliveredToApiMsMax`]: quantile(fromDelivery, 1),
    [`${prefix}DeliveredToCommitMsP50`]: quantile(toCommit, 0.5),
    [`${prefix}DeliveredToCommitMsP99`]: quantile(toCommit, 0.99),
    [`${prefix}SmtpStartToApiMsP50`]: quantile(fromSubmission, 0.5),
    [`${prefix}SmtpStartToApiMsP99`]: quantile(fromSubmission, 0.99),
  };
}

/** Width of a step of the burst's timeline. */
const TIMELINE_STEP_MS = 500;

/**
 * The burst as a timeline: how many messages the emulator delivered, and how many became visible
 * in Postern's API, in each {@link TIMELINE_STEP_MS} from the start. When the visible column falls
 * behind the delivered one, Postern absorbs fewer wake-ups a second than the emulator delivers and
 * the backlog is the latency; a constant lag with equal columns would point elsewhere.
 */
function burstTimeline(samples: readonly Sample[], start: number): Record<string, string> {
  const counts = (times: readonly number[]): number[] => {
    const steps = Math.ceil((Math.max(...times) - start + 1) / TIMELINE_STEP_MS);
    const counted = new Array<number>(steps).fill(0);
    for (const time of times) {
      const step = Math.floor((time - start) / TIMELINE_STEP_MS);
      counted[step] = (counted[step] ?? 0) + 1;
    }
    return counted;
  };
  return {
    [`burstDeliveredPer${TIMELINE_STEP_MS}Ms`]: counts(samples.map((s) => s.sent.deliveredAt)).join(' '),
    [`burstVisiblePer${TIMELINE_STEP_MS}Ms`]: counts(samples.map((s) => s.visibleAt)).join(' '),
  };
}

function perAccount(before: MemorySnapshot, after: MemorySnapshot, accounts: number): Record<string, number> {
  const kb = (bytes: number): number => bytes / 1024 / accounts;
  return {
    posternRssMbBefore: before.rss / 1_048_576,
    posternRssMbWithIdle: after.rss / 1_048_576,
    rssKbPerAccount: kb(after.rss - before.rss),
    heapUsedKbPerAccount: kb(after.heapUsed - before.heapUsed),
    externalKbPerAccount: kb(after.external - before.external),
    arrayBuffersKbPerAccount: kb(after.arrayBuffers - before.arrayBuffers),
  };
}

async function main(): Promise<void> {
  const machine = describeMachine();
  process.stdout.write(
    `Machine: ${machine}\nload average before: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const world = await World.start({ mailboxes: ACCOUNTS, senders: SENDERS });
  const side = await openPostern(world.ready);
  try {
    const { runtime } = side;
    const created = now();
    await createQueueAccounts(side, world.ready, ACCOUNTS, { firstSync: { kind: 'all' } });
    process.stdout.write(
      `${ACCOUNTS} accounts created through the account service in ${Math.round(now() - created)} ms\n`,
    );
    // The composition root's web role, built for inject() rather than listening.
    const { web } = await runtime.startRoles(['web'], { web: { listen: false, version: 'bench' } });
    if (web === undefined) throw new Error('the web role did not start');
    const { app } = web;
    const admin = await runtime.services.users.create({
      username: 'bench-admin',
      role: 'admin',
      password: 'a long enough password',
    });
    const token = await runtime.services.tokens.create(admin.id, 'bench');
    const arrivals = new Arrivals(app, `Bearer ${token.token}`);

    const worldBefore = await world.stats();
    const before = await memorySnapshot();
    const started = now();
    await runtime.startRoles(['mailboxSync'], { mailboxSync: { onIngested: arrivals.onIngested } });
    const connectedMs = await waitFor(
      'every account connected',
      async () => (await countWhere(side, 'connected')) >= ACCOUNTS,
      SETUP_TIMEOUT_MS,
    );
    const syncedMs = await waitFor(
      'every Inbox synced',
      async () => (await countWhere(side, 'checkpoints')) >= ACCOUNTS,
      SETUP_TIMEOUT_MS,
    );
    await sleep(3000);
    const idle = await memorySnapshot();
    const worldIdle = await world.stats();
    const memory = {
      accounts: ACCOUNTS,
      allConnectedAfterMs: connectedMs,
      allSyncedAfterMs: connectedMs + syncedMs,
      workersStartMs: now() - started,
      emulatorImapConnections: worldIdle.imapConnections,
      ...perAccount(before, idle, ACCOUNTS),
      emulatorRssKbPerConnection: (worldIdle.rss - worldBefore.rss) / 1024 / ACCOUNTS,
    };
    printFigures(`${ACCOUNTS} accounts connected by IDLE: Postern's memory`, memory);

    // One at a time, spread over all mailboxes and senders.
    const serial: Sample[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      serial.push(await deliverOne(world, arrivals, i, 1 + (i % SENDERS), 1 + ((i * 7919) % ACCOUNTS)));
    }
    const serialFigures = latencyFigures('oneAtATime', serial);
    printFigures(
      `New mail, one message at a time (${SAMPLES}), delivery into the Inbox → visible in the API`,
      serialFigures,
    );

    // A steady stream: RATE messages a second, each sent on time whatever the others do.
    const steadyCount = Math.round((RATE * STEADY_MS) / 1000);
    const steadyStart = now();
    const steady = await Promise.all(
      Array.from({ length: steadyCount }, async (_, i) => {
        await sleep(Math.max(0, steadyStart + (i * 1000) / RATE - now()));
        return deliverOne(world, arrivals, 50_000 + i, 1 + (i % SENDERS), 1 + ((i * 6007 + 13) % ACCOUNTS));
      }),
    );
    const steadyFigures = latencyFigures('steady', steady);
    printFigures(`New mail at ${RATE} messages a second for ${STEADY_MS / 1000} s (${steadyCount})`, steadyFigures);

    // A burst: one message to each of BURST mailboxes at once. The CPU both processes spend on it
    // bounds how soon the last message can be visible: two cores cannot do it faster than half of it.
    const worldCpuBefore = (await world.stats()).cpuMs;
    const posternCpuBefore = process.cpuUsage();
    const burstStart = now();
    const burstStartUs = Number(process.hrtime.bigint() / 1000n);
    const burst = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        deliverOne(world, arrivals, 100_000 + i, 1 + (i % SENDERS), 1 + Math.floor((i * ACCOUNTS) / BURST)),
      ),
    );
    const posternCpu = process.cpuUsage(posternCpuBefore);
    // For a run under --cpu-prof: bench/profile-summary.ts --from --to takes the burst alone.
    process.stdout.write(
      `burst profile window: --from=${burstStartUs} --to=${Number(process.hrtime.bigint() / 1000n)}\n`,
    );
    const burstPosternCpuMs = (posternCpu.user + posternCpu.system) / 1000;
    const burstEmulatorCpuMs = (await world.stats()).cpuMs - worldCpuBefore;
    const burstFigures = {
      ...latencyFigures('burst', burst),
      burstAllVisibleMs: Math.max(...burst.map((s) => s.visibleAt)) - burstStart,
      burstPosternCpuMs,
      burstEmulatorCpuMs,
      burstPosternCpuMsPerMessage: burstPosternCpuMs / BURST,
      burstEmulatorCpuMsPerMessage: burstEmulatorCpuMs / BURST,
      burstCpuBoundMsOnTheseCores: (burstPosternCpuMs + burstEmulatorCpuMs) / os.availableParallelism(),
      ...burstTimeline(burst, burstStart),
    };
    printFigures(`Burst: one message to each of ${BURST} of the ${ACCOUNTS} mailboxes at once`, burstFigures);

    await sleep(HOLD_MS);
    const held = await memorySnapshot();
    const worldHeld = await world.stats();
    const hold = {
      holdMs: HOLD_MS,
      emulatorImapConnectionsAfterHold: worldHeld.imapConnections,
      connectedAccountsAfterHold: await countWhere(side, 'connected'),
      posternRssMbAfterHold: held.rss / 1_048_576,
      posternHeapMbAfterHold: held.heapUsed / 1_048_576,
    };
    printFigures('After the hold', hold);
    process.stdout.write(
      `load average after: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
    process.stdout.write(
      `\nJSON ${JSON.stringify({ machine, memory, serial: serialFigures, steady: steadyFigures, burst: burstFigures, hold })}\n`,
    );
  } finally {
    // The runtime's one shutdown: the mailbox workers, the web role, then the database.
    await side.close();
    await world.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
