/**
 * What the ingest benchmarks share to compare two reads of one mailbox — the least a program can
 * do (bare) and Postern's whole pipeline (full): one timed read's figures, rounds that alternate
 * which goes first, and the medians and ratio printed at the end.
 */
import { median, now } from './figures.js';

/** One timed read of the mailbox. */
export interface ReadRun {
  readonly ms: number;
  readonly messages: number;
  /** CPU of this process, every thread. */
  readonly cpuMs: number;
  /** Time the event loop (main thread) was busy: what other accounts and the API had to wait for. */
  readonly loopBusyMs: number;
  /** When the read began and ended on the monotonic clock, in µs (the clock of `--cpu-prof` profiles). */
  readonly windowUs?: readonly [number, number];
}

/** Times `read` (which resolves with the number of messages it read): wall clock, CPU, event loop. */
export async function measureRead(read: () => Promise<number>): Promise<ReadRun> {
  const loop = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const startedUs = Number(process.hrtime.bigint() / 1000n);
  const started = now();
  const messages = await read();
  const ms = now() - started;
  const used = process.cpuUsage(cpu);
  return {
    windowUs: [startedUs, Number(process.hrtime.bigint() / 1000n)],
    ms,
    messages,
    cpuMs: (used.user + used.system) / 1000,
    loopBusyMs: performance.eventLoopUtilization(loop).active,
  };
}

/**
 * One unmeasured warm-up of each read (JIT, the server's caches, the page cache), then `rounds`
 * rounds, the bare read first in even rounds and the full read first in odd ones; each round's
 * times are printed as it ends.
 */
export async function interleaveReads<B extends ReadRun, F extends ReadRun>(
  rounds: number,
  bareRead: () => Promise<B>,
  fullRead: () => Promise<F>,
): Promise<{ bare: B[]; full: F[] }> {
  await bareRead();
  await fullRead();
  const bare: B[] = [];
  const full: F[] = [];
  for (let round = 0; round < rounds; round += 1) {
    if (round % 2 === 0) {
      bare.push(await bareRead());
      full.push(await fullRead());
    } else {
      full.push(await fullRead());
      bare.push(await bareRead());
    }
    const b = bare.at(-1);
    const f = full.at(-1);
    process.stdout.write(
      `round ${round + 1}: bare ${b?.ms.toFixed(0)} ms, full ${f?.ms.toFixed(0)} ms, ratio ${((f?.ms ?? 0) / (b?.ms ?? 1)).toFixed(2)}\n`,
    );
  }
  return { bare, full };
}

/** Medians, per-round figures and the ratio full / bare, as the benchmarks print them. */
export function comparisonFigures(
  messages: number,
  mailboxBytes: number,
  bare: readonly ReadRun[],
  full: readonly ReadRun[],
): Record<string, number | string> {
  const bareMs = median(bare.map((run) => run.ms));
  const fullMs = median(full.map((run) => run.ms));
  return {
    messages,
    mailboxMegabytes: mailboxBytes / 1_048_576,
    bareMsMedian: bareMs,
    fullMsMedian: fullMs,
    ratioOfMedians: fullMs / bareMs,
    ratioPerRound: full.map((run, i) => (run.ms / (bare[i]?.ms ?? 1)).toFixed(2)).join(' / '),
    bareMsRuns: bare.map((run) => run.ms.toFixed(0)).join(' / '),
    fullMsRuns: full.map((run) => run.ms.toFixed(0)).join(' / '),
    bareMessagesPerSecond: messages / (bareMs / 1000),
    fullMessagesPerSecond: messages / (fullMs / 1000),
    bareCpuMsMedian: median(bare.map((run) => run.cpuMs)),
    fullCpuMsMedian: median(full.map((run) => run.cpuMs)),
    bareLoopBusyMsMedian: median(bare.map((run) => run.loopBusyMs)),
    fullLoopBusyMsMedian: median(full.map((run) => run.loopBusyMs)),
  };
}
