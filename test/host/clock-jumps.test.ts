/**
 * Issue 16, point 5: the wall clock jumping by hours (a suspend and resume, an NTP correction)
 * neither stalls nor storms the IMAP session's renewal: the session is renewed when its token's
 * remaining life says, measured on the monotonic clock. Back by five hours, the renewal used to
 * wait five hours more than the token lived; forward, it must not renew over and over.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, type Database } from '../../src/store/index.js';
import { CONTOSO, eventually, startMailEmulator, type MailEmulator } from '../imap/helpers.js';
import { accountOnFolder, buildSync } from '../imap/sync-helpers.js';

const HOURS_5 = 5 * 3_600_000;
let mail: MailEmulator;
let dir: string;
let db: Database;

beforeAll(async () => {
  mail = await startMailEmulator();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-clock-'));
  db = await openDatabase(`sqlite:${path.join(dir, 'postern.db')}`);
  await migrateToLatest(db);
});
afterAll(async () => {
  await db.close();
  await mail.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A sync whose wall clock the test moves, with tokens that must be renewed two seconds after each session opens. */
async function syncWithMovableClock(folder: string, key: string) {
  const account = await accountOnFolder(mail, db, folder, key);
  let offsetMs = 0;
  let tokens = 0;
  const clock = () => new Date(Date.now() + offsetMs);
  const under = buildSync(mail, db, account, {
    clock,
    accessToken: async () => {
      tokens += 1;
      const issued = await mail.token(CONTOSO.andrea);
      return { token: issued.token, expiresAt: new Date(clock().getTime() + 3000) };
    },
    tuning: { renewBeforeMs: 1000 },
  });
  return {
    under,
    tokens: () => tokens,
    jump: (ms: number) => {
      offsetMs += ms;
    },
  };
}

describe('a wall clock that jumps', () => {
  it('back by five hours: the session is still renewed when its token runs out', async () => {
    const { under, tokens, jump } = await syncWithMovableClock('JumpBack', 'JBK');
    under.sync.start();
    try {
      await eventually(() => under.sync.status.status === 'connected', 15_000, 'connected');
      const before = tokens();
      jump(-HOURS_5);
      await eventually(() => tokens() > before, 15_000, 'the session renewed despite the clock going back');
      await eventually(() => under.sync.status.status === 'connected', 15_000, 'connected again');
    } finally {
      await under.sync.stop();
    }
  });

  it('forward by five hours: one renewal, not a storm', async () => {
    const { under, tokens, jump } = await syncWithMovableClock('JumpFwd', 'JFW');
    under.sync.start();
    try {
      await eventually(() => under.sync.status.status === 'connected', 15_000, 'connected');
      const before = tokens();
      jump(HOURS_5);
      await eventually(() => tokens() > before, 15_000, 'renewed');
      const renewed = tokens();
      // Sessions live two seconds here: over the next session's life at most a couple more, not hundreds.
      await eventually(() => tokens() >= renewed + 1, 15_000, 'the next planned renewal');
      expect(tokens() - before).toBeLessThan(10);
      expect(under.statuses.filter((status) => status.status === 'error')).toEqual([]);
    } finally {
      await under.sync.stop();
    }
  });
});
