/**
 * Benchmark of the outbox (`npm run bench:outbox`): 10,000 messages queued across 100 accounts,
 * dispatched in real time against the emulator — which keeps Exchange Online's limits (3
 * concurrent submissions, `432 4.3.2` beyond; 30 messages a minute carried over; 10,000
 * recipients a day) — by Postern's dispatcher with each account at its default limits.
 *
 * Reports: the time to queue, the time to dispatch everything, the proof from the emulator's log
 * that no account exceeded its limits (the most submissions of one account in any sliding minute,
 * and the per-minute histogram of all accounts together), retries and failures, and the
 * dispatcher's CPU per message. The emulator runs in its own process (`outbox-server.ts`), so the
 * CPU measured here is Postern's. Never run as a timed test; figures go to docs/PERFORMANCE.md.
 *
 * Environment: BENCH_ACCOUNTS (100), BENCH_PER_ACCOUNT (100), BENCH_DATABASE_URL (embedded SQLite).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRuntime } from '../src/cli/runtime.js';
import { BENCH_CLIENT_ID, BENCH_PASSWORD, BENCH_TENANT_ID, benchUser } from './emulator-protocol.js';
import type { OutboxBenchReply, OutboxBenchRequest } from './outbox-protocol.js';

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? '100');
const PER_ACCOUNT = Number(process.env.BENCH_PER_ACCOUNT ?? '100');
const TOTAL = ACCOUNTS * PER_ACCOUNT;
const MINUTE = 60_000;

class EmulatorProcess {
  private readonly waiting: Array<(reply: OutboxBenchReply) => void> = [];

  constructor(readonly child: ChildProcess) {
    child.on('message', (reply: OutboxBenchReply) => this.waiting.shift()?.(reply));
  }

  static async start(): Promise<{ emulator: EmulatorProcess; ready: Extract<OutboxBenchReply, { type: 'ready' }> }> {
    const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'outbox-server.js');
    const child = fork(entry, [], {
      env: { ...process.env, BENCH_ACCOUNTS: String(ACCOUNTS) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const emulator = new EmulatorProcess(child);
    const ready = await emulator.next();
    if (ready.type !== 'ready') throw new Error('the emulator did not start');
    return { emulator, ready };
  }

  next(): Promise<OutboxBenchReply> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async ask(request: OutboxBenchRequest): Promise<OutboxBenchReply> {
    const reply = this.next();
    this.child.send(request);
    return reply;
  }
}

async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) {
      const item = items[i];
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

async function main(): Promise<void> {
  const { emulator, ready } = await EmulatorProcess.start();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postern-bench-outbox-'));
  const runtime = await openRuntime({
    quiet: true,
    env: {
      POSTERN_DATA_DIR: dataDir,
      POSTERN_LOG_LEVEL: 'warn',
      POSTERN_LOG_CONSOLE: 'false',
      ...(process.env.BENCH_DATABASE_URL === undefined ? {} : { POSTERN_DATABASE_URL: process.env.BENCH_DATABASE_URL }),
    },
  });
  const { services, db } = runtime;
  try {
    const setupStarted = performance.now();
    const provider = await services.providers.create({
      name: 'Bench',
      applicationId: BENCH_CLIENT_ID,
      tenantId: BENCH_TENANT_ID,
      cloud: 'custom',
      authorityUrl: ready.base,
      caFile: ready.caFile,
      grantType: 'password',
      scopes: [
        'https://outlook.office.com/IMAP.AccessAsUser.All',
        'https://outlook.office.com/SMTP.Send',
        'offline_access',
      ],
    });
    const accountIds: number[] = [];
    await inParallel(
      Array.from({ length: ACCOUNTS }, (_, i) => i + 1),
      10,
      async (n) => {
        await services.signIn.signInWithPassword(provider.provider.id, benchUser(n), BENCH_PASSWORD);
        const view = await services.accounts.create({
          name: `Bench ${n}`,
          key: `B${n}`,
          emailAddress: benchUser(n),
          providerId: provider.provider.id,
          smtpHost: '127.0.0.1',
          smtpPort: ready.smtpPort,
        });
        accountIds.push(view.account.id);
      },
    );
    accountIds.sort((a, b) => a - b);
    const admin = await services.users.create({ username: 'bench', role: 'admin', password: 'a long enough password' });
    const { outbound } = services;
    const setupMs = performance.now() - setupStarted;

    const caller = { viewer: { userId: admin.id, role: 'admin' as const } };
    const queueStarted = performance.now();
    const queueCpu = process.cpuUsage();
    for (let i = 0; i < TOTAL; i += 1) {
      const accountId = accountIds[i % ACCOUNTS] ?? 0;
      await outbound.send.send(caller, accountId, {
        to: [`customer${i}@example.org`],
        subject: `Order ${i}: shipment update`,
        text: `Your order ${i} left the warehouse today.\n\nKind regards,\nSupport`,
      });
    }
    const queueMs = performance.now() - queueStarted;
    const queueCpuMs = cpuMs(process.cpuUsage(queueCpu));
    process.stdout.write(`queued ${TOTAL} messages on ${ACCOUNTS} accounts in ${(queueMs / 1000).toFixed(1)} s\n`);

    const before = await emulator.ask({ type: 'stats' });
    const dispatchCpu = process.cpuUsage();
    const started = Date.now();
    // The composition root's outbox role (the dispatcher `postern start` runs).
    await runtime.startRoles(['outboxDispatch']);
    let sentCount = 0;
    let lastReport = started;
    while (sentCount < TOTAL) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const row = await db.kysely
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('state', 'in', ['sent', 'failed'])
        .executeTakeFirstOrThrow();
      sentCount = Number(row.n);
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        process.stdout.write(`  ${sentCount} done after ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
      }
    }
    const dispatchMs = Date.now() - started;
    const cpu = cpuMs(process.cpuUsage(dispatchCpu));
    // Stopped again (a no-op) with everything else by runtime.close() below.
    await runtime.roles.outboxDispatch?.stop();
    const after = await emulator.ask({ type: 'stats' });
    const log = await emulator.ask({ type: 'sent' });
    if (log.type !== 'sent' || before.type !== 'stats' || after.type !== 'stats') throw new Error('unexpected reply');

    const events = async (type: string): Promise<number> =>
      Number(
        (
          await db.kysely
            .selectFrom('events')
            .select((eb) => eb.fn.countAll<number | string>().as('n'))
            .where('type', '=', type)
            .executeTakeFirstOrThrow()
        ).n,
      );
    report({
      setupMs,
      queueMs,
      queueCpuMs,
      dispatchMs,
      dispatchCpuMs: cpu,
      emulatorCpuMs: after.cpuMs - before.cpuMs,
      records: log.records,
      started,
      retries: await events('message.retry_scheduled'),
      failures: await events('message.failed'),
      rssMb: process.memoryUsage().rss / 1_048_576,
    });
  } finally {
    await runtime.close();
    emulator.child.send({ type: 'stop' } satisfies OutboxBenchRequest);
    await rm(dataDir, { recursive: true, force: true });
  }
}

interface Figures {
  setupMs: number;
  queueMs: number;
  queueCpuMs: number;
  dispatchMs: number;
  dispatchCpuMs: number;
  emulatorCpuMs: number;
  records: Array<[string, number, string]>;
  started: number;
  retries: number;
  failures: number;
  rssMb: number;
}

function report(f: Figures): void {
  const byMailbox = new Map<string, number[]>();
  for (const [mailbox, at] of f.records) byMailbox.set(mailbox, [...(byMailbox.get(mailbox) ?? []), at]);
  let worstSliding = 0;
  let worstFixed = 0;
  for (const times of byMailbox.values()) {
    times.sort((a, b) => a - b);
    let start = 0;
    for (let end = 0; end < times.length; end += 1) {
      while ((times[end] ?? 0) - (times[start] ?? 0) >= MINUTE) start += 1;
      worstSliding = Math.max(worstSliding, end - start + 1);
    }
    const perMinute = new Map<number, number>();
    for (const at of times)
      perMinute.set(
        Math.floor((at - f.started) / MINUTE),
        (perMinute.get(Math.floor((at - f.started) / MINUTE)) ?? 0) + 1,
      );
    worstFixed = Math.max(worstFixed, ...perMinute.values());
  }
  const histogram = new Map<number, number>();
  for (const [, at] of f.records)
    histogram.set(
      Math.floor((at - f.started) / MINUTE),
      (histogram.get(Math.floor((at - f.started) / MINUTE)) ?? 0) + 1,
    );
  const ids = new Map<string, number>();
  for (const [, , id] of f.records) ids.set(id, (ids.get(id) ?? 0) + 1);
  const accepted = f.records.map(([, at]) => at).sort((a, b) => a - b);
  const span = (accepted.at(-1) ?? 0) - (accepted[0] ?? 0);
  const lines = [
    `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 1_073_741_824)} GB, ${os.type()} ${os.release()}`,
    `accounts ${ACCOUNTS}, messages ${TOTAL} (${PER_ACCOUNT} per account), limits 30/min, 10,000 recipients/day, 3 at once`,
    `setup (sign-ins, accounts): ${(f.setupMs / 1000).toFixed(1)} s`,
    `queue: ${(f.queueMs / 1000).toFixed(1)} s (${(TOTAL / (f.queueMs / 1000)).toFixed(0)} msg/s, ${(f.queueCpuMs / TOTAL).toFixed(2)} ms CPU per message)`,
    `dispatch: ${(f.dispatchMs / 1000).toFixed(1)} s until all ${TOTAL} were recorded sent; first to last acceptance ${(span / 1000).toFixed(1)} s`,
    `accepted by the emulator: ${f.records.length}, distinct Message-IDs ${ids.size}, seen twice ${[...ids.values()].filter((n) => n > 1).length}`,
    `most submissions of one account in any sliding minute: ${worstSliding} (limit 30); in any clock minute since start: ${worstFixed}`,
    `retries scheduled: ${f.retries}, failed: ${f.failures}`,
    `dispatcher CPU: ${(f.dispatchCpuMs / 1000).toFixed(1)} s in total, ${(f.dispatchCpuMs / TOTAL).toFixed(2)} ms per message; emulator CPU ${(f.emulatorCpuMs / 1000).toFixed(1)} s`,
    `Postern RSS at the end: ${f.rssMb.toFixed(0)} MB`,
    'per-minute histogram (all accounts, minute since dispatch start: accepted):',
    ...[...histogram.entries()].sort((a, b) => a[0] - b[0]).map(([minute, count]) => `  ${minute}: ${count}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
