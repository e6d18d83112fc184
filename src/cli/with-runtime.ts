import { openRuntime, type Runtime } from './runtime.js';

/** Prints one line to standard output. */
export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs a command's body with an opened runtime (console kept free of log lines), always closing it. */
export async function withRuntime<T>(fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await openRuntime({ quiet: true });
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}
