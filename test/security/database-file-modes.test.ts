/**
 * `postern.db`, `-wal` and `-shm` were created 0644 (issue 13, Low): every local user could read
 * the conversations, the contacts and the sealed secrets. They are now 0600 from the start and
 * after writes, like the key file; an older database found 0644 is tightened when opened.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, migrateToLatest } from '../../src/store/index.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

const FILES = ['postern.db', 'postern.db-wal', 'postern.db-shm'];

function modesIn(dir: string): Record<string, string> {
  return Object.fromEntries(
    FILES.map((name) => [name, (fs.statSync(path.join(dir, name)).mode & 0o777).toString(8).padStart(4, '0')]),
  );
}
const PRIVATE = Object.fromEntries(FILES.map((name) => [name, '0600']));

describe('database files', () => {
  let postern: TestPostern | undefined;
  afterAll(async () => postern?.close());

  it('are readable by the owner only after start and after writes, whatever the umask', async () => {
    const previous = process.umask(0o022);
    try {
      postern = await startTestPostern();
    } finally {
      process.umask(previous);
    }
    expect(modesIn(postern.dataDir)).toEqual(PRIVATE);
    await postern.runtime.services.users.create({ username: 'writer', role: 'agent', password: 'a long password!' });
    await postern.runtime.db.kysely.selectFrom('users').selectAll().execute();
    expect(modesIn(postern.dataDir)).toEqual(PRIVATE);
    // Reading the key file's mode too: the data directory holds nothing readable by others.
    expect(fs.statSync(postern.runtime.config.secretKeyFile).mode & 0o077).toBe(0);
  });

  it('are tightened when an older database left them 0644', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-modes-'));
    const url = `sqlite:${path.join(dir, 'postern.db')}`;
    const first = await openDatabase(url);
    await migrateToLatest(first);
    for (const name of FILES) fs.chmodSync(path.join(dir, name), 0o644);
    const again = await openDatabase(url);
    try {
      expect(modesIn(dir)).toEqual(PRIVATE);
    } finally {
      await again.close();
      await first.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
