/**
 * The one entry point to storage: `openDatabase(url)` gives a `Database` over kysely for the
 * embedded SQLite file or a shared PostgreSQL, with the same typed query layer and migrations.
 * Repositories take a `Database`; `db.transaction(fn)` hands `fn` a `Database` bound to the
 * transaction, so repositories compose into one atomic unit without knowing it.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  Kysely,
  PostgresDialect,
  SqliteDialect,
  sql,
  type SqliteDatabase,
  type SqliteStatement,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { searchSubject } from '../domain/search-query.js';
import { PosternError } from '../errors/index.js';
import { parseDatabaseUrl, redactDatabaseUrl, scrubPassword, type Engine } from './database-url.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { StoreHealth } from './store-health.js';
import type { DB } from './schema.js';

export type { Engine } from './database-url.js';

/** Options of `openDatabase`. */
export interface OpenDatabaseOptions {
  /** The clock repositories stamp rows with; tests inject a fixed one. Default: `new Date()`. */
  clock?: () => Date;
  /** PostgreSQL pool size. Default 10. */
  poolSize?: number;
  /** Milliseconds to wait for a connection (PostgreSQL) or a lock (SQLite). Default 5000. */
  timeoutMs?: number;
  /**
   * PostgreSQL: milliseconds one statement may take — the server cancels it then (the session's
   * `statement_timeout`), and the client gives up a second later (the pool's `query_timeout`), so
   * that neither a slow statement nor a server gone silent holds a request or a worker for ever.
   * Default 120 seconds; 0 for none.
   */
  queryTimeoutMs?: number;
  /** Called with errors of idle PostgreSQL connections, which would otherwise crash the process. */
  onPoolError?: (error: Error) => void;
}

/** How a transaction commits. */
export interface TransactionOptions {
  /**
   * `immediate` (the default): the commit returns once it is on disk. `deferred`, on SQLite: the
   * commit is written to the write-ahead log and returns without waiting for the disk
   * (synchronous=NORMAL for this commit alone); it is durable once `synced()` resolves, or once a
   * later `immediate` commit returns (the log is one file, synced up to its end). A process crash
   * loses nothing either way; a power failure may roll back deferred commits not yet synced —
   * which is why only a group commit of ingest, whose messages are still on the mail server until
   * its after-fetch action runs after `synced()`, uses it. PostgreSQL commits as `immediate`.
   */
  readonly durability?: 'immediate' | 'deferred';
}

/** Postern's handle on its database. */
export interface Database {
  /** The typed query builder; inside `transaction()` it is bound to the transaction. */
  readonly kysely: Kysely<DB>;
  readonly engine: Engine;
  /** The URL with its password removed, for messages and logs. */
  readonly displayUrl: string;
  /** True inside `transaction()`. */
  readonly inTransaction: boolean;
  /** Whether writes fail for a storage reason (store-health.ts); shared with bound transactions. */
  readonly health: StoreHealth;
  /** The current time, from the injected clock. */
  now(): Date;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. Called
   * on a transaction's `Database`, it joins the running transaction (and its options are those of
   * the running one).
   */
  transaction<T>(fn: (tx: Database) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Resolves once every transaction committed before the call is on disk — after a `deferred`
   * commit, what acts on it outside the database (an after-fetch action on the mail server) awaits
   * this first. SQLite: an fsync of the write-ahead log on libuv's thread pool (the callers that
   * come while one runs share the next); PostgreSQL, or a database in memory: at once, every
   * commit being durable already. Throws when the disk refuses (the commit may then be lost).
   */
  synced(): Promise<void>;
  /**
   * Runs `fn` where no statement is cut short by the client's query timeout: on PostgreSQL a pool
   * of its own, closed afterwards (a migration's index build on a large store takes many
   * minutes, and a timeout rolls the whole run back); on SQLite, or inside a transaction, here.
   */
  withoutQueryTimeout<T>(fn: (kysely: Kysely<DB>) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query; throws STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  /** Closes the connections. Not allowed inside a transaction. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_QUERY_TIMEOUT_MS = 120_000;
/** How much longer the PostgreSQL client waits than the server's statement timeout. */
const CLIENT_TIMEOUT_GRACE_MS = 1000;
/**
 * SQLite page size of a new database: 16 KiB rather than 4 KiB, because Postern's file is mostly
 * raw MIME and attachments — fewer overflow pages per blob and fewer, larger writes to the WAL
 * and at checkpoints (see the ingest breakdown in docs/PERFORMANCE.md).
 * @see https://www.sqlite.org/pragma.html#pragma_page_size
 */
const SQLITE_PAGE_SIZE = 16_384;
/** Prepared SQLite statements kept for reuse (kysely prepares every query afresh). */
const STATEMENT_CACHE_SIZE = 256;
const PG_INT8_OID = pg.types.builtins.INT8;

/**
 * Makes the database readable by its owner only, like the key file: creates the main file 0600
 * when it is missing (an empty file is a new database to SQLite) and tightens it, and any -wal or
 * -shm left by an older version, to 0600. SQLite creates the -wal and -shm with the main file's
 * mode, whatever the umask adds, so they follow.
 * @see https://www.sqlite.org/tempfiles.html (the -wal and -shm files)
 */
function restrictSqliteFiles(file: string): void {
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  for (const name of [file, `${file}-wal`, `${file}-shm`]) {
    if (fs.existsSync(name)) fs.chmodSync(name, 0o600);
  }
}

/**
 * Opens the database named by `url` (`sqlite:<path>` or `postgres://…`) and checks that it
 * answers. SQLite runs in WAL mode (synchronous=FULL: every commit is on disk before it returns,
 * but for `deferred` ones) with foreign keys on, a 5-second busy timeout, 16 KiB pages and
 * incremental auto-vacuum for a new file, prepared statements reused and checkpoints on a worker
 * thread (sqlite-checkpointer.ts).
 *
 * @throws PosternError CONFIG_INVALID for a URL it cannot read, STORE_UNAVAILABLE when the
 *   database cannot be opened or reached (the message never contains the password).
 * @see https://www.sqlite.org/wal.html
 * @see https://node-postgres.com/apis/pool
 */
export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  const location = parseDatabaseUrl(url);
  const displayUrl = redactDatabaseUrl(url);
  const clock = options.clock ?? (() => new Date());
  const { kysely, beforeClose, syncLog } =
    location.engine === 'sqlite'
      ? openSqlite(location.filename, displayUrl, options)
      : { kysely: openPostgres(location.connectionString, options), beforeClose: undefined, syncLog: undefined };
  const db = new KyselyDatabase(
    kysely,
    location.engine,
    displayUrl,
    clock,
    false,
    url,
    options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    new StoreHealth(),
    syncLog,
    beforeClose,
  );
  try {
    await db.ping();
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
  return db;
}

/**
 * A SQLite connection, what must finish before it closes (the checkpoint thread), and the fsync of
 * its write-ahead log (none in memory).
 */
interface OpenedSqlite {
  kysely: Kysely<DB>;
  beforeClose: (() => Promise<void>) | undefined;
  syncLog: (() => Promise<void>) | undefined;
}

function openSqlite(filename: string, displayUrl: string, options: OpenDatabaseOptions): OpenedSqlite {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    if (filename !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(filename)), { recursive: true, mode: 0o700 });
    if (filename !== ':memory:' && filename !== '') restrictSqliteFiles(path.resolve(filename));
    const database = new BetterSqlite3(filename, { timeout: timeoutMs });
    try {
      // Only a new file takes them (before its first table); an existing database keeps its own.
      database.pragma(`page_size = ${SQLITE_PAGE_SIZE}`);
      // Pages freed by deletions (the retention sweep's originals) can be given back to the file
      // system with `incremental_vacuum`; `postern vacuum` converts an older file.
      database.pragma('auto_vacuum = INCREMENTAL');
      database.pragma('journal_mode = WAL');
      // Explicit, whatever the build's default; ingest's deferred commits lower it for themselves alone:
      // see "Ingest speed and durability" in docs/ARCHITECTURE.md.
      database.pragma('synchronous = FULL');
      database.pragma('foreign_keys = ON');
      database.pragma(`busy_timeout = ${Math.trunc(timeoutMs)}`);
      // A message's subject as its search document holds it, for the trigger of migration 0037.
      database.function('postern_search_subject', { deterministic: true }, (subject: unknown) =>
        typeof subject === 'string' ? searchSubject(subject) : null,
      );
    } catch (error) {
      database.close();
      throw error;
    }
    const connection = withStatementCache(database, STATEMENT_CACHE_SIZE);
    const kysely = new Kysely<DB>({ dialect: new SqliteDialect({ database: connection }) });
    if (filename === ':memory:' || filename === '') return { kysely, beforeClose: undefined, syncLog: undefined };
    // Its thread ends before the main connection closes, which is then the last one and removes the WAL.
    const checkpointer = startCheckpointer(database, path.resolve(filename));
    const log = new LogSync(`${path.resolve(filename)}-wal`);
    return { kysely, beforeClose: () => checkpointer.stop(), syncLog: () => log.sync() };
  } catch (error) {
    throw new PosternError('STORE_UNAVAILABLE', {
      message: `Cannot open the SQLite database ${displayUrl}: ${describeError(error)}.`,
      remedy:
        'Check that the directory exists or can be created, that Postern may write there, and that the file is a SQLite database.',
      details: { engine: 'sqlite', url: displayUrl },
      cause: error,
    });
  }
}

/**
 * The SQLite connection as kysely sees it, with its prepared statements kept by SQL text and
 * reused — kysely asks better-sqlite3 to prepare every query again, which was about a sixth of
 * ingest's SQL time in a profile. Least recently used statements are dropped beyond `size`. A statement still busy
 * (a stream being read) is never handed out twice: a fresh one is prepared instead.
 *
 * @see https://github.com/WiseLibs/better-sqlite3/blob/master/docs/api.md#preparestring---statement
 */
export function withStatementCache(database: BetterSqlite3.Database, size: number): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare(text: string): SqliteStatement {
      const known = cache.get(text);
      if (known !== undefined && !known.busy) {
        // Re-inserted: the Map's order is the order of use.
        cache.delete(text);
        cache.set(text, known);
        return known;
      }
      const statement = database.prepare(text);
      if (known === undefined) {
        cache.set(text, statement);
        if (cache.size > size) {
          const oldest = cache.keys().next();
          if (oldest.done !== true) cache.delete(oldest.value);
        }
      }
      return statement;
    },
  };
}

function openPostgres(connectionString: string, options: OpenDatabaseOptions): Kysely<DB> {
  const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // The server gives up on the statement itself (57014): when only the client stopped waiting,
    // the statement ran on, holding its locks and a core. The client's own timer, a little later,
    // is for a server that does not answer at all. 0 sets neither.
    statement_timeout: queryTimeoutMs,
    query_timeout: queryTimeoutMs === 0 ? 0 : queryTimeoutMs + CLIENT_TIMEOUT_GRACE_MS,
    // A server that vanished without closing (a failover, a dropped network) is noticed on idle connections too.
    keepAlive: true,
    application_name: 'postern',
    // int8 (counts, UIDs, sizes) as numbers: every int8 Postern stores is below 2^53.
    types: {
      getTypeParser: (id, format): unknown => (id === PG_INT8_OID ? Number : pg.types.getTypeParser(id, format)),
    },
  });
  pool.on('error', (error) => options.onPoolError?.(error));
  // The pool listens for errors only on its idle connections. One lent out with no query running
  // (a transaction between two statements) that the server ends — a restart or a failover sends
  // FATAL 57P01 — would otherwise raise an unhandled 'error' event and end the process. Its holder
  // learns of it from its next statement, which fails at once; the pool then drops the connection.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

class KyselyDatabase implements Database {
  constructor(
    readonly kysely: Kysely<DB>,
    readonly engine: Engine,
    readonly displayUrl: string,
    private readonly clock: () => Date,
    readonly inTransaction: boolean,
    private readonly secretUrl: string,
    private readonly timeoutMs: number,
    readonly health: StoreHealth,
    /** SQLite in a file: syncs the write-ahead log (see `synced`). */
    private readonly syncLog: (() => Promise<void>) | undefined,
    /** Runs before the connections close (SQLite: waits for the checkpoint thread to end). */
    private readonly beforeClose?: () => Promise<void>,
  ) {
    // The URL may hold the password: keep it out of enumeration and so out of logs.
    Object.defineProperty(this, 'secretUrl', { enumerable: false });
  }

  now(): Date {
    return this.clock();
  }

  async transaction<T>(fn: (tx: Database) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.inTransaction) return fn(this);
    if (options.durability !== 'deferred' || this.engine !== 'sqlite') return this.run(this.kysely, fn);
    // The pragma is the connection's: set and reset while this transaction holds the connection,
    // so that no other transaction commits in between without waiting for the disk.
    return this.kysely.connection().execute(async (connection) => {
      await sql`pragma synchronous = NORMAL`.execute(connection);
      try {
        return await this.run(connection, fn);
      } finally {
        await sql`pragma synchronous = FULL`.execute(connection);
      }
    });
  }

  async synced(): Promise<void> {
    await this.syncLog?.();
  }

  private async run<T>(kysely: Kysely<DB>, fn: (tx: Database) => Promise<T>): Promise<T> {
    let failure: { readonly error: unknown } | undefined;
    try {
      return await kysely.transaction().execute(async (trx: Transaction<DB>) => {
        try {
          return await fn(this.bindTo(trx));
        } catch (error) {
          failure = { error };
          throw error;
        }
      });
    } catch (error) {
      // SQLite rolls a transaction back by itself on some failures (a full disk): the ROLLBACK that
      // follows then fails with "cannot rollback - no transaction is active". That second error
      // must not hide the first, which says what went wrong.
      if (failure !== undefined && error !== failure.error) throw failure.error;
      throw error;
    }
  }

  async withoutQueryTimeout<T>(fn: (kysely: Kysely<DB>) => Promise<T>): Promise<T> {
    if (this.engine === 'sqlite' || this.inTransaction) return fn(this.kysely);
    const location = parseDatabaseUrl(this.secretUrl);
    if (location.engine === 'sqlite') return fn(this.kysely);
    // 0: node-postgres sets no timer.
    const own = openPostgres(location.connectionString, { poolSize: 2, timeoutMs: this.timeoutMs, queryTimeoutMs: 0 });
    try {
      return await fn(own);
    } finally {
      await own.destroy();
    }
  }

  async ping(): Promise<void> {
    try {
      await withTimeout(sql`select 1`.execute(this.kysely), this.timeoutMs);
    } catch (error) {
      const what = this.engine === 'sqlite' ? 'open the SQLite database' : 'reach PostgreSQL at';
      throw new PosternError('STORE_UNAVAILABLE', {
        message: `Cannot ${what} ${this.displayUrl}: ${scrubPassword(describeError(error), this.secretUrl)}.`,
        details: { engine: this.engine, url: this.displayUrl },
        cause: sanitizedCause(error, this.secretUrl),
      });
    }
  }

  async close(): Promise<void> {
    if (this.inTransaction) throw new Error('A transaction cannot close the database');
    await this.beforeClose?.();
    await this.kysely.destroy();
  }

  private bindTo(trx: Transaction<DB>): Database {
    return new KyselyDatabase(
      trx,
      this.engine,
      this.displayUrl,
      this.clock,
      true,
      this.secretUrl,
      this.timeoutMs,
      this.health,
      this.syncLog,
    );
  }
}

/**
 * fsyncs of SQLite's write-ahead log, off the event loop. A call is answered by an fsync that
 * starts after it: while one runs, every caller that comes meanwhile shares the next one. A log
 * that is not there (the last connection removed it after a complete checkpoint, which synced the
 * database file) has nothing to sync.
 *
 * @see https://www.sqlite.org/pragma.html#pragma_synchronous (WAL mode with NORMAL)
 */
class LogSync {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly file: string) {}

  sync(): Promise<void> {
    if (this.running === undefined) return this.start();
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  private start(): Promise<void> {
    const running = syncFile(this.file).finally(() => {
      if (this.running === running) this.running = undefined;
    });
    this.running = running;
    return running;
  }
}

async function syncFile(file: string): Promise<void> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Rejects when `promise` has not settled within `ms` (a hung server must not hang /ready). */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A short, human description of a driver error: its code and message. */
function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeError(error.errors[0]);
  if (!(error instanceof Error)) return String(error);
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const message = error.message.trim() === '' ? 'no details' : error.message.trim();
  return code === undefined || message.includes(code) ? message : `${message} (${code})`;
}

/** The cause kept for the error log: the driver's message and code, with the password removed. */
function sanitizedCause(error: unknown, url: string): Error {
  const cause = new Error(scrubPassword(describeError(error), url));
  cause.name = error instanceof Error ? error.name : 'Error';
  return cause;
}
