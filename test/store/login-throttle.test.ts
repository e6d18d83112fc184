/**
 * The per-username sign-in backoff's counter, on each engine: attempts counted before the
 * password is checked, a lock that refuses without counting, concurrent attempts from several
 * connections (nodes) that cannot all slip past the limit, forgetting and pruning.
 */
import { expect, it } from 'vitest';
import {
  claimLoginAttempt,
  clearLoginFailures,
  pruneLoginFailures,
  type LoginAttemptPolicy,
} from '../../src/store/login-throttle.js';
import { openDatabase, type Database } from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';

const T0 = new Date('2026-03-01T12:00:00.000Z');

/** Five free failures, then a lock of one minute. */
function policy(now: Date): LoginAttemptPolicy {
  return {
    forgetBefore: new Date(now.getTime() - 86_400_000),
    lockUntil: (failures) => (failures >= 5 ? new Date(now.getTime() + 60_000) : null),
  };
}

forEachEngine((engine, openFresh) => {
  it('counts attempts, locks at the fifth, refuses without counting, and counts again after the lock', async () => {
    let now = T0;
    const db = await openFresh({ clock: () => now });
    const claims = [];
    for (let i = 0; i < 7; i += 1) claims.push(await claimLoginAttempt(db, 'ada', policy(now)));
    expect(claims.slice(0, 5).map((c) => c.allowed && c.failures)).toEqual([1, 2, 3, 4, 5]);
    expect(claims.slice(5)).toEqual([
      { allowed: false, retryAt: new Date(T0.getTime() + 60_000) },
      { allowed: false, retryAt: new Date(T0.getTime() + 60_000) },
    ]);
    expect(await claimLoginAttempt(db, 'other', policy(now))).toEqual({ allowed: true, failures: 1 });
    now = new Date(T0.getTime() + 60_000);
    expect(await claimLoginAttempt(db, 'ada', policy(now))).toEqual({ allowed: true, failures: 6 });
    await clearLoginFailures(db, 'ada');
    expect(await claimLoginAttempt(db, 'ada', policy(now))).toEqual({ allowed: true, failures: 1 });
  });

  it('forgets failures older than a day', async () => {
    let now = T0;
    const db = await openFresh({ clock: () => now });
    for (let i = 0; i < 3; i += 1) await claimLoginAttempt(db, 'lee', policy(now));
    now = new Date(T0.getTime() + 2 * 86_400_000);
    expect(await claimLoginAttempt(db, 'lee', policy(now))).toEqual({ allowed: true, failures: 1 });
    expect(await pruneLoginFailures(db, new Date(now.getTime() - 1000))).toBe(0);
    expect(await pruneLoginFailures(db, new Date(now.getTime() + 1000))).toBe(1);
  });

  // Several nodes share PostgreSQL; an embedded SQLite file has one process, one connection.
  it('lets exactly five of forty concurrent attempts through', async () => {
    const db = await openFresh({ clock: () => T0 });
    const second: Database = engine === 'postgres' ? await openDatabase(db.url, { clock: () => T0 }) : db;
    try {
      const claims = await Promise.all(
        Array.from({ length: 40 }, (_, i) => claimLoginAttempt(i % 2 === 0 ? db : second, 'sam', policy(T0))),
      );
      expect(claims.filter((c) => c.allowed)).toHaveLength(5);
    } finally {
      if (second !== db) await second.close();
    }
  });
});
