/**
 * `postern start`'s V8 heap limit, set deliberately rather than left to Node's guess (up to 4 GB
 * on a large machine, whatever the container allows). V8 fixes the limit when the process starts
 * (`v8.setFlagsFromString` after that changes nothing), so a process without it is started again
 * as a child with `--max-old-space-size`, and the first process stays as its keeper: it passes
 * SIGINT, SIGTERM and SIGHUP on, and ends as the child ended (its exit code, or its signal). The
 * child runs in a process group of its own, so that a terminal's Ctrl-C reaches it once, through
 * the keeper; and it watches the keeper through an IPC channel: a keeper killed with SIGKILL
 * takes the child with it at once, as a `kill -9` of the process it started would.
 *
 * Which limit: `POSTERN_MAX_HEAP_MB` when set (it wins over a `--max-old-space-size` in
 * `NODE_OPTIONS`, as a command-line option does in Node); with `auto`, a `--max-old-space-size`
 * the operator gave Node (on its command line or in `NODE_OPTIONS`, honoured as it is), otherwise
 * a quarter of the memory of the machine or of its container, from 256 to 1,024 MB. What the
 * limit bounds, and what it does not (buffers, the database's cache), is in docs/PERFORMANCE.md,
 * "Memory bounds".
 *
 * @see https://nodejs.org/api/cli.html#--max-old-space-sizesize-in-mib
 * @see https://nodejs.org/api/process.html#processconstrainedmemory
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import v8 from 'node:v8';

export const HEAP_FLAG = '--max-old-space-size';
/** Set in the child's environment to the keeper's process id. */
export const KEEPER_ENV = 'POSTERN_HEAP_KEEPER';
/**
 * Bounds of the `auto` limit, in megabytes. V8 collects lazily up to its limit: a 100,000-message
 * first sync peaked at 406 MiB of RSS under 2,048 MB, 272 MiB under 1,024 and 262 MiB under 256,
 * and no scenario of bench:memory needed more than ~110 MiB of live heap (docs/PERFORMANCE.md,
 * "Memory bounds"). 1,024 leaves room for several thousand accounts; 256 still runs them all.
 */
export const AUTO_HEAP_MIN_MB = 256;
export const AUTO_HEAP_MAX_MB = 1024;
const MB = 1024 * 1024;
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Where the limit came from. */
export type HeapLimitSource = 'POSTERN_MAX_HEAP_MB' | 'NODE_OPTIONS' | 'node option' | 'default';

/** The limit a `postern start` process runs with. */
export interface HeapLimitPlan {
  /** The old generation's limit, in megabytes (`--max-old-space-size`). */
  readonly limitMb: number;
  readonly source: HeapLimitSource;
  /** True when this process was started without it and must be started again with it. */
  readonly restart: boolean;
}

/** The `auto` limit: a quarter of `memoryBytes`, from {@link AUTO_HEAP_MIN_MB} to {@link AUTO_HEAP_MAX_MB}. */
export function defaultHeapMb(memoryBytes: number): number {
  return Math.min(AUTO_HEAP_MAX_MB, Math.max(AUTO_HEAP_MIN_MB, Math.floor(memoryBytes / 4 / MB)));
}

/** The memory this process may use: the machine's, or its container's (cgroup) limit when lower. */
export function availableMemoryBytes(): number {
  const total = os.totalmem();
  const constrained = process.constrainedMemory();
  return constrained > 0 && constrained < total ? constrained : total;
}

/**
 * The value of the last `--max-old-space-size` among `args` (`--flag=N`, `--flag N`, and V8's
 * underscore spelling), or undefined.
 */
export function heapFlagValue(args: readonly string[]): number | undefined {
  let found: number | undefined;
  for (let index = 0; index < args.length; index += 1) {
    const arg = (args[index] ?? '').replaceAll('_', '-');
    let value: string | undefined;
    if (arg === HEAP_FLAG) value = args[index + 1];
    else if (arg.startsWith(`${HEAP_FLAG}=`)) value = arg.slice(HEAP_FLAG.length + 1);
    if (value === undefined) continue;
    const parsed = Number(value);
    if (Number.isInteger(parsed) && parsed > 0) found = parsed;
  }
  return found;
}

/** `NODE_OPTIONS` split as Node splits it, for the one flag looked for (no quoted values there). */
function splitNodeOptions(value: string | undefined): string[] {
  return (value ?? '').split(' ').filter((part) => part !== '');
}

/** Decides the limit; see the module comment. Pure. */
export function planHeapLimit(input: {
  readonly setting: number | 'auto';
  /** `process.execArgv`. */
  readonly execArgv: readonly string[];
  readonly nodeOptions: string | undefined;
  readonly memoryBytes: number;
  /** True in a child started by a keeper. */
  readonly restarted: boolean;
}): HeapLimitPlan {
  const onCommandLine = heapFlagValue(input.execArgv);
  const inNodeOptions = heapFlagValue(splitNodeOptions(input.nodeOptions));
  // Node's command line wins over NODE_OPTIONS.
  const current = onCommandLine ?? inNodeOptions;
  if (input.setting !== 'auto')
    return {
      limitMb: input.setting,
      source: 'POSTERN_MAX_HEAP_MB',
      // A child never starts another: whatever went wrong, no chain of processes.
      restart: !input.restarted && current !== input.setting,
    };
  if (onCommandLine !== undefined)
    return { limitMb: onCommandLine, source: input.restarted ? 'default' : 'node option', restart: false };
  if (inNodeOptions !== undefined) return { limitMb: inNodeOptions, source: 'NODE_OPTIONS', restart: false };
  return { limitMb: defaultHeapMb(input.memoryBytes), source: 'default', restart: !input.restarted };
}

/** The plan for this process, from its setting, its arguments and its environment. */
export function planThisProcess(setting: number | 'auto'): HeapLimitPlan {
  return planHeapLimit({
    setting,
    execArgv: process.execArgv,
    nodeOptions: process.env.NODE_OPTIONS,
    memoryBytes: availableMemoryBytes(),
    restarted: process.env[KEEPER_ENV] !== undefined,
  });
}

/** The limit V8 enforces in this process: the old generation's plus the young generation's. */
export function heapSizeLimitBytes(): number {
  return v8.getHeapStatistics().heap_size_limit;
}

/** One line for the operator: the limit in force and where it came from. */
export function describeHeapLimit(plan: HeapLimitPlan): string {
  const from =
    plan.source === 'default'
      ? `auto: a quarter of ${Math.round(availableMemoryBytes() / MB)} MB, from ${AUTO_HEAP_MIN_MB} to ${AUTO_HEAP_MAX_MB} MB`
      : plan.source;
  return `Heap limit: ${plan.limitMb} MB (${from}); V8 heap_size_limit ${Math.round(heapSizeLimitBytes() / MB)} MB.`;
}

/**
 * Starts this command again as a child with `--max-old-space-size=limitMb`, and keeps it: signals
 * are passed on, and this process ends as the child ends. Resolves never; the process exits.
 */
export function restartWithHeapLimit(limitMb: number): Promise<never> {
  const child = spawn(process.execPath, [...process.execArgv, `${HEAP_FLAG}=${limitMb}`, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [KEEPER_ENV]: String(process.pid) },
    detached: true,
  });
  // Registered before anything can arrive: main.ts's early handlers step aside for them.
  for (const signal of FORWARDED_SIGNALS) process.on(signal, () => child.kill(signal));
  return new Promise<never>(() => {
    child.on('error', (error) => {
      process.stderr.write(`Could not start Postern with a heap limit: ${error.message}\n`);
      process.exit(1);
    });
    child.on('exit', (code, signal) => {
      if (signal === null) process.exit(code ?? 1);
      // Ended by a signal (SIGKILL, an OOM kill): end the same way, as a supervisor expects.
      for (const forwarded of FORWARDED_SIGNALS) process.removeAllListeners(forwarded);
      process.kill(process.pid, signal);
    });
  });
}

/**
 * In a child started by {@link restartWithHeapLimit}: ends at once (SIGKILL) if its keeper is gone
 * without having passed a signal on — the keeper was killed with SIGKILL, and so is the child.
 */
export function followKeeper(): void {
  if (process.env[KEEPER_ENV] === undefined || process.channel === undefined) return;
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  process.channel.unref();
}
