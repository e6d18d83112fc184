import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, withStatementCache } from './database.js';

describe('openDatabase on SQLite', () => {
  const dirs: string[] = [];
  const tempFile = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-db-unit-'));
    dirs.push(dir);
    return path.join(dir, 'postern.db');
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const pragma = async (file: string, name: string): Promise<unknown> => {
    const db = await openDatabase(`sqlite:${file}`);
    try {
      const result = await sql.raw(`pragma ${name}`).execute(db.kysely);
      return Object.values(result.rows[0] ?? {})[0];
    } finally {
      await db.close();
    }
  };

  it('creates a new file with 16 KiB pages, in WAL mode, every commit synced (synchronous=FULL)', async () => {
    const file = tempFile();
    expect(await pragma(file, 'page_size')).toBe(16_384);
    expect(await pragma(file, 'journal_mode')).toBe('wal');
    expect(await pragma(file, 'synchronous')).toBe(2);
  });

  it('creates a new file with incremental auto-vacuum, which stays once tables exist; an older file keeps none', async () => {
    const file = tempFile();
    const db = await openDatabase(`sqlite:${file}`);
    await sql`create table t (id integer primary key)`.execute(db.kysely);
    await db.close();
    const reopened = new BetterSqlite3(file, { readonly: true });
    // 2 = INCREMENTAL: freed pages stay in the file until `pragma incremental_vacuum` gives them back.
    expect(reopened.pragma('auto_vacuum', { simple: true })).toBe(2);
    reopened.close();

    const older = tempFile();
    const existing = new BetterSqlite3(older);
    existing.exec('create table t (id integer primary key)');
    existing.close();
    expect(await pragma(older, 'auto_vacuum')).toBe(0);
  });

  const synchronous = async (db: Awaited<ReturnType<typeof openDatabase>>): Promise<unknown> =>
    (await sql<{ synchronous: number }>`pragma synchronous`.execute(db.kysely)).rows[0]?.synchronous;

  it('commits a deferred transaction without waiting for the disk, and only that one: the others queued meanwhile commit synced', async () => {
    const db = await openDatabase(`sqlite:${tempFile()}`);
    try {
      await sql`create table t (id integer primary key, at text)`.execute(db.kysely);
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      const seen: Array<[string, unknown]> = [];
      const deferred = db.transaction(
        async (tx) => {
          seen.push(['deferred', await synchronous(tx)]);
          await held;
          await sql`insert into t (at) values ('deferred')`.execute(tx.kysely);
        },
        { durability: 'deferred' },
      );
      // Asked for while the deferred one holds the connection: it runs after, with FULL again.
      const immediate = db.transaction(async (tx) => {
        seen.push(['immediate', await synchronous(tx)]);
        await sql`insert into t (at) values ('immediate')`.execute(tx.kysely);
      });
      const outside = synchronous(db).then((value) => seen.push(['outside', value]));
      await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      await Promise.all([deferred, immediate, outside]);
      expect(seen).toEqual([
        ['deferred', 1],
        ['immediate', 2],
        ['outside', 2],
      ]);
      expect(await synchronous(db)).toBe(2);
      const rows = await sql<{ at: string }>`select at from t order by id`.execute(db.kysely);
      expect(rows.rows.map((row) => row.at)).toEqual(['deferred', 'immediate']);
    } finally {
      await db.close();
    }
  });

  it('sets FULL again after a deferred transaction that fails, which is rolled back', async () => {
    const db = await openDatabase(`sqlite:${tempFile()}`);
    try {
      await sql`create table t (id integer primary key)`.execute(db.kysely);
      await expect(
        db.transaction(
          async (tx) => {
            await sql`insert into t default values`.execute(tx.kysely);
            throw new Error('refused');
          },
          { durability: 'deferred' },
        ),
      ).rejects.toThrow('refused');
      expect(await synchronous(db)).toBe(2);
      expect((await sql`select * from t`.execute(db.kysely)).rows).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('syncs the write-ahead log on request: callers that come while one fsync runs share the next one', async () => {
    const file = tempFile();
    const db = await openDatabase(`sqlite:${file}`);
    const opened = vi.spyOn(fs.promises, 'open');
    try {
      await db.transaction(async (tx) => void (await sql`create table t (id integer primary key)`.execute(tx.kysely)), {
        durability: 'deferred',
      });
      const first = db.synced();
      const later = [db.synced(), db.synced(), db.synced()];
      await Promise.all([first, ...later]);
      const logs = opened.mock.calls.filter(([name]) => name === `${file}-wal`);
      // The first fsync began before the three later calls: they need one of their own, shared.
      expect(logs).toHaveLength(2);
      await db.synced();
      expect(opened.mock.calls.filter(([name]) => name === `${file}-wal`)).toHaveLength(3);
    } finally {
      opened.mockRestore();
      await db.close();
    }
  });

  it('has nothing to sync in memory, nor once the log is gone', async () => {
    const memory = await openDatabase('sqlite::memory:');
    await expect(memory.synced()).resolves.toBeUndefined();
    await memory.close();
    const file = tempFile();
    const db = await openDatabase(`sqlite:${file}`);
    try {
      fs.rmSync(`${file}-wal`, { force: true });
      await expect(db.synced()).resolves.toBeUndefined();
    } finally {
      await db.close();
    }
  });

  it('leaves the page size of an existing database as it is', async () => {
    const file = tempFile();
    const existing = new BetterSqlite3(file);
    existing.exec('create table t (id integer primary key)');
    existing.close();
    expect(await pragma(file, 'page_size')).toBe(4096);
  });
});

describe('withStatementCache', () => {
  const opened: BetterSqlite3.Database[] = [];
  const open = (): BetterSqlite3.Database => {
    const database = new BetterSqlite3(':memory:');
    database.exec('create table t (id integer primary key, v text)');
    opened.push(database);
    return database;
  };
  afterEach(() => {
    for (const database of opened.splice(0)) if (database.open) database.close();
  });

  it('hands out the same prepared statement for the same SQL, and it still runs with new parameters', () => {
    const cached = withStatementCache(open(), 8);
    const insert = cached.prepare('insert into t (v) values (?)');
    expect(cached.prepare('insert into t (v) values (?)')).toBe(insert);
    insert.run(['a']);
    cached.prepare('insert into t (v) values (?)').run(['b']);
    expect(cached.prepare('select v from t order by id').all([])).toEqual([{ v: 'a' }, { v: 'b' }]);
  });

  it('forgets the least recently used statement beyond its size', () => {
    const cached = withStatementCache(open(), 2);
    const first = cached.prepare('select 1');
    const second = cached.prepare('select 2');
    // Using the first again makes the second the oldest.
    expect(cached.prepare('select 1')).toBe(first);
    cached.prepare('select 3');
    expect(cached.prepare('select 1')).toBe(first);
    expect(cached.prepare('select 2')).not.toBe(second);
  });

  it('never hands out a statement that is still being read', () => {
    const database = open();
    const cached = withStatementCache(database, 8);
    cached.prepare('insert into t (v) values (?)').run(['x']);
    cached.prepare('insert into t (v) values (?)').run(['y']);
    const reading = cached.prepare('select v from t order by id');
    const rows = reading.iterate([]);
    expect(rows.next().value).toEqual({ v: 'x' });
    const again = cached.prepare('select v from t order by id');
    expect(again).not.toBe(reading);
    expect(rows.next().value).toEqual({ v: 'y' });
    expect(rows.next().done).toBe(true);
    expect(again.all([])).toEqual([{ v: 'x' }, { v: 'y' }]);
  });

  it('closes the database', () => {
    const database = open();
    withStatementCache(database, 8).close();
    expect(database.open).toBe(false);
  });
});
