/**
 * Issue 17, point 5: on SQLite the mailboxes have no leases, so the worker role runs in one
 * process only. A second `postern start` with the worker role on the same data directory is
 * refused with STORE_SQLITE_IN_USE naming the first (host and pid); a web-only process is
 * welcome; a process killed without a clean stop does not block the next start; of two started at
 * the same instant, exactly one runs the workers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { serverProcessId, spawnCli, type RunningCli } from '../helpers/cli.js';
import { startTestPostern } from '../helpers/postern.js';

const running: RunningCli[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) {
    if (cli.child.exitCode !== null || cli.child.signalCode !== null) continue;
    cli.child.kill('SIGKILL');
    await cli.exited;
  }
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-single-'));
  dirs.push(dir);
  return dir;
}

function start(dataDir: string, ...args: string[]): RunningCli {
  const cli = spawnCli(['start', '--port', '0', ...args], { POSTERN_DATA_DIR: dataDir });
  running.push(cli);
  return cli;
}

const LISTENING = /listening on http:\/\/127\.0\.0\.1:\d+/;

describe('the worker role on SQLite', () => {
  it('refuses a second worker process naming the first, welcomes a web-only one, and is not blocked by a killed one', async () => {
    const dataDir = freshDir();
    const first = start(dataDir);
    await first.waitFor(LISTENING, 60_000);

    const second = start(dataDir);
    expect(await second.exited).not.toBe(0);
    expect(second.output()).toContain('STORE_SQLITE_IN_USE');
    // The server's own process: the one `postern start` started again with its heap limit.
    expect(second.output()).toContain(`pid ${serverProcessId(first.child.pid ?? 0)} on ${os.hostname()}`);
    expect(second.output()).toContain('--roles web');

    const web = start(dataDir, '--roles', 'web');
    await web.waitFor(LISTENING, 60_000);
    web.child.kill('SIGTERM');
    expect(await web.exited).toBe(0);

    // Killed without a clean stop: its row still looks alive, but its pid is gone. The server
    // process itself is killed: killing only its keeper leaves the server alive until it notices
    // the keeper's channel closed, and a start in that moment is rightly refused.
    process.kill(serverProcessId(first.child.pid ?? 0), 'SIGKILL');
    await first.exited;
    const next = start(dataDir);
    await next.waitFor(LISTENING, 60_000);
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
  }, 180_000);

  it('runs the workers in exactly one of two processes started at the same instant', async () => {
    const dataDir = freshDir();
    const both = [start(dataDir), start(dataDir)];
    // Each either listens or exits refused.
    const outcomes = await Promise.all(
      both.map((cli) =>
        cli.waitFor(LISTENING, 60_000).then(
          () => 'running',
          () => 'refused',
        ),
      ),
    );
    expect([...outcomes].sort()).toEqual(['refused', 'running']);
    const refused = both[outcomes.indexOf('refused')];
    expect(await refused?.exited).not.toBe(0);
    expect(refused?.output()).toContain('STORE_SQLITE_IN_USE');
  }, 120_000);

  it('refuses the worker role added later to a running web-only process, which keeps serving', async () => {
    const env = {
      POSTERN_DATABASE_URL: `sqlite:${path.join(freshDir(), 'postern.db')}`,
      POSTERN_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    };
    const worker = await startTestPostern(env);
    const web = await startTestPostern(env);
    try {
      await worker.runtime.startRoles(['mailboxSync']);
      await expect(web.runtime.startRoles(['mailboxSync'])).rejects.toMatchObject({ code: 'STORE_SQLITE_IN_USE' });
      expect(web.runtime.roles.mailboxSync).toBeUndefined();
      expect((await web.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await web.close();
      await worker.close();
    }
  }, 60_000);
});
