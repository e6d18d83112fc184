import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { withStatementCache } from './database.js';

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
