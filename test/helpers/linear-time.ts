/**
 * Timing bounds for untrusted input (issue 13): a function is run on an input of 10 KB and of
 * 100 KB, and the time at 100 KB must stay within 20 × the time at 10 KB — linear with room to
 * spare; quadratic backtracking gives 100 ×, worse gives more.
 *
 * Measured robustly on a shared machine: each sample repeats the call until it lasts a few
 * milliseconds (so that the timer's resolution does not decide), and the best of several samples
 * counts (load only ever makes a sample slower).
 */
import { performance } from 'node:perf_hooks';

/** Bytes (characters) of the small and the large input. */
export const SMALL = 10_000;
export const LARGE = 100_000;
/** The bound: time at LARGE ≤ FACTOR × time at SMALL. */
export const FACTOR = 20;

const SAMPLES = 5;
const SAMPLE_MS = 4;

/** Milliseconds per call: the best of {@link SAMPLES} samples, each repeating the call `repeat` times. */
function bestPerCall(run: () => unknown, repeat: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let sample = 0; sample < SAMPLES; sample += 1) {
    const started = performance.now();
    for (let i = 0; i < repeat; i += 1) run();
    best = Math.min(best, (performance.now() - started) / repeat);
  }
  return best;
}

/** How many calls of `run` last about {@link SAMPLE_MS} (at least one). */
function calibrate(run: () => unknown): number {
  run();
  const started = performance.now();
  run();
  const once = Math.max(performance.now() - started, 0.001);
  return Math.max(1, Math.min(10_000, Math.ceil(SAMPLE_MS / once)));
}

/** What {@link measureGrowth} found. */
export interface Growth {
  readonly smallMs: number;
  readonly largeMs: number;
  /** largeMs / smallMs */
  readonly ratio: number;
}

/**
 * Times `run(input(size))` at {@link SMALL} and {@link LARGE}. `input` builds the input of about
 * `size` characters; it is built once per size, outside the timing.
 */
export function measureGrowth<T>(input: (size: number) => T, run: (value: T) => unknown): Growth {
  const small = input(SMALL);
  const large = input(LARGE);
  const smallRun = (): unknown => run(small);
  const largeRun = (): unknown => run(large);
  const repeat = calibrate(smallRun);
  const smallMs = bestPerCall(smallRun, repeat);
  const largeMs = bestPerCall(largeRun, Math.max(1, Math.ceil(repeat / 10)));
  return { smallMs, largeMs, ratio: largeMs / smallMs };
}

/** Throws with the figures unless the growth from 10 KB to 100 KB is within {@link FACTOR}. */
export function assertLinear(what: string, growth: Growth): void {
  if (growth.ratio <= FACTOR) return;
  throw new Error(
    `${what}: ${growth.largeMs.toFixed(3)} ms at ${LARGE} characters vs ${growth.smallMs.toFixed(3)} ms at ${SMALL} (${growth.ratio.toFixed(1)} ×, the bound is ${FACTOR} ×)`,
  );
}

/** {@link measureGrowth} for a function that answers a promise (each call awaited in turn). */
export async function measureGrowthAsync<T>(
  input: (size: number) => T,
  run: (value: T) => Promise<unknown>,
): Promise<Growth> {
  const small = input(SMALL);
  const large = input(LARGE);
  const best = async (value: T, repeat: number): Promise<number> => {
    let fastest = Number.POSITIVE_INFINITY;
    for (let sample = 0; sample < SAMPLES; sample += 1) {
      const started = performance.now();
      for (let i = 0; i < repeat; i += 1) await run(value);
      fastest = Math.min(fastest, (performance.now() - started) / repeat);
    }
    return fastest;
  };
  await run(small);
  const started = performance.now();
  await run(small);
  const once = Math.max(performance.now() - started, 0.001);
  const repeat = Math.max(1, Math.min(1_000, Math.ceil(SAMPLE_MS / once)));
  const smallMs = await best(small, repeat);
  const largeMs = await best(large, Math.max(1, Math.ceil(repeat / 10)));
  return { smallMs, largeMs, ratio: largeMs / smallMs };
}
