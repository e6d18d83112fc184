/**
 * Ingest benchmark against Dovecot (`npm run bench:interop-ingest`), issue 15 point 5: the
 * 2,000-message mailbox of `bench:ingest` (`ingest-corpus.ts`) on a server nobody here wrote, read
 * two ways in the same run, as `ingest-bench.ts` reads it from the emulator:
 *
 * - **bare**: one imapflow session signed in with the password over IMAPS, `UID FETCH 1:*
 *   (UID BODY.PEEK[] INTERNALDATE RFC822.SIZE)`, each message parsed with mailparser's
 *   `simpleParser` (`helpers/bare-reader.ts`); nothing stored;
 * - **full**: Postern on its embedded default (SQLite in a fresh data directory each read), an
 *   account of service `imap` with the password and the private CA stored on it (as the API
 *   creates it), and `MailboxSync.syncOnce()` with the account's defaults (`helpers/first-sync.ts`):
 *   every message stored, the checkpoint at the highest UID, each group marked `\Seen` after its
 *   commit.
 *
 * The throwaway Dovecot is the interop suite's (`test/interop/helpers/dovecot.ts`: loopback,
 * implicit TLS with a certificate from a private CA generated for this run, sdbox without fsync),
 * here with passwords only; the corpus goes in with pipelined MULTIAPPEND
 * (`test/interop/helpers/bulk-append.ts`). Dovecot, Postern and the bare reader share the machine.
 * One unmeasured warm-up of each, then BENCH_ROUNDS rounds alternating which goes first; medians
 * and the ratio full / bare are printed. Environment: BENCH_MESSAGES (2000), BENCH_ROUNDS (3; 1
 * on a machine too busy for three). Dovecot, its directory and every data directory are removed
 * on exit, on an error and on SIGINT or SIGTERM. Dovecot missing: `node scripts/ensure-interop.mjs
 * --dovecot` (run by the npm script first) installs it as root or says what to install.
 * Figures are recorded in docs/PERFORMANCE.md; this is never run as a timed test.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { emailAccountBody } from '../src/domain/email-account-fields.js';
import { appendMany } from '../test/interop/helpers/bulk-append.js';
import { startDovecot, type RunningDovecot } from '../test/interop/helpers/dovecot.js';
import { createServerDir } from '../test/interop/helpers/server-dir.js';
import { ingestCorpus } from './ingest-corpus.js';
import { bareRead, type BareServer } from './helpers/bare-reader.js';
import { describeMachine, median, now, printFigures } from './helpers/figures.js';
import { sqliteBytes, timeFirstSync } from './helpers/first-sync.js';
import { openPosternRuntime } from './helpers/postern-side.js';
import { comparisonFigures, interleaveReads, type ReadRun } from './helpers/read-comparison.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? '2000');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');
const USER = 'support@company.example';
const PASSWORD = 'support password on the benchmark dovecot';
const DOVECOT = '/usr/sbin/dovecot';

/** What is still running or on disk, undone newest first: at the end, on an error, on a signal. */
const cleanups: Array<() => Promise<void>> = [];
function undoLater(undo: () => Promise<void>): () => void {
  cleanups.push(undo);
  return () => {
    const index = cleanups.lastIndexOf(undo);
    if (index !== -1) cleanups.splice(index, 1);
  };
}
async function undoAll(): Promise<void> {
  for (let undo = cleanups.pop(); undo !== undefined; undo = cleanups.pop()) {
    await undo().catch((error: unknown) => process.stderr.write(`cleanup: ${String(error)}\n`));
  }
}

/** The full pipeline: a fresh Postern, the account created, the folder read into SQLite. */
async function fullRun(server: BareServer): Promise<ReadRun & { dbBytes: number }> {
  const side = await openPosternRuntime();
  const forget = undoLater(() => side.close());
  try {
    const { runtime } = side;
    const list = await runtime.services.lists.create({ name: 'Customers' });
    // Parsed as the API parses its body: the CA PEM is checked and re-encoded on the way.
    const view = await runtime.services.accounts.create(
      emailAccountBody.parse({
        name: 'Support',
        key: 'SUP',
        emailAddress: USER,
        username: USER,
        service: 'imap',
        modernAuth: false,
        password: PASSWORD,
        imapHost: '127.0.0.1',
        imapPort: server.port,
        tlsCaPem: server.caPem,
        defaultListId: list.id,
        firstSync: { kind: 'all' },
      }),
    );
    const run = await timeFirstSync(runtime, view.account, { messages: MESSAGES });
    return { ...run, dbBytes: sqliteBytes(side.dataDir) };
  } finally {
    forget();
    await side.close();
  }
}

/** Starts Dovecot in a directory of its own and fills the user's Inbox with the corpus. */
async function startFilledDovecot(): Promise<{ server: BareServer; dovecot: RunningDovecot; bytes: number }> {
  const { dir, tls } = await createServerDir('postern-bench-dovecot-');
  undoLater(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const dovecot = await startDovecot({
    dir: path.join(dir, 'dovecot'),
    certFile: tls.certFile,
    keyFile: tls.keyFile,
    passwords: { [USER]: PASSWORD },
  });
  undoLater(() => dovecot.stop());
  const raws = ingestCorpus(MESSAGES).map((message) => message.raw);
  const bytes = raws.reduce((sum, raw) => sum + raw.length, 0);
  const started = now();
  await appendMany({ port: dovecot.imapsPort, ca: tls.caPem, user: USER, password: PASSWORD }, 'INBOX', raws);
  // Printed as `INBOX messages=2000`.
  const status = (await dovecot.doveadm(['mailbox', 'status', '-u', USER, 'messages', 'INBOX'])).trim();
  if (!status.endsWith(` messages=${MESSAGES}`)) throw new Error(`Dovecot's Inbox holds ${status}`);
  process.stdout.write(
    `Dovecot ${execFileSync(DOVECOT, ['--version'], { encoding: 'utf8' }).trim()} on 127.0.0.1:${dovecot.imapsPort}: ${MESSAGES} messages, ` +
      `${(bytes / 1_048_576).toFixed(1)} MB of MIME appended in ${((now() - started) / 1000).toFixed(1)} s\n`,
  );
  return { server: { port: dovecot.imapsPort, caPem: tls.caPem }, dovecot, bytes };
}

/** The 1, 5 and 15-minute load averages: the machine is shared, and the figures say how busy it was. */
function loadAverage(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

async function main(): Promise<void> {
  try {
    fs.accessSync(DOVECOT, fs.constants.X_OK);
  } catch {
    throw new Error(
      `${DOVECOT} is missing: install Debian's dovecot-imapd (\`sudo apt-get install dovecot-imapd\`, ` +
        'or `node scripts/ensure-interop.mjs --dovecot` as root), then run again.',
    );
  }
  const machine = describeMachine();
  const load = loadAverage();
  process.stdout.write(`Machine: ${machine}\nload average at the start: ${load}\n`);
  const { server, bytes } = await startFilledDovecot();
  const { bare, full } = await interleaveReads(
    ROUNDS,
    () => bareRead(server, { user: USER, pass: PASSWORD }),
    () => fullRun(server),
  );
  const figures = {
    ...comparisonFigures(MESSAGES, bytes, bare, full),
    databaseMegabytes: median(full.map((run) => run.dbBytes)) / 1_048_576,
  };
  const loadAtEnd = loadAverage();
  printFigures(`Ingest of ${MESSAGES} messages from Dovecot: bare imapflow + mailparser vs Postern (SQLite)`, {
    ...figures,
    loadAverageAtEnd: loadAtEnd,
  });
  process.stdout.write(
    `\nJSON ${JSON.stringify({ machine, server: 'dovecot', load: { start: load, end: loadAtEnd }, ingest: figures })}\n`,
  );
}

const interrupt = (): void => {
  process.stderr.write('\ninterrupted: stopping Dovecot and removing its files\n');
  void undoAll().finally(() => process.exit(130));
};
process.once('SIGINT', interrupt);
process.once('SIGTERM', interrupt);

main()
  .then(undoAll, async (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await undoAll();
    process.exitCode = 1;
  })
  .finally(() => {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
  });
