/**
 * Fault soak (`npm run soak`, issue 16 point 7; not part of `npm test`). For SOAK_MINUTES (10)
 * mail flows in and out of SOAK_MAILBOXES (50) accounts on the emulator while faults are injected
 * at random — IMAP sessions dropped or reset after the sign-in, IMAP throttled (`NO`/`BAD`, with or
 * without BYE), a mailbox "authenticated but not connected", SMTP 421/451; a full disk for 30 s; a
 * PostgreSQL restart; `kill -9` of Postern and a start again. Then the faults stop, Postern
 * drains (SOAK_DRAIN_MINUTES at most), and the soak checks: every delivered message stored
 * exactly once, every queued reply submitted exactly once (the emulator's record) and recorded
 * `sent`, or failed with a reason, the integrity checks pass, and Postern is alive. It exits 1 if
 * anything is lost, doubled, crashed or damaged.
 *
 * SOAK_DATABASE: `both` (default) runs half the time on SQLite, then half on PostgreSQL — each
 * fault where it applies: the full disk holds SQLite's database and Postern's logs, and on
 * PostgreSQL the logs only (the server's data is elsewhere); the database restart exists only on
 * PostgreSQL. `sqlite` or `postgres` runs one engine for the whole time.
 * Other settings: SOAK_SEED (random, printed), SOAK_MESSAGES_PER_SECOND (2), SOAK_REPLIES_PER_SECOND
 * (0.5), SOAK_DISK_MB (256). The full disk needs root (a tmpfs is mounted); elsewhere it is left
 * out and the summary says so. Results are recorded in docs/PERFORMANCE.md ("Fault soak").
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { CLI } from './helpers/cluster-node.js';
import { describeMachine } from './helpers/figures.js';
import { FAULT_KINDS, type FaultKind } from './helpers/soak-faults.js';
import { runPhase, type PhaseResult } from './helpers/soak-phase.js';
import { problemsOf } from './helpers/soak-verify.js';

type Engine = 'sqlite' | 'postgres';

function numberSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return value;
}

function engines(): Engine[] {
  const raw = process.env.SOAK_DATABASE ?? 'both';
  if (raw === 'both') return ['sqlite', 'postgres'];
  if (raw === 'sqlite' || raw === 'postgres') return [raw];
  throw new Error(`SOAK_DATABASE must be sqlite, postgres or both, not "${raw}"`);
}

const loadAverage = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** Counts of each fault kind. */
function faultCounts(results: readonly PhaseResult[]): Map<FaultKind, number> {
  const counts = new Map<FaultKind, number>(FAULT_KINDS.map((kind) => [kind, 0]));
  for (const result of results)
    for (const fault of result.faults) counts.set(fault.kind, (counts.get(fault.kind) ?? 0) + 1);
  return counts;
}

const describeCounts = (counts: Map<FaultKind, number>): string =>
  FAULT_KINDS.map((kind) => `${kind} ${counts.get(kind) ?? 0}`).join(', ');

function printPhase(result: PhaseResult): void {
  const r = result.replies;
  const byKind = faultCounts([result]);
  const lines = [
    `Phase ${result.engine}: ${(result.seconds / 60).toFixed(1)} min of faults, drained in ${result.drainSeconds.toFixed(0)} s`,
    `  faults: ${describeCounts(byKind)}`,
    ...result.notInjected.map((line) => `  not injected: ${line}`),
    ...result.faults.flatMap((fault) =>
      fault.effect === undefined
        ? []
        : [`  at ${fault.at.toFixed(0)} s ${fault.kind}: ${fault.detail}; ${fault.effect}`],
    ),
    `  mail in: ${result.delivered} delivered, ${result.stored} stored; lost ${result.lost}, doubled ${result.doubled}, stored but not delivered ${result.unexpected}`,
    `  mail out: ${r.askedFor} replies asked for, ${r.queued} queued (202), ${r.refused} refused ${JSON.stringify(r.refusalReasons)}, ${r.notAttempted} not attempted (no conversation could be listed: Postern or its database down), ${r.unresolved} without an answer`,
    `            ${r.sentOnce} sent exactly once, ${r.failedWithReason} failed with a reason ${JSON.stringify(r.failureReasons)}; lost ${r.lost}, doubled ${r.doubled}, misrecorded ${r.misrecorded}, untracked ${r.untracked}`,
    `  integrity: ${result.integrity.length === 0 ? 'ok' : result.integrity.join('; ')}`,
    `  Postern: ${result.alive ? 'alive' : 'not running'}, /health ${result.health}; crashes ${result.crashes.length}, failed starts ${result.startFailures}`,
    ...result.crashes.map((crash) => `  crash at ${crash.at.toFixed(0)} s (${crash.exit}):\n${crash.tail}`),
    ...result.examples.map((example) => `  e.g. ${example}`),
    ...(result.logsKeptIn === undefined ? [] : [`  Postern's logs kept in ${result.logsKeptIn}`]),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: the script runs "npm run build" first.`);
  const minutes = numberSetting('SOAK_MINUTES', 10);
  const seed =
    process.env.SOAK_SEED === undefined ? crypto.randomInt(2 ** 31) : Math.floor(numberSetting('SOAK_SEED', 1));
  const phases = engines();
  const settings = {
    mailboxes: Math.floor(numberSetting('SOAK_MAILBOXES', 50)),
    messagesPerSecond: numberSetting('SOAK_MESSAGES_PER_SECOND', 2),
    repliesPerSecond: numberSetting('SOAK_REPLIES_PER_SECOND', 0.5),
    drainSeconds: numberSetting('SOAK_DRAIN_MINUTES', 6) * 60,
    diskMb: Math.floor(numberSetting('SOAK_DISK_MB', 256)),
  };
  const machine = describeMachine();
  process.stdout.write(
    `Fault soak: ${minutes} min on ${phases.join(' then ')}, ${settings.mailboxes} mailboxes, ${settings.messagesPerSecond} messages/s in, ${settings.repliesPerSecond} replies/s out\n` +
      `SOAK_SEED=${seed}\nMachine: ${machine}\nload average before: ${loadAverage()}\n`,
  );
  const started = Date.now();
  const results: PhaseResult[] = [];
  for (const engine of phases) {
    process.stdout.write(`\n== ${engine} ==\n`);
    const result = await runPhase({ engine, seed, seconds: (minutes * 60) / phases.length, ...settings });
    printPhase(result);
    results.push(result);
  }
  const problems = results.flatMap(problemsOf);
  const total = (pick: (r: PhaseResult) => number): number => results.reduce((sum, r) => sum + pick(r), 0);
  const byKind = faultCounts(results);
  const summary = {
    seed,
    minutesOfFaults: total((r) => r.seconds) / 60,
    wallMinutes: (Date.now() - started) / 60_000,
    faults: Object.fromEntries(byKind),
    messagesIn: total((r) => r.delivered),
    stored: total((r) => r.stored),
    lostIn: total((r) => r.lost),
    doubledIn: total((r) => r.doubled),
    repliesQueued: total((r) => r.replies.queued),
    repliesSentOnce: total((r) => r.replies.sentOnce),
    repliesFailedWithReason: total((r) => r.replies.failedWithReason),
    lostOut: total((r) => r.replies.lost),
    doubledOut: total((r) => r.replies.doubled),
    crashes: total((r) => r.crashes.length),
    integrity: results.every((r) => r.integrity.length === 0) ? 'ok' : 'FAILED',
    loadAverageAfter: loadAverage(),
  };
  process.stdout.write(
    `\nSummary (SOAK_SEED=${seed}): ${summary.minutesOfFaults.toFixed(1)} min of faults (${summary.wallMinutes.toFixed(1)} min in all)\n` +
      `  faults injected: ${describeCounts(byKind)}\n` +
      `  messages in: ${summary.messagesIn} delivered, lost ${summary.lostIn}, doubled ${summary.doubledIn}\n` +
      `  messages out: ${summary.repliesQueued} replies queued, ${summary.repliesSentOnce} sent exactly once, ${summary.repliesFailedWithReason} failed with a reason; lost ${summary.lostOut}, doubled ${summary.doubledOut}\n` +
      `  integrity ${summary.integrity}; crashes ${summary.crashes}; load average after: ${summary.loadAverageAfter}\n` +
      `  ${problems.length === 0 ? 'PASS' : `FAIL:\n    ${problems.join('\n    ')}`}\n` +
      `\nJSON ${JSON.stringify({ machine, summary, phases: results.map((r) => ({ ...r, crashes: r.crashes.length })) })}\n`,
  );
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
