/**
 * Regression: `postern start`, `postern users add` and `postern users list` started at the same
 * instant on a fresh data directory. Each process creates or reads the key file, opens the SQLite
 * file, migrates, records the key check value and (start) creates the first administrator; they
 * used to collide in the migrations (`table "users" already exists`, `duplicate column name`).
 * All three must succeed, ten times in a row.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { runCliAsync, spawnCli, type RunningCli } from '../helpers/cli.js';

const ROUNDS = 10;
const running: RunningCli[] = [];
afterEach(() => {
  for (const cli of running.splice(0)) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
});

describe('first start of several processes at once', () => {
  it(`start, users add and users list at the same instant on a fresh data directory all succeed, ${ROUNDS} times in a row`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-race-'));
      const env = { POSTERN_DATA_DIR: dataDir };
      const server = spawnCli(['start', '--port', '0', '--roles', 'web'], env);
      running.push(server);
      const [added, listed] = await Promise.all([
        runCliAsync(['users', 'add', 'andrea', '--role', 'agent', '--password-stdin'], env, 'andrea-password-123\n'),
        runCliAsync(['users', 'list'], env),
      ]);
      const where = `round ${round}`;
      expect(added.status, `${where}: users add\n${added.stderr}`).toBe(0);
      expect(added.stdout, where).toMatch(/Created agent "andrea"/);
      expect(listed.status, `${where}: users list\n${listed.stderr}`).toBe(0);
      await server.waitFor(/listening on http:\/\//, 120_000);
      // No administrator existed, whatever the order: start created one.
      expect(server.output(), where).toMatch(/Created the administrator "admin"/);
      server.child.kill('SIGTERM');
      expect(await server.exited, `${where}: start\n${server.output()}`).toBe(0);

      const db = new BetterSqlite3(path.join(dataDir, 'postern.db'), { readonly: true });
      try {
        const users = db.prepare('select username, role from users order by username').all();
        expect(users, where).toEqual([
          { username: 'admin', role: 'admin' },
          { username: 'andrea', role: 'agent' },
        ]);
        const applied = db.prepare('select count(*) as n from schema_migrations').get();
        expect(applied, where).toEqual({ n: MIGRATIONS.length });
      } finally {
        db.close();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 600_000);
});
