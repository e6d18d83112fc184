/**
 * Hostile-mail benchmark (`npm run bench:hostile`), issue 13's acceptance figures: each mail of
 * `helpers/hostile-corpus.ts` (a 1 MB subject, From name, Message-ID, References header,
 * attachment file name, Content-Type parameter, and a 5 MB HTML body of 100,000 nested elements)
 * is put into a mailbox of the emulator and ingested by Postern run as an operator runs it —
 * `postern start` from dist/, its own process, SQLite in a fresh data directory — while another
 * process asks `/health` every 10 ms (`helpers/health-poller.ts`). Then the reply to the
 * conversation is queued through the API, BENCH_REPLIES times, each timed from this process.
 * Targets: `/health` never slower than 100 ms during an ingest; each reply answered in under 200 ms.
 *
 * Before the hostile mails, the same polling runs over an idle server and over an ordinary mail,
 * for comparison. Environment: BENCH_REPLIES (3). Figures are recorded in docs/PERFORMANCE.md;
 * this is never run as a timed test.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { startEmulator } from '../emulator/main.js';
import { describeMachine, median, now, printFigures, quantile, sleep } from './helpers/figures.js';
import { appendToInbox, passwordAccountBody } from './helpers/password-account.js';
import { pollHealth } from './helpers/health-poller.js';
import { hostileCorpus, hostileMessage, type HostileMail } from './helpers/hostile-corpus.js';

const REPLIES = Number(process.env.BENCH_REPLIES ?? '3');
const POLL_MS = 10;
/** marco@contoso.com of the emulator's sample tenant (emulator/seeds/contoso.json). */
const USER = { upn: 'marco@contoso.com', password: 'Marco#2025' };
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

const itemsReply = z.object({ items: z.array(z.object({ id: z.number() })) });

async function main(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: the script runs "npm run build" first.`);
  const emulatorDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-bench-emulator-'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-bench-hostile-'));
  const emulator = await startEmulator({ dataDir: emulatorDir });
  const env = {
    PATH: process.env.PATH ?? '',
    POSTERN_DATA_DIR: dataDir,
    POSTERN_LOG_CONSOLE: 'false',
    NODE_EXTRA_CA_CERTS: emulator.caFile,
  };
  const server = spawn(process.execPath, [CLI, 'start', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await (await emulator.control('PUT', '/exchange/settings/basic-auth', { imap: true, smtp: true })).text();
    cli(['users', 'add', 'ops', '--role', 'admin', '--password-stdin'], env, 'ops-password-123456\n');
    const token = /Token \(shown once\): (pst_\S+)/.exec(cli(['tokens', 'create', 'bench', '--user', 'ops'], env))?.[1];
    if (token === undefined) throw new Error('no API token was printed');
    const base = await listeningUrl(server);
    const api = apiClient(base, `Bearer ${token}`);
    const created = await api(
      'POST',
      '/api/email/accounts',
      passwordAccountBody(emulator.urls, USER, { name: 'Marco', key: 'MAR' }),
    );
    const accountId = z.object({ id: z.number() }).parse(created).id;
    await waitFor('the account to connect', async () => {
      const account = z.object({ status: z.string() }).parse(await api('GET', `/api/email/accounts/${accountId}`));
      return account.status === 'connected' ? true : undefined;
    });
    const conversations = async (): Promise<Set<number>> => {
      const reply = itemsReply.parse(await api('GET', `/api/email/accounts/${accountId}/interactions?limit=200`));
      return new Set(reply.items.map((item) => item.id));
    };

    process.stdout.write(`\nHostile-mail benchmark — ${describeMachine()}\n`);
    const idle = await pollHealth(base, POLL_MS);
    await sleep(3_000);
    printHealth('idle server, 3 s', await idle.stop());

    const ordinary: HostileMail = [
      'an ordinary mail (for comparison)',
      (to) => hostileMessage(to, { Subject: 'Order 1234' }, 'Where is my order?'),
    ];
    for (const [name, build] of [ordinary, ...hostileCorpus()]) {
      const raw = build(USER.upn);
      const before = await conversations();
      const poller = await pollHealth(base, POLL_MS);
      const started = now();
      await appendToInbox(emulator, USER, raw);
      const id = await waitFor(name, async () => [...(await conversations())].find((known) => !before.has(known)));
      const ingestMs = now() - started;
      const times = await poller.stop();
      const replies: number[] = [];
      for (let i = 0; i < REPLIES; i += 1) {
        const replyStarted = now();
        await api('POST', `/api/interactions/${id}/reply`, { text: `We are looking into it (${i + 1}).` });
        replies.push(now() - replyStarted);
      }
      printHealth(`${name} (${(raw.length / 1_048_576).toFixed(2)} MB)`, times, { ingestMs, replies });
    }
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    await emulator.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(emulatorDir, { recursive: true, force: true });
  }
}

function printHealth(
  title: string,
  times: readonly number[],
  extra?: { readonly ingestMs: number; readonly replies: readonly number[] },
): void {
  printFigures(title, {
    '/health answers': times.length,
    '/health median (ms)': median(times),
    '/health p99 (ms)': quantile(times, 0.99),
    '/health slowest (ms) — target ≤ 100': Math.max(0, ...times),
    ...(extra === undefined
      ? {}
      : {
          'appended → conversation listed (ms)': extra.ingestMs,
          'reply queued, each (ms) — target < 200': extra.replies.map((ms) => ms.toFixed(1)).join(', '),
        }),
  });
}

/** Runs one CLI command to completion; returns its standard output. */
function cli(args: string[], env: Record<string, string>, input?: string): string {
  const result = spawnSync(process.execPath, [CLI, ...args], { env, input, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`postern ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Resolves with the address `postern start` prints once it listens. */
function listeningUrl(server: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    server.once('exit', (code) => reject(new Error(`postern start exited with ${code ?? 'a signal'}: ${out}`)));
  });
}

/** A JSON API client with a bearer token; throws on any non-2xx answer. */
function apiClient(base: string, authorization: string) {
  return async (method: string, route: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${base}${route}`, {
      method,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route} → ${response.status} ${text}`);
    return text === '' ? undefined : JSON.parse(text);
  };
}

/** Polls `probe` every 20 ms until it returns a value; fails after two minutes. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
