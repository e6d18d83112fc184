/**
 * Small tools the benchmarks share: the machine's description, a high-resolution wall clock
 * comparable across processes, percentiles, memory snapshots and printing.
 */
import os from 'node:os';

/** Milliseconds since the epoch, sub-millisecond resolution; comparable between processes. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Cores, CPU model, memory, OS and Node version. */
export function describeMachine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, ${Math.round(os.totalmem() / 1_073_741_824)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

/** The value at quantile `q` (0–1) of `values`, nearest rank; 0 for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** This process's memory after a full garbage collection (run with `--expose-gc`). */
export interface MemorySnapshot {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** Collects garbage (twice, to reach weakly held objects) and reads the memory. */
export async function memorySnapshot(): Promise<MemorySnapshot> {
  for (let i = 0; i < 2; i += 1) {
    global.gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Prints a titled block of figures, one per line. */
export function printFigures(title: string, values: Record<string, number | string>): void {
  const lines = Object.entries(values).map(
    ([key, value]) =>
      `  ${key.padEnd(40)} ${typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(2)) : value}`,
  );
  process.stdout.write(`\n${title}\n${lines.join('\n')}\n`);
}
