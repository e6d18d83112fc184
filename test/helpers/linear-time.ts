/**
 * Timing bounds for untrusted input (issue 13): a function is run on an input of 10 KB and of
 * 100 KB, and the time at 100 KB must stay within 20 × the time at 10 KB — linear with room to
 * spare; quadratic backtracking gives 100 ×, worse gives more.
 *
 * Measured robustly on a shared machine: in CPU time of this process, not wall time (a long sample
 * on a loaded machine spends most of its wall time waiting for a core, a short one may not); each
 * sample repeats the call until it lasts a few milliseconds, and the best of several samples
 * counts (interference only ever makes a sample slower).
 *
 * One allowance, for V8 rather than for the code: from 10 KB to 100 KB, strings and arrays move
 * out of the young generation into the large-object space and out of the CPU caches, and code that
 * allocates per character (a split into 50,000 pieces) can jump by more than 20 × once. When that
 * happens, and only when 100 KB took under {@link CONFIRM_BELOW_MS}, the growth is measured again
 * from 100 KB to 1 MB, where both sides are in the same regime: it must be within
 * {@link CONFIRM_FACTOR} there (on a loaded two-core machine, linear code measured 21–29 × at this
 * step, memory-bound). A super-linear function fails both (quadratic: 100 × at each step).
 */

/** Characters of the small, the large and the confirming input. */
export const SMALL = 10_000;
export const LARGE = 100_000;
export const CONFIRM = 1_000_000;
/** The bound: time at LARGE ≤ FACTOR × time at SMALL. */
export const FACTOR = 20;
/** The bound of the confirming step, LARGE → CONFIRM (linear is 10 ×, quadratic 100 ×). */
export const CONFIRM_FACTOR = 40;
/** Above this at LARGE, a ratio over FACTOR fails at once (a confirming run would take too long). */
export const CONFIRM_BELOW_MS = 250;

const SAMPLES = 5;
const SAMPLE_MS = 4;

/** CPU time (user and system) of this process so far, in milliseconds, to the microsecond. */
function cpuNow(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** What {@link measureGrowth} found. */
export interface Growth {
  readonly smallMs: number;
  readonly largeMs: number;
  /** largeMs / smallMs */
  readonly ratio: number;
  /** Time at {@link CONFIRM}, when the growth had to be confirmed. */
  readonly confirmMs?: number;
}

/** Milliseconds per call of `run`: the best of `samples` samples of `repeat` calls each. */
async function bestPerCall(run: () => unknown, repeat: number, samples = SAMPLES): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let sample = 0; sample < samples; sample += 1) {
    const started = cpuNow();
    for (let i = 0; i < repeat; i += 1) await run();
    best = Math.min(best, (cpuNow() - started) / repeat);
  }
  return best;
}

/**
 * Times `run(input(size))` at {@link SMALL} and {@link LARGE} (and {@link CONFIRM} when needed).
 * `input` builds the input of about `size` characters, once per size, outside the timing. `run`
 * may answer a promise: it is awaited.
 */
export async function measureGrowth<T>(input: (size: number) => T, run: (value: T) => unknown): Promise<Growth> {
  const small = input(SMALL);
  const large = input(LARGE);
  await run(small);
  const started = cpuNow();
  await run(small);
  const once = Math.max(cpuNow() - started, 0.001);
  const repeat = Math.max(1, Math.min(10_000, Math.ceil(SAMPLE_MS / once)));
  const smallMs = await bestPerCall(() => run(small), repeat);
  const largeMs = await bestPerCall(() => run(large), Math.max(1, Math.ceil(repeat / 10)));
  const growth = { smallMs, largeMs, ratio: largeMs / smallMs };
  if (growth.ratio <= FACTOR || largeMs >= CONFIRM_BELOW_MS) return growth;
  const confirm = input(CONFIRM);
  const confirmMs = await bestPerCall(() => run(confirm), 1, 2);
  return { ...growth, confirmMs };
}

/** Throws with the figures unless the growth is within {@link FACTOR} (see the module comment). */
export function assertLinear(what: string, growth: Growth): void {
  if (growth.ratio <= FACTOR) return;
  if (growth.confirmMs !== undefined && growth.confirmMs <= CONFIRM_FACTOR * growth.largeMs) return;
  const confirmed =
    growth.confirmMs === undefined ? '' : `, ${growth.confirmMs.toFixed(3)} ms at ${CONFIRM} characters`;
  throw new Error(
    `${what}: ${growth.largeMs.toFixed(3)} ms at ${LARGE} characters vs ${growth.smallMs.toFixed(3)} ms at ${SMALL} (${growth.ratio.toFixed(1)} ×, the bound is ${FACTOR} ×)${confirmed}`,
  );
}
