/**
 * Issue 16, point 2: a database that cannot write is reported as the database, never as the mail
 * server. SQLite's `max_page_count` makes the database "full" for real (SQLITE_FULL, the code a
 * full disk gives): the sync stops with the account in `error` / STORE_DISK_FULL and its remedy —
 * not an IMAP error, not "cannot rollback - no transaction is active" — and once the database can
 * grow again it resumes by itself and stores every message, each once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countAccountMessages, migrateToLatest, openDatabase, type Database } from '../../src/store/index.js';
import { eventually, startMailEmulator, type MailEmulator } from './helpers.js';
import { accountOnFolder, buildSync } from './sync-helpers.js';

const DEVELOPERS = 'developers@contoso.com';
let mail: MailEmulator;
let dir: string;
let db: Database;

beforeAll(async () => {
  mail = await startMailEmulator();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-db-full-'));
  db = await openDatabase(`sqlite:${path.join(dir, 'postern.db')}`);
  await migrateToLatest(db);
});
afterAll(async () => {
  await db.close();
  await mail.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function message(serial: number): string {
  return [
    'From: customer@example.org',
    `To: ${DEVELOPERS}`,
    `Subject: Large question ${serial}`,
    `Message-ID: <full${serial}.${Date.now()}@example.org>`,
    '',
    // 200 KB of text: far more than the few free pages the database is left with.
    ...Array.from({ length: 2500 }, (_, line) => `Line ${line} of message ${serial}: ${'x'.repeat(70)}`),
    '',
  ].join('\r\n');
}

describe('a database that cannot grow', () => {
  it('stops the sync with STORE_DISK_FULL and its remedy, then resumes by itself and stores every message once', async () => {
    const folder = 'Full';
    const account = await accountOnFolder(mail, db, folder, 'FULL');
    for (let serial = 1; serial <= 3; serial += 1) await mail.deliver(DEVELOPERS, message(serial), { folder });

    const pages = await sql<{ page_count: number }>`pragma page_count`.execute(db.kysely);
    const used = pages.rows[0]?.page_count ?? 0;
    await sql.raw(`pragma max_page_count = ${used + 8}`).execute(db.kysely);

    const under = buildSync(mail, db, account);
    under.sync.start();
    try {
      await eventually(
        () => under.statuses.some((status) => status.error?.code === 'STORE_DISK_FULL'),
        15_000,
        'the full database reported',
      );
      const full = under.statuses.find((status) => status.error?.code === 'STORE_DISK_FULL');
      expect(full?.status).toBe('error');
      expect(full?.error?.remedy).toContain('Free space');
      expect(under.statuses.filter((status) => status.error?.code.startsWith('IMAP_') === true)).toEqual([]);
      expect(await countAccountMessages(db, account.id)).toBe(0);

      await sql.raw('pragma max_page_count = 1073741823').execute(db.kysely);
      await eventually(async () => (await countAccountMessages(db, account.id)) === 3, 15_000, 'all three stored');
      await eventually(() => under.sync.status.status === 'connected', 10_000, 'connected again');
    } finally {
      await under.sync.stop();
    }
    const rows = await db.kysely.selectFrom('messages').select(['uid']).where('account_id', '=', account.id).execute();
    expect(new Set(rows.map((row) => row.uid)).size).toBe(3);
  });
});
