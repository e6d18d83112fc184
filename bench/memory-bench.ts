/**
 * Memory benchmark (`npm run bench:memory`), issue 16 point 6: the peak memory of a Postern
 * process — the built `postern start --roles worker`, as an operator runs it, with the heap limit
 * it sets itself (src/cli/heap-limit.ts) — in five scenarios, each on a fresh data directory
 * (embedded SQLite) against the Microsoft 365 emulator in its own process (`helpers/world.ts`):
 *
 * 1. **large, default limit**: one 150 MB message (a base64 attachment of random bytes) in the
 *    Inbox, the account's maximum message size at its default (35 MB): only the header is fetched;
 * 2. **at the default limit**: one message just under the default maximum size (35 MiB), which is
 *    fetched, stored and parsed whole — the largest an account takes in by default;
 * 3. **large, 150 MB limit**: the 150 MB message with the account's limit at the most the product
 *    allows (150 MiB), so the whole message is fetched, stored and parsed;
 * 4. **1,000 accounts**: 1,000 Email Accounts on empty mailboxes, all started at once by the
 *    process, until the emulator counts 1,000 IMAP sessions (each synced and in IDLE);
 * 5. **first sync**: one mailbox of 100,000 small messages (~600 bytes each), read from the
 *    beginning until all are stored.
 *
 * The accounts are created beforehand through Postern's services (`helpers/postern-side.ts`),
 * then the runtime is closed and `postern start` opens the data directory. The server process's
 * RSS is read from `/proc/<pid>/status` every 250 ms, with the kernel's own peak (`VmHWM`); its
 * heap from its Prometheus listener (`nodejs_heap_size_used_bytes`, every second: the peak heap
 * is the highest scraped, a lower bound). The keeper process (the first `postern start`, which
 * keeps the server started again with its heap limit) is reported apart.
 *
 * Environment: BENCH_SCENARIOS (large-default,at-default-limit,large-max,accounts,first-sync), BENCH_ACCOUNTS
 * (1000), BENCH_SMALL_MESSAGES (100000), BENCH_LARGE_BYTES (150000000), BENCH_MAX_HEAP_MB (unset:
 * Postern's auto default). Figures are recorded in docs/PERFORMANCE.md, "Memory bounds"; this is
 * never run as a timed test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { z } from 'zod';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../src/domain/email-account-fields.js';
import { serverProcessId } from '../test/helpers/cli.js';
import { CLI, metricOf } from './helpers/cluster-node.js';
import { describeMachine, printFigures, sleep } from './helpers/figures.js';
import { findFreePort } from '../test/helpers/embedded-postgres.js';
import { createQueueAccounts, openPostern } from './helpers/postern-side.js';
import { World } from './helpers/world.js';
import { queueMailbox } from './helpers/world-protocol.js';

const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'large-default,at-default-limit,large-max,accounts,first-sync').split(
  ',',
);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? '1000');
const SMALL_MESSAGES = Number(process.env.BENCH_SMALL_MESSAGES ?? '100000');
const LARGE_BYTES = Number(process.env.BENCH_LARGE_BYTES ?? '150000000');
const MAX_HEAP_MB = process.env.BENCH_MAX_HEAP_MB;
/** The most the product allows for an account's maximum message size (domain/email-account-fields.ts). */
const PRODUCT_MAX_MESSAGE_BYTES = 150 * 1024 * 1024;
const MB = 1024 * 1024;
const SCENARIO_TIMEOUT_MS = 30 * 60_000;
const countRow = z.object({ n: z.number() });

/** What one scenario measured. */
interface Measured {
  readonly seconds: number;
  readonly peakRss: number;
  readonly peakHeapUsed: number;
  readonly peakExternal: number;
  readonly heapLimit: number;
  readonly finalRss: number;
  readonly keeperRss: number;
}

/** `VmRSS` and `VmHWM` of a process, in bytes. */
function processMemory(pid: number): { rss: number; peak: number } | undefined {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): number => {
    const line = status.split('\n').find((text) => text.startsWith(`${name}:`));
    return (
      Number(
        line
          ?.slice(name.length + 1)
          .trim()
          .split(' ')[0] ?? 0,
      ) * 1024
    );
  };
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** The built `postern start --roles worker` on `dataDir`, watched until `done` says so. */
async function runServer(
  dataDir: string,
  caFile: string,
  done: () => Promise<boolean>,
  label: string,
): Promise<Measured> {
  const metricsPort = await findFreePort();
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [CLI, 'start', '--roles', 'worker'], {
    cwd: dataDir,
    env: {
      PATH: process.env.PATH ?? '',
      POSTERN_DATA_DIR: dataDir,
      POSTERN_LOG_CONSOLE: 'false',
      POSTERN_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
      NODE_EXTRA_CA_CERTS: caFile,
      ...(MAX_HEAP_MB === undefined ? {} : { POSTERN_MAX_HEAP_MB: MAX_HEAP_MB }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const keeperPid = child.pid ?? 0;
  let peakRss = 0;
  let peakHeapUsed = 0;
  let peakExternal = 0;
  let heapLimit = 0;
  let keeperRss = 0;
  let serverPid = keeperPid;
  const sampler = setInterval(() => {
    serverPid = serverProcessId(keeperPid);
    const memory = processMemory(serverPid);
    if (memory !== undefined) peakRss = Math.max(peakRss, memory.peak, memory.rss);
    if (serverPid !== keeperPid) keeperRss = Math.max(keeperRss, processMemory(keeperPid)?.rss ?? 0);
  }, 250);
  const scraper = setInterval(() => {
    fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5_000) })
      .then((response) => response.text())
      .then((text) => {
        peakHeapUsed = Math.max(peakHeapUsed, metricOf(text, 'nodejs_heap_size_used_bytes'));
        peakExternal = Math.max(peakExternal, metricOf(text, 'nodejs_external_memory_bytes'));
        heapLimit = metricOf(text, 'postern_heap_limit_bytes');
      })
      .catch(() => undefined);
  }, 1_000);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${label}: postern start exited with ${child.exitCode}:\n${output}`);
      if (performance.now() - started > SCENARIO_TIMEOUT_MS) throw new Error(`${label}: not done in time`);
      if (output.includes('Heap limit:') && (await done())) break;
      await sleep(500);
    }
    const seconds = (performance.now() - started) / 1000;
    // A last reading after the work: what stays.
    await sleep(2_000);
    const last = processMemory(serverPid);
    return {
      seconds,
      peakRss: Math.max(peakRss, last?.peak ?? 0),
      peakHeapUsed,
      peakExternal,
      heapLimit,
      finalRss: last?.rss ?? 0,
      keeperRss,
    };
  } finally {
    clearInterval(sampler);
    clearInterval(scraper);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

/** Messages stored for the account, read from the database beside the running server. */
function storedMessages(dataDir: string): number {
  const db = new Sqlite(path.join(dataDir, 'postern.db'), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return countRow.parse(db.prepare('select count(*) as n from messages').get()).n;
  } finally {
    db.close();
  }
}

/** A world of `mailboxes`, a data directory with their accounts, a run of the server on them. */
async function scenario(
  label: string,
  spec: {
    readonly mailboxes: number;
    readonly populate?: { readonly corpus: 'small' | 'large'; readonly count: number; readonly bytes?: number };
    readonly maxMessageBytes?: number;
    readonly done: (world: World, dataDir: string) => Promise<boolean>;
  },
): Promise<void> {
  const world = await World.start({ mailboxes: spec.mailboxes, senders: 0 });
  try {
    if (spec.populate !== undefined) {
      const populated = await world.ask({
        type: 'populate',
        mailbox: queueMailbox(1),
        corpus: spec.populate.corpus,
        count: spec.populate.count,
        bytes: spec.populate.bytes ?? LARGE_BYTES,
      });
      if (populated.type !== 'populated') throw new Error('the world did not populate');
      process.stdout.write(`${label}: ${populated.count} messages, ${(populated.bytes / MB).toFixed(1)} MiB in all\n`);
    }
    const side = await openPostern(world.ready);
    try {
      const accounts = await createQueueAccounts(side, world.ready, spec.mailboxes);
      if (spec.maxMessageBytes !== undefined)
        for (const account of accounts)
          await side.runtime.services.accounts.update(account.id, { maxMessageBytes: spec.maxMessageBytes });
    } finally {
      await side.runtime.close();
    }
    try {
      const measured = await runServer(side.dataDir, world.ready.caFile, () => spec.done(world, side.dataDir), label);
      printFigures(`${label} (load average ${os.loadavg()[0]?.toFixed(2) ?? '?'})`, {
        'time to done, s': measured.seconds,
        'server peak RSS, MiB': measured.peakRss / MB,
        'server peak heap used (scraped), MiB': measured.peakHeapUsed / MB,
        'server peak external (scraped), MiB': measured.peakExternal / MB,
        'server RSS 2 s after, MiB': measured.finalRss / MB,
        'heap_size_limit, MiB': measured.heapLimit / MB,
        'keeper RSS, MiB': measured.keeperRss / MB,
      });
    } finally {
      fs.rmSync(side.dataDir, { recursive: true, force: true });
    }
  } finally {
    await world.stop();
  }
}

async function main(): Promise<void> {
  process.stdout.write(`Memory benchmark on ${describeMachine()}; load average ${os.loadavg().join(', ')}\n`);
  for (const name of SCENARIOS) {
    switch (name) {
      case 'large-default':
        await scenario('one 150 MB message, default maximum size (headers only)', {
          mailboxes: 1,
          populate: { corpus: 'large', count: 1 },
          done: async (_world, dataDir) => storedMessages(dataDir) >= 1,
        });
        break;
      case 'at-default-limit':
        await scenario('one message just under the default maximum size (35 MiB, whole message)', {
          mailboxes: 1,
          populate: { corpus: 'large', count: 1, bytes: DEFAULT_MAX_MESSAGE_BYTES - 64 * 1024 },
          done: async (_world, dataDir) => storedMessages(dataDir) >= 1,
        });
        break;
      case 'large-max':
        await scenario('one 150 MB message, maximum size 150 MiB (whole message)', {
          mailboxes: 1,
          populate: { corpus: 'large', count: 1 },
          maxMessageBytes: PRODUCT_MAX_MESSAGE_BYTES,
          done: async (_world, dataDir) => storedMessages(dataDir) >= 1,
        });
        break;
      case 'accounts':
        await scenario(`${ACCOUNTS} accounts connecting at once`, {
          mailboxes: ACCOUNTS,
          done: async (world) => (await world.stats()).imapConnections >= ACCOUNTS,
        });
        break;
      case 'first-sync':
        await scenario(`first sync of ${SMALL_MESSAGES} small messages`, {
          mailboxes: 1,
          populate: { corpus: 'small', count: SMALL_MESSAGES },
          done: async (_world, dataDir) => storedMessages(dataDir) >= SMALL_MESSAGES,
        });
        break;
      default:
        throw new Error(`unknown scenario ${name}`);
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
