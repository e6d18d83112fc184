/**
 * `postern vacuum` on a SQLite file made before incremental auto-vacuum: the space of deleted rows
 * goes back to the disk and the file gives it back by itself from then on; while another Postern
 * process runs on the database it is refused, naming that process, and nothing changes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { deleteNode, registerNode } from '../../src/store/nodes.js';
import { runCliAsync as runCli } from '../helpers/cli.js';

let env: Record<string, string>;
let dataDir: string;
let file: string;

const size = (): number =>
  fs.statSync(file).size + (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0);

function autoVacuum(): number {
  const raw = new BetterSqlite3(file, { readonly: true });
  try {
    return Number(raw.pragma('auto_vacuum', { simple: true }));
  } finally {
    raw.close();
  }
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-cli-vacuum-'));
  file = path.join(dataDir, 'postern.db');
  env = { POSTERN_DATA_DIR: dataDir, POSTERN_SECRET_KEY: crypto.randomBytes(32).toString('hex') };
  // A file as releases before incremental auto-vacuum made it: mode NONE, then the schema.
  const older = new BetterSqlite3(file);
  older.pragma('auto_vacuum = NONE');
  older.pragma('journal_mode = WAL');
  older.exec('create table filler (id integer primary key, body blob not null)');
  older.close();
  expect((await runCli(['migrate'], env)).status).toBe(0);
  // 24 MB stored, then deleted: the pages stay in the file.
  const raw = new BetterSqlite3(file);
  const insert = raw.prepare('insert into filler (body) values (?)');
  raw.transaction(() => {
    for (let i = 0; i < 96; i += 1) insert.run(crypto.randomBytes(256 * 1024));
  })();
  raw.exec('delete from filler');
  raw.pragma('wal_checkpoint(TRUNCATE)');
  raw.close();
}, 60_000);
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe('postern vacuum', () => {
  it('refuses while another Postern process runs on the SQLite database, naming it, and changes nothing', async () => {
    const db = await openDatabase(`sqlite:${file}`);
    const node = {
      id: 'other-node',
      roles: ['web', 'worker'],
      version: '0.0.0',
      host: os.hostname(),
      pid: process.pid,
    };
    try {
      await registerNode(db, node);
      const before = size();
      const refused = await runCli(['vacuum'], env);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain('STORE_VACUUM_REFUSED');
      expect(refused.stderr).toContain(`pid ${process.pid} on ${os.hostname()}`);
      expect(refused.stderr).toContain('stop every Postern process');
      expect(size()).toBe(before);
      expect(autoVacuum()).toBe(0);
    } finally {
      await deleteNode(db, node.id);
      await db.close();
    }
  }, 60_000);

  it('gives the deleted rows’ space back and turns on incremental auto-vacuum', async () => {
    const before = size();
    expect(before).toBeGreaterThan(24 * 1024 * 1024);
    expect(autoVacuum()).toBe(0);
    const done = await runCli(['vacuum'], env);
    expect(done.stderr.trim()).toBe('');
    expect(done.status).toBe(0);
    expect(done.stdout).toMatch(/^Compacted: \d+\.\d MB → \d+\.\d MB\./);
    expect(done.stdout).toContain('incremental auto-vacuum');
    expect(size()).toBeLessThan(before - 20 * 1024 * 1024);
    expect(autoVacuum()).toBe(2);
    // Done once: a second run has nothing to convert.
    const again = await runCli(['vacuum'], env);
    expect(again.status).toBe(0);
    expect(again.stdout).not.toContain('incremental auto-vacuum');
  }, 60_000);
});
