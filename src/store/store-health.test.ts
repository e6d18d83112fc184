import { describe, expect, it } from 'vitest';
import { readStorageFailure } from './sql-errors.js';
import { StoreHealth } from './store-health.js';

const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

describe('StoreHealth', () => {
  it('keeps each writer’s failure until that writer succeeds', () => {
    const health = new StoreHealth(() => 0);
    expect(health.failed(full, 'ingest')?.code).toBe('STORE_DISK_FULL');
    health.succeeded('requests');
    expect(health.current()?.code).toBe('STORE_DISK_FULL');
    health.succeeded('ingest');
    expect(health.current()).toBeUndefined();
  });

  it('records nothing for an error that is not a storage failure', () => {
    const health = new StoreHealth(() => 0);
    expect(health.failed(new Error('a bug'), 'outbox')).toBeUndefined();
    expect(health.current()).toBeUndefined();
  });

  it('forgets a report not made again within a minute, on its monotonic clock', () => {
    let now = 1000;
    const health = new StoreHealth(() => now);
    health.failed(full, 'outbox');
    now += 59_000;
    expect(health.current()).toMatchObject({ code: 'STORE_DISK_FULL', forMs: 59_000 });
    now += 1000;
    expect(health.current()).toBeUndefined();
  });
});

describe('readStorageFailure on node-postgres errors without a code', () => {
  it('calls a lost or timed-out connection unavailable, and nothing else', () => {
    for (const message of [
      'Connection terminated unexpectedly',
      'Query read timeout',
      'timeout exceeded when trying to connect',
      'Connection terminated due to connection timeout',
    ])
      expect(readStorageFailure(new Error(message))).toBe('unavailable');
    expect(readStorageFailure(new Error('syntax error at or near "selec"'))).toBeUndefined();
    // The server's statement timeout, which has a code.
    expect(
      readStorageFailure(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })),
    ).toBe('unavailable');
  });
});
