/**
 * Runs the built `postern` binary (dist/, produced by `npm run build`, which `npm test` runs
 * first) as a separate process, the way an administrator does.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
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

/**
 * The child's environment before the test's own variables: the PATH, and the time zone and locale
 * the suite runs in (so a run with `TZ=Pacific/Auckland LANG=de_DE.UTF-8` tests the CLI there too);
 * nothing else of the parent's leaks in.
 */
function baseEnv(): Record<string, string> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '', POSTERN_LOG_CONSOLE: 'false' };
  for (const name of ['TZ', 'LANG', 'LC_ALL'] as const) {
    const value = process.env[name];
    if (value !== undefined) base[name] = value;
  }
  return base;
}

/**
 * The process id of the Postern server a `postern start` child runs: the child itself when it was
 * started with a heap limit, otherwise the one process it started again with the limit and keeps
 * (src/cli/heap-limit.ts). Linux (`/proc/<pid>/task/<pid>/children`).
 */
export function serverProcessId(pid: number): number {
  let children: string;
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  } catch {
    return pid;
  }
  if (children === '') return pid;
  const ids = children.split(' ').map(Number);
  if (ids.length !== 1 || !Number.isInteger(ids[0])) throw new Error(`process ${pid} has children ${children}`);
  return ids[0] ?? pid;
}

/** Runs one command to completion. */
export function runCli(args: string[], env: Record<string, string>, input?: string): CliResult {
  assertBuilt();
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...baseEnv(), ...env },
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
    env: { ...baseEnv(), ...env },
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

/** `postern start` on a fresh data directory, with an administrator and an API token for it. */
export interface StartedPostern {
  readonly server: RunningCli;
  readonly dataDir: string;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** The Authorization header value of the administrator's API token. */
  readonly bearer: string;
  /** Stops the server and removes the data directory. */
  stop(): Promise<void>;
}

/**
 * Creates an administrator and an API token through the CLI, then starts `postern start` on port 0
 * trusting `caFile` (the emulator's CA), as an operator runs it.
 */
export async function startPosternCli(dataDirPrefix: string, caFile: string): Promise<StartedPostern> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), dataDirPrefix));
  const env = { POSTERN_DATA_DIR: dataDir };
  const admin = runCli(['users', 'add', 'ops', '--role', 'admin', '--password-stdin'], env, 'ops-password-123456\n');
  if (admin.status !== 0) throw new Error(`users add failed: ${admin.stderr}`);
  const token = /Token \(shown once\): (pst_\S+)/.exec(
    runCli(['tokens', 'create', 'tests', '--user', 'ops'], env).stdout,
  )?.[1];
  if (token === undefined) throw new Error('no API token was printed');
  const server = spawnCli(['start', '--port', '0'], { ...env, NODE_EXTRA_CA_CERTS: caFile });
  const [, url = ''] = await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return {
    server,
    dataDir,
    url,
    bearer: `Bearer ${token}`,
    async stop() {
      server.child.kill('SIGTERM');
      await server.exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
