/**
 * Found by the fault soak (issue 16, point 7): PostgreSQL stopped (a fast shutdown, as a restart
 * or a failover does) while Postern had a connection lent out between two statements of a
 * transaction, and the process exited: the server's `FATAL 57P01 terminating connection due to
 * administrator command` reached a pg Client with no query running and no 'error' listener — the
 * pool listens only on its idle connections — and became an unhandled 'error' event. The
 * transaction must fail instead, the process carry on, and the store work again once the server
 * is back.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/store/index.js';
import { until } from '../helpers/until.js';
import { startOwnPostgres, type OwnPostgres } from './own-postgres.js';

let postgres: OwnPostgres;
let db: Database;
const uncaught: unknown[] = [];
const keep = (error: unknown): void => {
  uncaught.push(error);
};

beforeAll(async () => {
  postgres = await startOwnPostgres();
  db = await openDatabase(postgres.url, { timeoutMs: 2000 });
  process.on('uncaughtException', keep);
}, 60_000);
afterAll(async () => {
  process.removeListener('uncaughtException', keep);
  await postgres?.start().catch(() => undefined);
  await db?.close();
  await postgres?.remove();
});

describe('PostgreSQL stopping while a transaction holds its connection', () => {
  it('fails the transaction, keeps the process running, and works again after the restart', async () => {
    let entered = (): void => undefined;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let resume = (): void => undefined;
    const proceed = new Promise<void>((resolve) => (resume = resolve));
    const outcome = db
      .transaction(async (tx) => {
        await sql`select 1`.execute(tx.kysely);
        entered();
        // Between two statements: the connection is lent out and no query runs on it.
        await proceed;
        await sql`select 2`.execute(tx.kysely);
      })
      .then(
        () => 'committed',
        (error: unknown) => error,
      );
    await inside;
    await postgres.stop();
    resume();
    expect(await outcome).toBeInstanceOf(Error);
    expect(uncaught).toEqual([]);

    await postgres.start();
    await until('the store answering again', async () => {
      try {
        await sql`select 1`.execute(db.kysely);
        return true;
      } catch {
        return undefined;
      }
    });
    expect(uncaught).toEqual([]);
  });
});
