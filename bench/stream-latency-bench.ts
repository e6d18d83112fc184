/**
 * Live stream benchmark (`npm run bench:stream`), issue 18 point 1's target: a message stored →
 * visible in an open browser, p99 under 1 s. One Postern (`startServer`, as `postern start`: every
 * role, SQLite) reads one mailbox of the emulator over IMAP IDLE; Chromium (Debian's, through
 * playwright-core) has the inbox open as an administrator. BENCH_MESSAGES (100) customer mails are
 * delivered through the emulator's control API one at a time, BENCH_SPACING_MS (250) apart once the
 * previous one showed, each a new conversation.
 *
 * Three instants per message, on one clock (the browser's `performance.timeOrigin + now()` and
 * Node's are both the epoch in ms): the emulator accepted the delivery (the control call answered);
 * Postern stored it (its change feed's `message` note, published right after the commit —
 * subscribed here, in the same process); the browser showed it (a MutationObserver on the
 * conversation list sees the new row; the instant is taken at the next animation frame, when it
 * is painted). Stored → visible is the stream, the list's reload and the render; delivered →
 * visible adds IDLE, fetch, parse and store.
 *
 * Figures are recorded in docs/PERFORMANCE.md; this is never run as a timed test.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startEmulator } from '../emulator/main.js';
import { startServer } from '../src/cli/commands/start.js';
import { launchChromium } from '../test/e2e/helpers/browser.js';
import { describeMachine, now, printFigures, quantile, sleep } from './helpers/figures.js';
import { passwordAccountBody } from './helpers/password-account.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? '100');
const SPACING_MS = Number(process.env.BENCH_SPACING_MS ?? '250');
const USER = { upn: 'andrea@contoso.com', password: 'Andrea#2025' };
const WAIT_MS = 15_000;

/** Runs in the page: reports each new conversation row's subject with the instant it was painted. */
const OBSERVER = `(() => {
  const seen = new Set();
  const report = () => {
    for (const element of document.querySelectorAll('.conversation-subject')) {
      const subject = element.textContent || '';
      if (!subject.startsWith('Bench ') || seen.has(subject)) continue;
      seen.add(subject);
      requestAnimationFrame(() => window.benchSeen(subject, performance.timeOrigin + performance.now()));
    }
  };
  new MutationObserver(report).observe(document.body, { childList: true, subtree: true, characterData: true });
  report();
})()`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        address !== null && typeof address === 'object' ? resolve(address.port) : reject(new Error('no free port')),
      );
    });
  });
}

/** Resolves with the first value `probe` gives, or rejects after `ms`. */
async function within<T>(what: string, ms: number, probe: () => T | undefined): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

function summary(values: readonly number[]): Record<string, number> {
  return {
    p50: quantile(values, 0.5),
    p95: quantile(values, 0.95),
    p99: quantile(values, 0.99),
    max: quantile(values, 1),
  };
}

async function main(): Promise<void> {
  const emulatorDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-bench-stream-emulator-'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-bench-stream-'));
  const emulator = await startEmulator({ dataDir: emulatorDir });
  const control = async (method: string, route: string, body?: unknown): Promise<void> => {
    const response = await emulator.control(method, route, body);
    const text = await response.text();
    if (!response.ok) throw new Error(`control ${method} ${route} → ${response.status} ${text}`);
  };
  await control('PUT', '/exchange/settings/basic-auth', { imap: true, smtp: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let password = '';
  const server = await startServer({
    cwd: dataDir,
    env: {
      POSTERN_DATA_DIR: dataDir,
      POSTERN_HOST: '127.0.0.1',
      POSTERN_PORT: String(port),
      POSTERN_PUBLIC_URL: url,
      POSTERN_LOG_CONSOLE: 'false',
      POSTERN_LOG_LEVEL: 'warn',
    },
    print: (line) => {
      const marker = 'with the password: ';
      const at = line.indexOf(marker);
      if (at >= 0) password = line.slice(at + marker.length).trim();
    },
  });
  const browser = await launchChromium([]);
  try {
    const { services } = server.runtime;
    const ops = await services.users.create({ username: 'bench', role: 'admin', password: 'bench password 1' });
    const token = (await services.tokens.create(ops.id, 'bench')).token;
    const created = await fetch(`${url}/api/email/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        ...passwordAccountBody(emulator.urls, USER, { name: 'Support', key: 'SUP' }),
        tlsCaPem: emulator.caPem,
      }),
    });
    if (created.status !== 201) throw new Error(`account not created: ${await created.text()}`);
    const accountId = ((await created.json()) as { id: number }).id;

    // Postern's own instant of each message: the change feed's note, published after the commit.
    const storedAt = new Map<number, number>();
    services.changes.subscribe((change) => {
      if (change.kind === 'message' && change.accountId === accountId) storedAt.set(change.id, now());
    });
    const seenAt = new Map<string, number>();
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.exposeFunction('benchSeen', (subject: string, at: number) => seenAt.set(subject, at));
    await page.goto(`${url}/ui/sign-in`);
    await page.getByRole('textbox', { name: 'Username' }).fill('admin');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.goto(`${url}/ui/inbox/${accountId}`);
    await page.getByText('No open conversation.').waitFor({ timeout: 30_000 });
    await page.evaluate(OBSERVER);
    await sleep(1000);

    const storedToVisible: number[] = [];
    const deliveredToVisible: number[] = [];
    const deliveredToStored: number[] = [];
    for (let index = 1; index <= MESSAGES; index += 1) {
      const subject = `Bench ${index}`;
      const known = new Set(storedAt.keys());
      await control('POST', '/exchange/messages', {
        from: 'Dario Customer <dario@customer.example>',
        to: USER.upn,
        subject,
        text: `Message ${index} of the stream benchmark.`,
        messageId: `<bench-stream-${index}@customer.example>`,
      });
      const delivered = now();
      const visible = await within(`"${subject}" in the browser`, WAIT_MS, () => seenAt.get(subject));
      const rowId = await within(`"${subject}" stored`, WAIT_MS, () =>
        [...storedAt.keys()].find((id) => !known.has(id)),
      );
      const stored = storedAt.get(rowId) ?? visible;
      storedToVisible.push(visible - stored);
      deliveredToVisible.push(visible - delivered);
      deliveredToStored.push(stored - delivered);
      await sleep(SPACING_MS);
    }

    process.stdout.write(`\nLive stream latency — ${describeMachine()}\n`);
    printFigures(`${MESSAGES} messages, ${SPACING_MS} ms apart, one browser (ms)`, {
      ...Object.fromEntries(Object.entries(summary(storedToVisible)).map(([k, v]) => [`stored → visible ${k}`, v])),
      ...Object.fromEntries(
        Object.entries(summary(deliveredToVisible)).map(([k, v]) => [`delivered → visible ${k}`, v]),
      ),
      ...Object.fromEntries(Object.entries(summary(deliveredToStored)).map(([k, v]) => [`delivered → stored ${k}`, v])),
    });
    await context.close();
  } finally {
    await browser.close();
    await server.stop();
    await emulator.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(emulatorDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
