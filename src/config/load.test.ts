import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPosternError } from '../errors/index.js';
import { describeConfig, loadConfig } from './load.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'postern-config-'));
}

function problemsOf(fn: () => unknown): Array<{ variable: string; expected: string; received?: string }> {
  try {
    fn();
  } catch (error) {
    if (isPosternError(error, 'CONFIG_INVALID')) {
      return (error.details?.problems ?? []) as Array<{ variable: string; expected: string }>;
    }
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('loadConfig', () => {
  it('applies defaults under the data directory', () => {
    const cwd = tempDir();
    const config = loadConfig({ cwd, env: {} });
    expect(config.dataDir).toBe(path.join(cwd, 'data'));
    expect(config.databaseUrl).toBe(`sqlite:${path.join(cwd, 'data', 'postern.db')}`);
    expect(config.logDir).toBe(path.join(cwd, 'data', 'logs'));
    expect(config.port).toBe(8080);
    expect(config.publicUrl).toBe('http://localhost:8080');
    expect(config.roles).toEqual(['web', 'worker']);
    expect(config.cookieSecure).toBe(false);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads POSTERN_WEBHOOK_ALLOWED_NETWORKS as addresses and CIDR ranges, empty by default', () => {
    expect(loadConfig({ cwd: tempDir(), env: {} }).webhookAllowedNetworks).toEqual([]);
    const config = loadConfig({
      cwd: tempDir(),
      env: { POSTERN_WEBHOOK_ALLOWED_NETWORKS: ' 10.0.0.0/8, 127.0.0.1,fd00::/8 ' },
    });
    expect(config.webhookAllowedNetworks).toEqual(['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);
    const problems = problemsOf(() =>
      loadConfig({ cwd: tempDir(), env: { POSTERN_WEBHOOK_ALLOWED_NETWORKS: '10.0.0.0/33,intranet' } }),
    );
    expect(problems).toEqual([
      expect.objectContaining({
        variable: 'POSTERN_WEBHOOK_ALLOWED_NETWORKS',
        expected: expect.stringMatching(/CIDR/),
      }),
    ]);
  });

  it('reads POSTERN_TOKEN_REQUESTS_PER_SECOND, 40 by default, and refuses 0', () => {
    expect(loadConfig({ cwd: tempDir(), env: {} }).tokenRequestsPerSecond).toBe(40);
    expect(
      loadConfig({ cwd: tempDir(), env: { POSTERN_TOKEN_REQUESTS_PER_SECOND: '2.5' } }).tokenRequestsPerSecond,
    ).toBe(2.5);
    const problems = problemsOf(() => loadConfig({ cwd: tempDir(), env: { POSTERN_TOKEN_REQUESTS_PER_SECOND: '0' } }));
    expect(problems).toEqual([
      expect.objectContaining({
        variable: 'POSTERN_TOKEN_REQUESTS_PER_SECOND',
        expected: 'at least 0.1 requests per second',
      }),
    ]);
  });

  it('reports every invalid variable at once, naming it and what it expects', () => {
    const problems = problemsOf(() =>
      loadConfig({
        cwd: tempDir(),
        env: {
          POSTERN_PORT: 'eighty',
          POSTERN_LOG_LEVEL: 'loud',
          POSTERN_PUBLIC_URL: 'not a url',
          POSTERN_ROLES: 'web,cook',
        },
      }),
    );
    expect(problems.map((p) => p.variable).sort()).toEqual([
      'POSTERN_LOG_LEVEL',
      'POSTERN_PORT',
      'POSTERN_PUBLIC_URL',
      'POSTERN_ROLES',
    ]);
    const port = problems.find((p) => p.variable === 'POSTERN_PORT');
    expect(port?.expected).toMatch(/port/);
    expect(port?.received).toBe('eighty');
  });

  it('never echoes a secret value in its error', () => {
    const problems = problemsOf(() =>
      loadConfig({ cwd: tempDir(), env: { POSTERN_DATABASE_URL: 'mysql://u:hunter2@x/db' } }),
    );
    expect(problems).toHaveLength(1);
    expect(JSON.stringify(problems)).not.toContain('hunter2');
  });

  it('reads .env, lets the environment win, and accepts upper-case levels like XC_DEBUG_LEVEL did', () => {
    const cwd = tempDir();
    fs.writeFileSync(path.join(cwd, '.env'), "POSTERN_LOG_LEVEL='DEBUG'\nPOSTERN_PORT=9000\n");
    const config = loadConfig({ cwd, env: { POSTERN_PORT: '9100' } });
    expect(config.logLevel).toBe('debug');
    expect(config.port).toBe(9100);
    expect(config.publicUrl).toBe('http://localhost:9100');
  });

  it('reads a JSON config file by key or variable name and rejects unknown keys', () => {
    const cwd = tempDir();
    const file = path.join(cwd, 'postern.json');
    fs.writeFileSync(file, JSON.stringify({ port: 7000, POSTERN_PUBLIC_URL: 'https://mail.example.com/' }));
    const config = loadConfig({ cwd, env: { POSTERN_CONFIG_FILE: file } });
    expect(config.port).toBe(7000);
    expect(config.publicUrl).toBe('https://mail.example.com');
    expect(config.cookieSecure).toBe(true);

    fs.writeFileSync(file, JSON.stringify({ prot: 7000 }));
    expect(problemsOf(() => loadConfig({ cwd, file }))[0]?.variable).toBe('config file key "prot"');
    fs.writeFileSync(file, '{ nope');
    expect(problemsOf(() => loadConfig({ cwd, file }))[0]?.expected).toBe('valid JSON');
  });

  it('redacts secrets when shown', () => {
    const config = loadConfig({
      cwd: tempDir(),
      env: { POSTERN_SECRET_KEY: 'a'.repeat(64), POSTERN_DATABASE_URL: 'postgres://postern:s3cret@db:5432/postern' },
    });
    const shown = JSON.stringify(describeConfig(config));
    expect(shown).not.toContain('s3cret');
    expect(shown).not.toContain('a'.repeat(64));
    expect(shown).toContain('postgres://postern:[redacted]@db:5432/postern');
  });
});
