import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, spawnCli, type RunningCli } from '../helpers/cli.js';

const running: RunningCli[] = [];
afterEach(() => {
  for (const cli of running.splice(0)) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
});

function freshDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'postern-cli-'));
}

describe('postern start', () => {
  // Two starts of one data directory, one per test: each start is bounded on its own, however
  // slow the machine is.
  let firstDataDir: string | undefined;
  let firstPassword: string | undefined;

  it('creates the first admin, prints the URL, serves /health and stops cleanly on SIGTERM', async () => {
    const dataDir = freshDir();
    const cli = spawnCli(['start', '--port', '0'], { POSTERN_DATA_DIR: dataDir });
    running.push(cli);
    const [, password] = await cli.waitFor(/administrator "admin" with the password: (\S+)/);
    const [, url] = await cli.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    expect(login.status).toBe(200);
    expect(fs.statSync(path.join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(path.join(dataDir, 'postern.db'))).toBe(true);

    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    const logs = fs.readdirSync(path.join(dataDir, 'logs'));
    expect(logs.some((name) => /^email-combined\.\d{4}-\d{2}-\d{2}\.log$/.test(name))).toBe(true);
    const combined = logs.map((n) => fs.readFileSync(path.join(dataDir, 'logs', n), 'utf8')).join('');
    expect(combined).toContain('postern stopping');
    expect(combined).not.toContain(password ?? 'never');
    firstDataDir = dataDir;
    firstPassword = password;
  });

  it('keeps the administrator on a second start, prints no password, and stops on SIGINT', async () => {
    expect(firstDataDir, 'the first start ran').toBeDefined();
    const again = spawnCli(['start', '--port', '0'], { POSTERN_DATA_DIR: firstDataDir ?? '' });
    running.push(again);
    await again.waitFor(/listening on/);
    expect(again.output()).not.toContain('password');
    expect(again.output()).not.toContain(firstPassword ?? 'never');
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
  });

  it('stops cleanly on a signal that arrives while it is still starting', async () => {
    const dataDir = freshDir();
    const cli = spawnCli(['start', '--port', '0'], { POSTERN_DATA_DIR: dataDir });
    running.push(cli);
    // Printed before the workers start and the port is bound: startup is still going on.
    await cli.waitFor(/administrator "admin" with the password/);
    cli.child.kill('SIGTERM');
    expect(await cli.exited, cli.output()).toBe(0);
    expect(cli.output()).toContain('Received SIGTERM, stopping');
  });

  it('refuses an invalid configuration, naming each variable', () => {
    const result = runCli(['start'], {
      POSTERN_DATA_DIR: freshDir(),
      POSTERN_PORT: 'http',
      POSTERN_LOG_LEVEL: 'chatty',
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('Error CONFIG_INVALID');
    expect(result.stderr).toMatch(/POSTERN_PORT: expected a port number, got "http"/);
    expect(result.stderr).toMatch(/POSTERN_LOG_LEVEL: expected one of/);
  });

  it('refuses a malformed key and a wrong key with specific messages', () => {
    const dataDir = freshDir();
    expect(runCli(['migrate'], { POSTERN_DATA_DIR: dataDir }).status).toBe(0);

    const malformed = runCli(['migrate'], { POSTERN_DATA_DIR: dataDir, POSTERN_SECRET_KEY: 'too-short' });
    expect(malformed.status).toBe(1);
    expect(malformed.stderr).toContain('Error SECRET_KEY_MALFORMED');
    expect(malformed.stderr).not.toContain('too-short');

    const wrong = runCli(['migrate'], { POSTERN_DATA_DIR: dataDir, POSTERN_SECRET_KEY: 'ab'.repeat(32) });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('Error SECRET_KEY_INVALID');
    expect(wrong.stderr).toContain('What to do:');
  });
});

/**
 * These tests run one `postern` process after another (twelve, and five): each is a whole Node
 * start, which takes seconds on a busy two-core machine, so vitest's 30-second default (sized for
 * tests in one process) is too short for them when the run's other files spawn processes too.
 */
describe('administration commands', { timeout: 120_000 }, () => {
  it('adds users, creates tokens, rotates the secret key', async () => {
    const dataDir = freshDir();
    const env = { POSTERN_DATA_DIR: dataDir };
    const added = runCli(
      ['users', 'add', 'andrea', '--role', 'agent', '--password-stdin'],
      env,
      'andrea-password-123\n',
    );
    expect(added.stdout).toMatch(/Created agent "andrea"/);
    expect(runCli(['users', 'add', 'andrea', '--password-stdin'], env, 'another-password-1\n').stderr).toContain(
      'RESOURCE_CONFLICT',
    );
    expect(runCli(['users', 'list'], env).stdout).toMatch(/andrea\s+agent/);

    const token = runCli(['tokens', 'create', 'crm', '--user', 'andrea'], env);
    const plain = /Token \(shown once\): (pst_\S+)/.exec(token.stdout)?.[1];
    expect(plain).toBeDefined();

    const oldKey = fs.readFileSync(path.join(dataDir, 'secret.key'), 'utf8');
    const rotated = runCli(['secrets', 'rotate'], env);
    expect(rotated.status).toBe(0);
    expect(rotated.stdout).toMatch(/Re-encrypted \d+ secret/);
    expect(fs.readFileSync(path.join(dataDir, 'secret.key'), 'utf8')).not.toBe(oldKey);
    expect(runCli(['users', 'list'], env).status).toBe(0);
    const withOld = runCli(['users', 'list'], { ...env, POSTERN_SECRET_KEY: oldKey.trim() });
    expect(withOld.stderr).toContain('SECRET_KEY_INVALID');

    const server = spawnCli(['start', '--port', '0', '--roles', 'web'], env);
    running.push(server);
    const [, url] = await server.waitFor(/listening on (http:\/\/\S+) /);
    const response = await fetch(`${url}/api/lists`, { headers: { authorization: `Bearer ${plain}` } });
    expect(response.status).toBe(200);
    const forbidden = await fetch(`${url}/api/users`, { headers: { authorization: `Bearer ${plain}` } });
    expect(forbidden.status).toBe(403);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('shows the configuration with secrets redacted, and help everywhere', () => {
    const shown = runCli(['config', 'show'], { POSTERN_DATA_DIR: freshDir(), POSTERN_SECRET_KEY: 'cd'.repeat(32) });
    expect(shown.stdout).toContain('POSTERN_SECRET_KEY=[redacted]');
    expect(shown.stdout).not.toContain('cd'.repeat(32));
    for (const args of [
      ['--help'],
      ['users', '--help'],
      ['tokens', 'create', '--help'],
      ['secrets', 'rotate', '--help'],
    ]) {
      const help = runCli(args, {});
      expect(help.status, args.join(' ')).toBe(0);
      expect(help.stdout).toContain('Usage: postern');
    }
  });
});
