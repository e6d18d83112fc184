import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnCli, type RunningCli } from '../helpers/cli.js';

const running: RunningCli[] = [];
afterEach(() => {
  for (const cli of running.splice(0)) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
});

describe('postern demo', () => {
  it('starts the emulator and Postern, with the admin and agent it prints, and stops on SIGINT', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-demo-'));
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const cli = spawnCli(
      [
        'demo',
        '--port',
        String(base),
        '--emulator-port',
        String(base + 1),
        '--imap-port',
        String(base + 2),
        '--smtp-port',
        String(base + 3),
        '--data',
        data,
      ],
      {},
    );
    running.push(cli);
    await cli.waitFor(/Press Ctrl\+C to stop/, 60_000);
    const out = cli.output();
    const [, caFile] = /CA file (\S+)/.exec(out) ?? [];
    expect(caFile).toBeDefined();
    for (const [user, password] of [
      ['admin', 'postern-demo-admin'],
      ['agent', 'postern-demo-agent'],
    ]) {
      const login = await fetch(`http://127.0.0.1:${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: user, password }),
      });
      expect(login.status, user).toBe(200);
    }
    const agent = new Agent({ connect: { ca: fs.readFileSync(caFile ?? '', 'utf8') } });
    const discovery = await undiciFetch(
      `https://127.0.0.1:${base + 1}/7a3c9f4e-2b1d-4e8a-9c6f-1d2e3f4a5b6c/v2.0/.well-known/openid-configuration`,
      { dispatcher: agent },
    );
    expect(discovery.status).toBe(200);
    expect(out).toContain(`IMAP 127.0.0.1:${base + 2}, SMTP 127.0.0.1:${base + 3}`);
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
  });
});
