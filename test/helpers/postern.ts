/**
 * Postern in-process for HTTP tests: a real runtime from the composition root (config, logs in a
 * temporary data directory, the real database, services) with its web role built for
 * `app.inject()` instead of listening. Tests that need workers start them on the same runtime
 * with `runtime.startRoles([...], options)`; `close()` stops everything in reverse order.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openRuntime, type Runtime, type RuntimeOptions } from '../../src/cli/runtime.js';
import type { UserRole } from '../../src/store/index.js';

export interface TestPostern {
  runtime: Runtime;
  app: FastifyInstance;
  dataDir: string;
  /** Creates a user and an API token for it; returns the Authorization header value. */
  bearer(role: UserRole, username?: string): Promise<{ authorization: string; userId: number }>;
  /** Everything written to the day log files so far. */
  logText(): string;
  close(): Promise<void>;
}

export async function startTestPostern(
  env: Record<string, string> = {},
  options: Pick<RuntimeOptions, 'clock' | 'sleep' | 'networkTimeouts' | 'tokenRequestClock'> = {},
): Promise<TestPostern> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-test-'));
  const runtime = await openRuntime({
    cwd: dataDir,
    env: { POSTERN_DATA_DIR: dataDir, POSTERN_LOG_LEVEL: 'debug', POSTERN_LOG_CONSOLE: 'false', ...env },
    ...options,
  });
  let app: FastifyInstance;
  try {
    const roles = await runtime.startRoles(['web'], { web: { listen: false, version: 'test' } });
    if (roles.web === undefined) throw new Error('the web role did not start');
    app = roles.web.app;
  } catch (error) {
    await runtime.close();
    throw error;
  }
  let counter = 0;
  return {
    runtime,
    app,
    dataDir,
    async bearer(role, username) {
      counter += 1;
      const user = await runtime.services.users.create({
        username: username ?? `${role}-${counter}`,
        role,
        password: 'a long enough password',
      });
      const created = await runtime.services.tokens.create(user.id, 'test');
      return { authorization: `Bearer ${created.token}`, userId: user.id };
    },
    logText() {
      const dir = runtime.config.logDir;
      if (!fs.existsSync(dir)) return '';
      return fs
        .readdirSync(dir)
        .map((name) => fs.readFileSync(path.join(dir, name), 'utf8'))
        .join('\n');
    },
    close: () => runtime.close(),
  };
}

/** Every byte of the SQLite database (main file and WAL) as latin1 text, to search for secrets. */
export function sqliteBytes(dataDir: string): string {
  return fs
    .readdirSync(dataDir)
    .filter((name) => name.startsWith('postern.db'))
    .map((name) => fs.readFileSync(path.join(dataDir, name)).toString('latin1'))
    .join('\n');
}
