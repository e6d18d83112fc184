/**
 * Runs the built `postern` binary (dist/, produced by `npm run build`, which `npm test` runs
 * first) as a separate process, the way an administrator does.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const CLI = path.resolve(import.meta.dirname, '../../dist/src/cli/main.js');

function assertBuilt(): void {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does).`);
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one command to completion. */
export function runCli(args: string[], env: Record<string, string>, input?: string): CliResult {
  assertBuilt();
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', TZ: 'UTC', POSTERN_LOG_CONSOLE: 'false', ...env },
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  /** Standard output and error, interleaved as they came. */
  output(): string;
  /** Standard output alone. */
  stdout(): string;
  /** Resolves with the first match of `pattern` in stdout, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** Starts a long-running command (e.g. `start`). */
export function spawnCli(args: string[], env: Record<string, string>): RunningCli {
  assertBuilt();
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', TZ: 'UTC', POSTERN_LOG_CONSOLE: 'false', ...env },
  });
  let out = '';
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    stdout: () => stdout,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const check = (): void => {
          const match = pattern.exec(out);
          if (match) return resolve(match);
          if (child.exitCode !== null) return reject(new Error(`process exited (${child.exitCode}):\n${out}`));
          if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${pattern}:\n${out}`));
          setTimeout(check, 50);
        };
        check();
      });
    },
  };
}

/**
 * Runs one command to completion without blocking this process's event loop: needed when the
 * command talks to a server running in the test process (the emulator).
 */
export async function runCliAsync(args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  const cli = spawnCli(args, env);
  if (input !== undefined) cli.child.stdin.end(input);
  else cli.child.stdin.end();
  const status = await cli.exited;
  const stdout = cli.stdout();
  let stderr = cli.output();
  for (const line of stdout.split('\n')) if (line !== '') stderr = stderr.replace(line, '');
  return { status, stdout, stderr };
}
