#!/usr/bin/env node
/**
 * The `postern` entry point. It installs its signal handlers before it loads anything else:
 * static imports are evaluated before a module's body, and loading the program takes a second or
 * more on a busy machine, long enough for a supervisor's SIGTERM or a person's Ctrl-C to land in
 * it. Nothing has started yet then, so the process simply ends: with 0 for the commands that run
 * until they are stopped (a signal is how they are meant to end), with 128 + the signal's number
 * for the others, as a shell reports an interrupted command. Once a command installs its own
 * handlers (`postern start`), these step aside.
 */
const SERVER_COMMANDS = new Set(['start', 'demo', 'emulator']);
const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;

function endBeforeStart(signal: keyof typeof SIGNAL_NUMBERS): void {
  // Another handler means the command took over: it stops what it started.
  if (process.listenerCount(signal) > 1) return;
  process.exit(SERVER_COMMANDS.has(process.argv[2] ?? '') ? 0 : 128 + SIGNAL_NUMBERS[signal]);
}

process.on('SIGINT', endBeforeStart);
process.on('SIGTERM', endBeforeStart);

/**
 * `postern start` runs with a deliberate heap limit (heap-limit.ts): decided before the program
 * loads, from `POSTERN_MAX_HEAP_MB` alone; a process without it starts itself again with it and
 * keeps the child. True when this process is such a keeper.
 */
async function keepsChildWithHeapLimit(): Promise<boolean> {
  if (process.argv[2] !== 'start') return false;
  const heap = await import('./heap-limit.js');
  heap.followKeeper();
  const { loadMaxHeapSetting } = await import('../config/index.js');
  const plan = heap.planThisProcess(loadMaxHeapSetting());
  if (!plan.restart) return false;
  void heap.restartWithHeapLimit(plan.limitMb);
  return true;
}

try {
  if (!(await keepsChildWithHeapLimit())) {
    const { buildProgram, reportError } = await import('./program.js');
    await buildProgram()
      .parseAsync(process.argv)
      .catch((error: unknown) => {
        process.exitCode = reportError(error);
      });
  }
} catch (error) {
  const { reportError } = await import('./program.js');
  process.exitCode = reportError(error);
}
