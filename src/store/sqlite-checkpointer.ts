/**
 * WAL checkpoints of the embedded SQLite database, off the event loop.
 *
 * In WAL mode every commit appends pages to the `-wal` file; a checkpoint copies them back into
 * the database file and syncs it. SQLite's automatic checkpoint runs inside the commit that
 * crosses 1,000 pages, on the connection that commits — better-sqlite3 is synchronous, so that
 * copy (megabytes of MIME when mail is being ingested) and its fsync held up the whole process:
 * every IDLE session, every API request. Here a worker thread with a connection of its own runs
 * `PRAGMA wal_checkpoint(PASSIVE)` whenever the WAL has grown, which never waits for readers or
 * writers, so the main connection only appends. The main connection keeps an automatic checkpoint
 * at a much larger size as a safety net (the worker gone, a checkpoint that cannot keep up).
 *
 * The worker starts the first time the WAL passes {@link CHECKPOINT_TRIGGER_BYTES} — a database
 * that stays small (tests, a quiet installation) never starts a thread — and opens its connection
 * only for the length of one checkpoint, closing it before it answers. `stop()` resolves once the
 * thread has exited, so the main connection is the last one to close: SQLite then checkpoints
 * everything and deletes the `-wal` file, which it does only when no other connection is open.
 *
 * @see https://www.sqlite.org/wal.html#checkpointing
 * @see https://www.sqlite.org/pragma.html#pragma_wal_checkpoint
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/** A WAL this large (bytes) that has changed since the last checkpoint is checkpointed. */
const CHECKPOINT_TRIGGER_BYTES = 4 * 1024 * 1024;
/** How often the WAL's size is looked at (one `stat`). */
const POLL_MS = 250;
/** The main connection's own automatic checkpoint, in pages: only when the worker falls far behind. */
const SAFETY_NET_PAGES = 8192;
/** SQLite's default automatic checkpoint, restored when the worker cannot run. */
const SQLITE_DEFAULT_PAGES = 1000;
/** A WAL reset after a complete checkpoint is truncated to this size (bytes). */
const JOURNAL_SIZE_LIMIT = 16 * 1024 * 1024;

/**
 * The worker's code (CommonJS, evaluated): one passive checkpoint per request, on a connection
 * closed before the answer is posted; "stop" ends the thread. Messages are handled in order, so a
 * "stop" always comes after the checkpoint in flight has closed its connection.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
parentPort.on('message', (request) => {
  if (request === 'stop') process.exit(0);
  let db;
  let reply;
  try {
    db = new Database(workerData.filename, { fileMustExist: true, timeout: 0 });
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    reply = { ok: true, result };
  } catch (error) {
    reply = { ok: false, error: String(error && error.message || error) };
  } finally {
    if (db !== undefined) db.close();
  }
  parentPort.postMessage(reply);
});
`;

/** What a running checkpointer reports, for tests and diagnostics. */
export interface CheckpointerStats {
  /** Checkpoints the worker completed. */
  readonly checkpoints: number;
  /** True once the worker thread has been started. */
  readonly started: boolean;
  /** The last error the worker reported, if any. */
  readonly lastError: string | null;
}

/** A background checkpointer bound to one database file. */
export interface SqliteCheckpointer {
  stats(): CheckpointerStats;
  /** Resolves after the next checkpoint the worker completes (tests). */
  nextCheckpoint(): Promise<void>;
  /**
   * Stops polling and ends the worker; resolves once its thread has exited, and with it the
   * connection of a checkpoint in flight. Call it, and wait, before closing the main connection.
   */
  stop(): Promise<void>;
}

/** Options of {@link startCheckpointer} (tests shorten the poll and lower the trigger). */
export interface CheckpointerOptions {
  readonly triggerBytes?: number;
  readonly pollMs?: number;
  /** The module the worker opens the database with; default better-sqlite3. */
  readonly driver?: string;
}

/**
 * Takes over the checkpoints of `database` (a WAL-mode connection on `filename`). The caller
 * calls `stop()` before closing the connection.
 */
export function startCheckpointer(
  database: BetterSqlite3.Database,
  filename: string,
  options: CheckpointerOptions = {},
): SqliteCheckpointer {
  const triggerBytes = options.triggerBytes ?? CHECKPOINT_TRIGGER_BYTES;
  const walFile = `${filename}-wal`;
  database.pragma(`wal_autocheckpoint = ${SAFETY_NET_PAGES}`);
  database.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);

  let worker: Worker | undefined;
  let workerExited: Promise<void> = Promise.resolve();
  let stopping: Promise<void> | undefined;
  let started = false;
  let failed = false;
  let inFlight = false;
  let lastSeen = -1;
  let checkpoints = 0;
  let lastError: string | null = null;
  let waiters: Array<() => void> = [];

  /** The worker cannot run: SQLite checkpoints on the main connection again, as by default. */
  const fallBack = (reason: string): void => {
    failed = true;
    lastError = reason;
    inFlight = false;
    worker = undefined;
    try {
      if (database.open) database.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_PAGES}`);
    } catch {
      // The connection is closing: nothing left to checkpoint for.
    }
  };

  const startWorker = (): Worker | undefined => {
    try {
      const driver = options.driver ?? createRequire(import.meta.url).resolve('better-sqlite3');
      const thread = new Worker(WORKER_SOURCE, { eval: true, workerData: { filename, driver } });
      started = true;
      workerExited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
      thread.unref();
      thread.on('message', (reply: unknown) => {
        inFlight = false;
        if (typeof reply === 'object' && reply !== null && 'ok' in reply && reply.ok === true) {
          checkpoints += 1;
          lastError = null;
        } else {
          lastError =
            typeof reply === 'object' && reply !== null && 'error' in reply ? String(reply.error) : 'no answer';
        }
        const done = waiters;
        waiters = [];
        for (const resolve of done) resolve();
      });
      thread.on('error', (error) => fallBack(error.message));
      thread.on('exit', (code) => {
        if (worker === thread) fallBack(`the checkpoint thread exited with code ${code}`);
      });
      return thread;
    } catch (error) {
      fallBack(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  };

  const poll = (): void => {
    if (failed || inFlight) return;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(walFile);
    } catch {
      return; // No WAL yet, or it was just removed.
    }
    const seen = stat.mtimeMs + stat.size;
    if (stat.size < triggerBytes || seen === lastSeen) return;
    lastSeen = seen;
    worker ??= startWorker();
    if (worker === undefined) return;
    inFlight = true;
    worker.postMessage('checkpoint');
  };

  const timer = setInterval(poll, options.pollMs ?? POLL_MS);
  timer.unref();

  return {
    stats: () => ({ checkpoints, started, lastError }),
    nextCheckpoint: () => new Promise<void>((resolve) => waiters.push(resolve)),
    stop() {
      stopping ??= (async () => {
        clearInterval(timer);
        const ending = worker;
        worker = undefined;
        failed = true;
        const done = waiters;
        waiters = [];
        for (const resolve of done) resolve();
        if (ending !== undefined) {
          // Referenced again: a process with nothing else to do still waits for the thread's end.
          ending.ref();
          ending.postMessage('stop');
        }
        // Also covers a thread that failed and is still ending on its own.
        await workerExited;
      })();
      return stopping;
    },
  };
}
