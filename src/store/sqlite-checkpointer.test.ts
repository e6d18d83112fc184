import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startCheckpointer, type SqliteCheckpointer } from './sqlite-checkpointer.js';

const opened: Array<{ db: BetterSqlite3.Database; checkpointer: SqliteCheckpointer; dir: string }> = [];

function open(options: { driver?: string } = {}): {
  db: BetterSqlite3.Database;
  checkpointer: SqliteCheckpointer;
  file: string;
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-checkpointer-'));
  const file = path.join(dir, 'test.db');
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.exec('create table blobs (id integer primary key, body blob not null)');
  const checkpointer = startCheckpointer(db, file, { triggerBytes: 256 * 1024, pollMs: 20, ...options });
  opened.push({ db, checkpointer, dir });
  return { db, checkpointer, file };
}

function write(db: BetterSqlite3.Database, count: number, bytes: number): void {
  const insert = db.prepare('insert into blobs (body) values (?)');
  for (let i = 0; i < count; i++) db.transaction(() => insert.run(Buffer.alloc(bytes, i % 251)))();
}

afterEach(async () => {
  for (const { db, checkpointer, dir } of opened.splice(0)) {
    await checkpointer.stop();
    if (db.open) db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe('startCheckpointer', () => {
  it('leaves a small WAL alone: no thread is started', async () => {
    const { db, checkpointer } = open();
    write(db, 3, 1000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(checkpointer.stats()).toMatchObject({ started: false, checkpoints: 0 });
  });

  it('checkpoints a grown WAL on its worker, the main connection keeping only a far larger safety net', async () => {
    const { db, checkpointer, file } = open();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(8192);
    const done = checkpointer.nextCheckpoint();
    write(db, 40, 64 * 1024);
    await done;
    expect(checkpointer.stats()).toMatchObject({ started: true, lastError: null });
    expect(checkpointer.stats().checkpoints).toBeGreaterThanOrEqual(1);
    // Another connection reads every row from the database file alone once the WAL is gone: the
    // thread's connection is closed once stop() resolves, so the main one closes last.
    await checkpointer.stop();
    db.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    const reader = new BetterSqlite3(file, { readonly: true });
    try {
      expect(reader.prepare('select count(*) as n, sum(length(body)) as bytes from blobs').get()).toEqual({
        n: 40,
        bytes: 40 * 64 * 1024,
      });
    } finally {
      reader.close();
    }
  });

  it('backfills what was committed while writes go on', async () => {
    const { db, checkpointer } = open();
    write(db, 20, 64 * 1024);
    await checkpointer.nextCheckpoint();
    write(db, 20, 64 * 1024);
    await checkpointer.nextCheckpoint();
    // A passive checkpoint from the main connection finds nothing left to copy.
    const [state] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    expect(state?.log).toBe(state?.checkpointed);
    expect(db.prepare('select count(*) as n from blobs').get()).toEqual({ n: 40 });
  });

  it('falls back to SQLite checkpointing on the main connection when its thread cannot run', async () => {
    const { db, checkpointer } = open({ driver: '/nonexistent/better-sqlite3.js' });
    write(db, 20, 64 * 1024);
    for (let i = 0; i < 100 && checkpointer.stats().lastError === null; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(checkpointer.stats().lastError).toMatch(/Cannot find module/);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    write(db, 5, 1000);
    expect(db.prepare('select count(*) as n from blobs').get()).toEqual({ n: 25 });
  });
});
