/**
 * `postern logs` in-process: the command reads the day files of the configured log directory,
 * keeps the lines about one account (by key, and by id through the database), errors only, or
 * since a time, and prints them for a terminal or as written.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerLogsCommand } from '../../src/cli/commands/logs.js';
import { createLogger } from '../../src/log/index.js';
import { createEmailAccount, migrateToLatest, openDatabase } from '../../src/store/index.js';

let dataDir: string;
let accountId: number;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-logs-command-'));
  const db = await openDatabase(`sqlite:${path.join(dataDir, 'postern.db')}`);
  await migrateToLatest(db);
  accountId = (
    await createEmailAccount(db, {
      name: 'Developers',
      key: 'DEV',
      emailAddress: 'developers@contoso.com',
      username: 'developers@contoso.com',
    })
  ).id;
  await db.close();
  let now = new Date('2026-01-01T10:00:00Z');
  const { logger, close } = createLogger({ level: 'debug', dir: path.join(dataDir, 'logs'), clock: () => now });
  logger.child({ component: 'mailbox', accountId, key: 'DEV' }).info('IMAP session open');
  logger.child({ component: 'delivery' }).info({ accountId, messageId: 5 }, 'message sent');
  logger.child({ component: 'mailbox', accountId: accountId + 1, key: 'SALES' }).warn('throttled');
  now = new Date('2026-01-02T09:00:00Z');
  logger.child({ component: 'mailbox', accountId, key: 'DEV' }).error({ code: 'IMAP_NOT_CONNECTED' }, 'not connected');
  close();
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

async function logs(...args: string[]): Promise<string[]> {
  vi.stubEnv('POSTERN_DATA_DIR', dataDir);
  vi.stubEnv('POSTERN_LOG_CONSOLE', 'false');
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const program = new Command('postern').exitOverride();
  registerLogsCommand(program);
  await program.parseAsync(['node', 'postern', 'logs', ...args]);
  vi.mocked(process.stdout.write).mockRestore();
  return out
    .join('')
    .split('\n')
    .filter((line) => line !== '');
}

describe('postern logs', () => {
  it('prints every line of the combined files, oldest first, for a terminal', async () => {
    const lines = await logs();
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe(`2026-01-01T10:00:00.000Z INFO  mailbox [DEV#${accountId}] IMAP session open`);
    expect(lines[3]).toContain('ERROR mailbox [DEV#');
    expect(lines[3]).toContain('not connected  code=IMAP_NOT_CONNECTED');
  });

  it('keeps the lines about one account, by its key or by its id', async () => {
    const lines = await logs('--account', 'dev');
    expect(lines.map((line) => line.split(/\s+/).slice(3).join(' '))).toEqual([
      `[DEV#${accountId}] IMAP session open`,
      `[#${accountId}] message sent messageId=5`,
      `[DEV#${accountId}] not connected code=IMAP_NOT_CONNECTED`,
    ]);
  });

  it('reads the error files, filters by time and level, and prints JSON as written', async () => {
    const errors = await logs('--errors', '--json');
    expect(errors).toHaveLength(1);
    expect(JSON.parse(errors[0] ?? '{}')).toMatchObject({ msg: 'not connected', key: 'DEV', accountId });
    expect(await logs('--since', '2026-01-02')).toHaveLength(1);
    expect((await logs('--level', 'warn')).map((line) => line.split(' ')[1])).toEqual(['WARN', 'ERROR']);
  });

  it('refuses a --since it cannot read', async () => {
    await expect(logs('--since', 'last tuesday')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
