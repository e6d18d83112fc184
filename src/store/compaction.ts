/**
 * `postern vacuum`: gives the space of deleted rows back to the file system.
 *
 * SQLite keeps freed pages inside its file. A file made since the retention release has incremental
 * auto-vacuum, and the retention sweep gives pages back as it drops originals; an older file has
 * none, so its size never goes down. Compacting rewrites it once with `VACUUM` and switches it to
 * incremental auto-vacuum on the way (the mode of an existing file changes only through a VACUUM).
 * The rewrite needs free space about the size of the file next to it, and the database to itself:
 * the caller checks that no other Postern process is running, and this checks the disk.
 *
 * PostgreSQL reuses the space of deleted rows by itself (autovacuum); compacting there runs a
 * plain `VACUUM (ANALYZE)` at once — never `VACUUM FULL`, which locks every table while it copies.
 *
 * @see https://www.sqlite.org/lang_vacuum.html
 * @see https://www.sqlite.org/pragma.html#pragma_auto_vacuum
 * @see https://www.postgresql.org/docs/current/sql-vacuum.html
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { PosternError } from '../errors/index.js';
import type { Database } from './database.js';
import { sqliteAutoVacuum } from './message-retention.js';

/** What compacting did: sizes in bytes (the SQLite file with its WAL; PostgreSQL's database). */
export interface Compaction {
  readonly engine: 'sqlite' | 'postgres';
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** SQLite: the file had no incremental auto-vacuum before, and has it now. */
  readonly converted: boolean;
}

export interface CompactOptions {
  /** SQLite: the database file (its WAL is counted with it). */
  readonly sqliteFile?: string;
  /** Bytes free for an unprivileged user on the file system of `dir`; default `statfs`. */
  readonly freeBytes?: (dir: string) => number;
}

/** Free space the rewrite needs beside the file, over the file's own size. */
const HEADROOM = 1.1;

/**
 * @throws PosternError STORE_VACUUM_REFUSED when the disk has too little free space for the
 *   rewrite, or another connection holds the SQLite file.
 */
export async function compactDatabase(db: Database, options: CompactOptions = {}): Promise<Compaction> {
  if (db.engine === 'postgres') {
    const before = await postgresBytes(db);
    await sql`vacuum (analyze)`.execute(db.kysely);
    return { engine: 'postgres', bytesBefore: before, bytesAfter: await postgresBytes(db), converted: false };
  }
  const file = options.sqliteFile;
  if (file === undefined) throw new PosternError('INTERNAL', { message: 'compacting SQLite needs its file' });
  const before = sqliteBytes(file);
  const free = (options.freeBytes ?? freeBytesOf)(path.dirname(file));
  const needed = Math.ceil(before * HEADROOM);
  if (free < needed) {
    throw new PosternError('STORE_VACUUM_REFUSED', {
      message: `Compacting ${path.basename(file)} (${mebibytes(before)}) needs about ${mebibytes(needed)} free on its disk; ${mebibytes(free)} is free.`,
      details: { file, bytes: before, freeBytes: free },
    });
  }
  const wasIncremental = (await sqliteAutoVacuum(db)) === 2;
  try {
    await sql.raw('pragma auto_vacuum = INCREMENTAL').execute(db.kysely);
    await sql.raw('vacuum').execute(db.kysely);
    await sql.raw('pragma wal_checkpoint(TRUNCATE)').execute(db.kysely);
  } catch (error) {
    if (!isSqliteBusy(error)) throw error;
    throw new PosternError('STORE_VACUUM_REFUSED', {
      message: `Compacting ${path.basename(file)} was refused: another connection is using the database.`,
      details: { file },
    });
  }
  return {
    engine: 'sqlite',
    bytesBefore: before,
    bytesAfter: sqliteBytes(file),
    converted: !wasIncremental && (await sqliteAutoVacuum(db)) === 2,
  };
}

function sqliteBytes(file: string): number {
  const size = (name: string): number => {
    try {
      return fs.statSync(name).size;
    } catch {
      return 0;
    }
  };
  return size(file) + size(`${file}-wal`);
}

function freeBytesOf(dir: string): number {
  const stats = fs.statfsSync(dir);
  return stats.bavail * stats.bsize;
}

async function postgresBytes(db: Database): Promise<number> {
  const { rows } = await sql<{ bytes: string }>`select pg_database_size(current_database())::text as bytes`.execute(
    db.kysely,
  );
  return Number(rows[0]?.bytes ?? 0);
}

function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
