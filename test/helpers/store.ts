/**
 * Store test helpers: run one suite on both engines, each call of `openFresh()` giving a brand
 * new, migrated database — a temporary SQLite file, or a new database on the run's PostgreSQL
 * (see global-setup.ts). Everything opened is closed and dropped after the suite.
 *
 *     forEachEngine((engine, openFresh) => {
 *       let db: Database;
 *       beforeAll(async () => { db = await openFresh(); });
 *       it('stores a user', async () => { ... });
 *     });
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, inject } from 'vitest';
import {
  openDatabase,
  type Database,
  type Engine,
  type OpenDatabaseOptions,
  type TransactionOptions,
} from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';

/** Options of `openFresh`. */
export interface FreshDatabaseOptions extends OpenDatabaseOptions {
  /** Run the migrations (default true); false gives an empty database. */
  migrate?: boolean;
}

/** A fresh database with the facts a test may need about it. */
export interface FreshDatabase extends Database {
  /** The URL it was opened with (it may hold the test server's password). */
  readonly url: string;
  /** The SQLite file, for tests that read it directly; undefined on PostgreSQL. */
  readonly sqliteFile: string | undefined;
}

export type OpenFresh = (options?: FreshDatabaseOptions) => Promise<FreshDatabase>;

const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];

/**
 * Declares `define` once per engine inside `describe(engine)`. Databases opened through the given
 * `openFresh` are removed in `afterAll`.
 */
export function forEachEngine(define: (engine: Engine, openFresh: OpenFresh) => void): void {
  for (const engine of ENGINES) {
    describe(engine, () => {
      const cleanups: Array<() => Promise<void>> = [];
      afterAll(async () => {
        for (const cleanup of cleanups.reverse()) await cleanup();
      });
      define(engine, (options) => openFreshDatabase(engine, options, cleanups));
    });
  }
}

async function openFreshDatabase(
  engine: Engine,
  options: FreshDatabaseOptions = {},
  cleanups: Array<() => Promise<void>>,
): Promise<FreshDatabase> {
  const target = engine === 'sqlite' ? await createSqliteFile() : await createPostgresDatabase();
  cleanups.push(target.remove);
  const db = await openDatabase(target.url, options);
  cleanups.push(async () => {
    await db.close().catch(() => undefined);
  });
  if (options.migrate !== false) await migrateToLatest(db);
  return new FreshDatabaseHandle(db, target.url, target.file);
}

/** A Database that also knows where it lives. */
class FreshDatabaseHandle implements FreshDatabase {
  constructor(
    private readonly inner: Database,
    readonly url: string,
    readonly sqliteFile: string | undefined,
  ) {}

  get kysely(): Database['kysely'] {
    return this.inner.kysely;
  }
  get engine(): Engine {
    return this.inner.engine;
  }
  get displayUrl(): string {
    return this.inner.displayUrl;
  }
  get inTransaction(): boolean {
    return this.inner.inTransaction;
  }
  get health(): Database['health'] {
    return this.inner.health;
  }
  now(): Date {
    return this.inner.now();
  }
  transaction<T>(fn: (tx: Database) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return this.inner.transaction(fn, options);
  }
  synced(): Promise<void> {
    return this.inner.synced();
  }
  withoutQueryTimeout<T>(fn: (kysely: Database['kysely']) => Promise<T>): Promise<T> {
    return this.inner.withoutQueryTimeout(fn);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface Target {
  url: string;
  file: string | undefined;
  remove: () => Promise<void>;
}

async function createSqliteFile(): Promise<Target> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postern-test-sqlite-'));
  const file = path.join(dir, 'postern.db');
  return { url: `sqlite:${file}`, file, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** An empty database on the run's PostgreSQL, for suites that open it themselves (several processes). */
export async function createPostgresDatabase(): Promise<Target> {
  const adminUrl = inject('postgresAdminUrl');
  const name = `postern_test_${crypto.randomBytes(6).toString('hex')}`;
  await withAdminClient(adminUrl, (client) => client.query(`create database ${client.escapeIdentifier(name)}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    file: undefined,
    remove: () =>
      withAdminClient(adminUrl, (client) =>
        client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`),
      ).then(() => undefined),
  };
}

async function withAdminClient<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
