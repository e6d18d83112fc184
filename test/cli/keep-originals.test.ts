/**
 * Issue 19, point 5 on the command line: `postern accounts keep-originals KEY DAYS|forever` sets
 * the account's "Keep originals for", `accounts show` says it, and 0 days or a word other than
 * `forever` is refused with the schema's problem — as is `accounts add --keep-originals 0`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { createEmailAccount, getEmailAccount, setEmailAccountPassword } from '../../src/store/index.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { runCliAsync as runCli } from '../helpers/cli.js';

let env: Record<string, string>;
let dataDir: string;
let accountId: number;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-cli-keep-'));
  const key = crypto.randomBytes(32);
  env = { POSTERN_DATA_DIR: dataDir, POSTERN_SECRET_KEY: key.toString('hex') };
  expect((await runCli(['migrate'], env)).status).toBe(0);
  const db = await openDatabase(`sqlite:${path.join(dataDir, 'postern.db')}`);
  try {
    // An account of another IMAP server, signing in with a password (no Cloud Provider needed).
    accountId = (
      await createEmailAccount(db, {
        name: 'Support',
        key: 'SUP',
        emailAddress: 'support@contoso.com',
        username: 'support@contoso.com',
        service: 'imap',
        modernAuth: false,
        imapHost: '127.0.0.1',
      })
    ).id;
    await setEmailAccountPassword(db, new SecretBox(key), accountId, 'a mailbox password');
  } finally {
    await db.close();
  }
}, 60_000);
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

async function storedDays(): Promise<number | null | undefined> {
  const db = await openDatabase(`sqlite:${path.join(dataDir, 'postern.db')}`);
  try {
    return (await getEmailAccount(db, accountId))?.rawRetentionDays;
  } finally {
    await db.close();
  }
}

describe('postern accounts keep-originals', { timeout: 120_000 }, () => {
  it('sets the days and forever, shows them, and refuses 0 and a word', async () => {
    const set = await runCli(['accounts', 'keep-originals', 'sup', '30'], env);
    expect(set.stdout, set.stderr).toContain('Email account SUP keeps originals 30 days');
    expect(await storedDays()).toBe(30);
    expect((await runCli(['accounts', 'show', 'SUP'], env)).stdout).toMatch(
      /keep originals +30 days \(then the raw MIME/,
    );

    const zero = await runCli(['accounts', 'keep-originals', 'SUP', '0'], env);
    expect(zero.status).not.toBe(0);
    expect(zero.stderr).toContain('must be at least 1 day');
    const word = await runCli(['accounts', 'keep-originals', 'SUP', 'always'], env);
    expect(word.status).not.toBe(0);
    expect(word.stderr).toContain('must be a whole number of days');
    expect(await storedDays()).toBe(30);

    const forever = await runCli(['accounts', 'keep-originals', 'SUP', 'forever'], env);
    expect(forever.stdout, forever.stderr).toContain('keeps originals for ever');
    expect(await storedDays()).toBeNull();

    const add = await runCli(
      ['accounts', 'add', '--name', 'Sales', '--key', 'SAL', '--email', 'sales@contoso.com', '--keep-originals', '0'],
      env,
    );
    expect(add.status).not.toBe(0);
    expect(add.stderr).toContain('must be at least 1 day');
  });
});
