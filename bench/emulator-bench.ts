/**
 * Benchmark of the emulator's Exchange half (`npm run bench:emulator`), with the emulator in its
 * own process and imapflow — Postern's IMAP client — on the other side:
 *
 * 1. Full fetch: a 10,000-message mailbox fetched with UID, FLAGS, ENVELOPE, BODYSTRUCTURE,
 *    INTERNALDATE, RFC822.SIZE and the whole source, as Postern's ingest does (3 runs, median).
 * 2. IDLE: 1,000 mailboxes each held by one IDLE connection; the time to establish them, the
 *    emulator's memory per connection, whether all survive a hold, and the latency from a
 *    delivery in the emulator to the EXISTS event in the client (one by one, then all at once).
 *
 * Tokens come from the emulator's token endpoint (password grant), as in the integration tests.
 * Environment: BENCH_MESSAGES (10000), BENCH_USERS (1000), BENCH_HOLD_MS (10000).
 * Figures are recorded in docs/PERFORMANCE.md; this is never run as a timed test.
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { z } from 'zod';
import { createCaFetch } from '../emulator/tls/ca-fetch.js';
import {
  BENCH_CLIENT_ID,
  BENCH_PASSWORD,
  BENCH_SCOPES,
  benchUser,
  type BenchReply,
  type BenchRequest,
} from './emulator-protocol.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? '10000');
const USERS = Number(process.env.BENCH_USERS ?? '1000');
const HOLD_MS = Number(process.env.BENCH_HOLD_MS ?? '10000');
const now = (): number => performance.timeOrigin + performance.now();

type Ready = Extract<BenchReply, { type: 'ready' }>;

class ServerProcess {
  private readonly waiting: Array<(reply: BenchReply) => void> = [];
  readonly deliveries = new Map<string, number>();

  constructor(readonly child: ChildProcess) {
    child.on('message', (reply: BenchReply) => {
      if (reply.type === 'delivered') {
        this.deliveries.set(reply.mailbox, reply.sentAt);
        return;
      }
      this.waiting.shift()?.(reply);
    });
  }

  static async start(): Promise<{ server: ServerProcess; ready: Ready }> {
    const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'emulator-server.js');
    const child = fork(entry, [], {
      env: { ...process.env, BENCH_USERS: String(USERS) },
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const server = new ServerProcess(child);
    const ready = await server.next();
    if (ready.type !== 'ready') throw new Error('the emulator did not start');
    return { server, ready };
  }

  next(): Promise<BenchReply> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async ask(request: BenchRequest): Promise<BenchReply> {
    const reply = this.next();
    this.child.send(request);
    return reply;
  }

  send(request: BenchRequest): void {
    this.child.send(request);
  }

  async stats(): Promise<Extract<BenchReply, { type: 'stats' }>> {
    const reply = await this.ask({ type: 'stats' });
    if (reply.type !== 'stats') throw new Error('unexpected reply');
    return reply;
  }
}

async function tokens(ready: Ready, count: number): Promise<string[]> {
  const fetchWithCa = createCaFetch(ready.caPem);
  const out: string[] = new Array<string>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const response = await fetchWithCa(ready.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: BENCH_CLIENT_ID,
          username: benchUser(i + 1),
          password: BENCH_PASSWORD,
          scope: BENCH_SCOPES,
        }).toString(),
      });
      const body: unknown = await response.json();
      const parsed = z.object({ access_token: z.string() }).safeParse(body);
      if (!parsed.success) throw new Error(`no token for ${benchUser(i + 1)}: ${JSON.stringify(body)}`);
      out[i] = parsed.data.access_token;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return out;
}

function client(ready: Ready, user: string, accessToken: string): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: ready.imapPort,
    secure: true,
    tls: { ca: ready.caPem, servername: 'localhost' },
    auth: { user, accessToken },
    logger: false,
    disableAutoIdle: true,
  });
}

async function fetchBench(server: ServerProcess, ready: Ready, token: string): Promise<Record<string, number>> {
  const user = benchUser(1);
  const fill = now();
  await server.ask({ type: 'populate', mailbox: user, count: MESSAGES });
  const fillMs = now() - fill;
  const runs: Array<{ totalMs: number; firstMs: number; bytes: number; count: number; serverCpuMs: number }> = [];
  for (let run = 0; run < 3; run += 1) {
    const flow = client(ready, user, token);
    await flow.connect();
    await flow.mailboxOpen('INBOX');
    const cpuBefore = (await server.stats()).cpuMs;
    const started = now();
    let first = 0;
    let bytes = 0;
    let count = 0;
    for await (const message of flow.fetch(
      '1:*',
      { uid: true, flags: true, envelope: true, bodyStructure: true, internalDate: true, size: true, source: true },
      { uid: true },
    )) {
      if (count === 0) first = now() - started;
      count += 1;
      bytes += message.source?.length ?? 0;
    }
    const totalMs = now() - started;
    runs.push({ totalMs, firstMs: first, bytes, count, serverCpuMs: (await server.stats()).cpuMs - cpuBefore });
    await flow.logout();
  }
  const firstRunServerCpuMs = runs[0]?.serverCpuMs ?? 0;
  runs.sort((a, b) => a.totalMs - b.totalMs);
  const [best, median, worst] = runs;
  if (!best || !median || !worst) throw new Error('fetch runs missing');
  const stats = await server.stats();
  return {
    messages: median.count,
    fillMs,
    fetchMsMedian: median.totalMs,
    fetchMsBest: best.totalMs,
    fetchMsWorst: worst.totalMs,
    firstMessageMs: median.firstMs,
    emulatorCpuMsMedianRun: median.serverCpuMs,
    emulatorCpuMsFirstRun: firstRunServerCpuMs,
    messagesPerSecond: median.count / (median.totalMs / 1000),
    megabytesPerSecond: median.bytes / 1_048_576 / (median.totalMs / 1000),
    sourceMegabytes: median.bytes / 1_048_576,
    emulatorRssMbAfterFill: stats.rss / 1_048_576,
  };
}

async function idleBench(server: ServerProcess, ready: Ready, allTokens: string[]): Promise<Record<string, number>> {
  const before = await server.stats();
  const clients: ImapFlow[] = [];
  const arrivals = new Map<string, number>();
  let closed = 0;
  const started = now();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < USERS; i = next++) {
      const user = benchUser(i + 1);
      const flow = client(ready, user, allTokens[i] ?? '');
      flow.on('exists', () => arrivals.set(user, now()));
      flow.on('close', () => (closed += 1));
      flow.on('error', () => undefined);
      await flow.connect();
      await flow.mailboxOpen('INBOX');
      void flow.idle().catch(() => undefined);
      clients.push(flow);
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  const establishMs = now() - started;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await server.stats();
  const establishCpuMs = after.cpuMs - before.cpuMs;

  // One delivery at a time: latency from the emulator's delivery to imapflow's EXISTS event.
  const latencies: number[] = [];
  for (let i = 0; i < 300; i += 1) {
    const user = benchUser(1 + ((i * 7919) % USERS));
    arrivals.delete(user);
    server.send({ type: 'deliver', mailbox: user, sequence: 100_000 + i });
    const deadline = now() + 5000;
    while (!arrivals.has(user) || !server.deliveries.has(user)) {
      if (now() > deadline) throw new Error(`no EXISTS for ${user}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    latencies.push((arrivals.get(user) ?? 0) - (server.deliveries.get(user) ?? 0));
    server.deliveries.delete(user);
  }

  // Everyone at once.
  arrivals.clear();
  server.deliveries.clear();
  const burstStart = now();
  for (let i = 0; i < USERS; i += 1) server.send({ type: 'deliver', mailbox: benchUser(i + 1), sequence: 200_000 + i });
  while (arrivals.size < USERS) {
    if (now() - burstStart > 30_000) throw new Error(`only ${arrivals.size} of ${USERS} EXISTS arrived`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const burstMs = Math.max(...arrivals.values()) - burstStart;

  const holdStart = await server.stats();
  await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
  const held = await server.stats();
  const closedDuringHold = closed;
  for (const flow of clients) flow.close();
  latencies.sort((a, b) => a - b);
  const pick = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    connections: clients.length,
    establishMs,
    emulatorCpuMsToEstablish: establishCpuMs,
    emulatorRssMbBefore: before.rss / 1_048_576,
    emulatorRssMbWithIdle: after.rss / 1_048_576,
    emulatorKbPerConnection: (after.rss - before.rss) / 1024 / clients.length,
    emulatorHeapKbPerConnection: (after.heapUsed - before.heapUsed) / 1024 / clients.length,
    existsLatencyMsP50: pick(0.5),
    existsLatencyMsP99: pick(0.99),
    existsLatencyMsMax: latencies.at(-1) ?? 0,
    burstAllExistsMs: burstMs,
    connectionsAfterHold: held.imapConnections,
    emulatorCpuMsDuringHold: held.cpuMs - holdStart.cpuMs,
    emulatorRssMbAfterHold: held.rss / 1_048_576,
    clientsClosedDuringHold: closedDuringHold,
    holdMs: HOLD_MS,
  };
}

async function main(): Promise<void> {
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 1_073_741_824)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
  process.stdout.write(`Machine: ${machine}\n`);
  const boot = now();
  const { server, ready } = await ServerProcess.start();
  process.stdout.write(`emulator started with ${USERS} users in ${Math.round(now() - boot)} ms\n`);
  const tokenStart = now();
  const allTokens = await tokens(ready, USERS);
  process.stdout.write(`${USERS} tokens (password grant over HTTPS) in ${Math.round(now() - tokenStart)} ms\n`);
  try {
    const fetch = await fetchBench(server, ready, allTokens[0] ?? '');
    process.stdout.write(`\nFull fetch of ${MESSAGES} messages\n${format(fetch)}\n`);
    const idle = await idleBench(server, ready, allTokens);
    process.stdout.write(`\n${USERS} IDLE connections\n${format(idle)}\n`);
    process.stdout.write(`\nJSON ${JSON.stringify({ machine, fetch, idle })}\n`);
  } finally {
    server.send({ type: 'stop' });
  }
}

function format(values: Record<string, number>): string {
  return Object.entries(values)
    .map(([key, value]) => `  ${key.padEnd(28)} ${Number.isInteger(value) ? value : value.toFixed(1)}`)
    .join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
