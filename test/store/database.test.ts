import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { isPosternError } from '../../src/errors/index.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { createList, getList } from '../../src/store/lists.js';
import { forEachEngine } from '../helpers/store.js';

forEachEngine((engine, openFresh) => {
  let db: Database;
  beforeAll(async () => {
    db = await openFresh({ clock: () => new Date('2026-03-01T10:00:00.000Z') });
  });

  it('reports its engine and answers ping', async () => {
    expect(db.engine).toBe(engine);
    await expect(db.ping()).resolves.toBeUndefined();
  });

  it('commits a transaction that resolves', async () => {
    const id = await db.transaction(async (tx) => (await createList(tx, { name: 'committed' })).id);
    expect((await getList(db, id))?.name).toBe('committed');
  });

  it('rolls a transaction back when it throws, and rethrows the error', async () => {
    let createdId = 0;
    const failure = new Error('stop here');
    await expect(
      db.transaction(async (tx) => {
        createdId = (await createList(tx, { name: 'rolled back' })).id;
        expect(tx.inTransaction).toBe(true);
        expect(await getList(tx, createdId)).toBeDefined();
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(createdId).toBeGreaterThan(0);
    expect(await getList(db, createdId)).toBeUndefined();
  });

  it('joins the running transaction when nested, so an inner failure undoes the outer work', async () => {
    await expect(
      db.transaction(async (outer) => {
        await createList(outer, { name: 'outer' });
        await outer.transaction(async (inner) => {
          expect(inner).toBe(outer);
          await createList(inner, { name: 'inner' });
          throw new Error('inner failed');
        });
      }),
    ).rejects.toThrow('inner failed');
    const names = await db.kysely.selectFrom('lists').select('name').where('name', 'in', ['outer', 'inner']).execute();
    expect(names).toEqual([]);
  });

  it('stamps rows with the injected clock', async () => {
    const list = await createList(db, { name: 'clocked' });
    expect(list.createdAt).toBe('2026-03-01T10:00:00.000Z');
  });

  it('returns a plain number for counts', async () => {
    const row = await db.kysely
      .selectFrom('lists')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(typeof row.n).toBe('number');
  });

  if (engine === 'sqlite') {
    it('runs SQLite in WAL mode with foreign keys on and a busy timeout', async () => {
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db.kysely);
      const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db.kysely);
      const busy = await sql<{ timeout: number }>`pragma busy_timeout`.execute(db.kysely);
      expect(mode.rows[0]?.journal_mode).toBe('wal');
      expect(fk.rows[0]?.foreign_keys).toBe(1);
      expect(busy.rows[0]?.timeout).toBe(5000);
    });
  }

  it('refuses a row whose foreign key points nowhere', async () => {
    const now = new Date().toISOString();
    await expect(
      db.kysely
        .insertInto('contacts')
        .values({ list_id: 999_999, name: 'orphan', created_at: now, updated_at: now })
        .execute(),
    ).rejects.toThrow();
  });
});

describe('opening failures', () => {
  it('turns an unreachable PostgreSQL into STORE_UNAVAILABLE without the password', async () => {
    const port = await closedPort();
    const error = await openDatabase(`postgres://postern:hunter2-secret@127.0.0.1:${port}/postern`, {
      timeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(isPosternError(error, 'STORE_UNAVAILABLE')).toBe(true);
    const text = isPosternError(error) ? `${error.message} ${JSON.stringify(error)} ${String(error.cause)}` : '';
    expect(text).toContain(`127.0.0.1:${port}`);
    expect(text).toContain('ECONNREFUSED');
    expect(text).not.toContain('hunter2-secret');
  });

  it('gives up on a server that accepts connections but never answers', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    try {
      if (address === null || typeof address !== 'object') throw new Error('no port');
      const started = Date.now();
      const error = await openDatabase(`postgres://u:p@127.0.0.1:${address.port}/x`, { timeoutMs: 300 }).catch(
        (e: unknown) => e,
      );
      expect(isPosternError(error, 'STORE_UNAVAILABLE')).toBe(true);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  });

  it('turns a wrong PostgreSQL password into STORE_UNAVAILABLE without the password', async () => {
    const url = new URL(inject('postgresAdminUrl'));
    url.password = 'wrong-hunter2';
    const error = await openDatabase(url.toString()).catch((e: unknown) => e);
    expect(isPosternError(error, 'STORE_UNAVAILABLE')).toBe(true);
    expect(isPosternError(error) && error.message).toMatch(/password authentication failed/);
    expect(isPosternError(error) && `${error.message}${String(error.cause)}`).not.toContain('wrong-hunter2');
  });

  it('turns an unusable SQLite path into STORE_UNAVAILABLE', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-bad-sqlite-'));
    try {
      const notADatabase = path.join(dir, 'garbage.db');
      fs.writeFileSync(notADatabase, 'this is not a SQLite database, it is just text that is long enough'.repeat(20));
      const error = await openDatabase(`sqlite:${notADatabase}`).catch((e: unknown) => e);
      expect(isPosternError(error, 'STORE_UNAVAILABLE')).toBe(true);
      expect(isPosternError(error) && error.message).toContain(notADatabase);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creates the directory of a new SQLite file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-new-sqlite-'));
    try {
      const db = await openDatabase(`sqlite:${path.join(dir, 'a', 'b', 'postern.db')}`);
      await db.close();
      expect(fs.existsSync(path.join(dir, 'a', 'b', 'postern.db'))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return address.port;
}
