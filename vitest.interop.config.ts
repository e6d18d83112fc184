import { defineConfig } from 'vitest/config';

/**
 * `npm run test:interop`: Postern against servers nobody here wrote — Debian's Dovecot and
 * Postfix, started by the tests on loopback (scripts/ensure-interop.mjs installs them first).
 * Kept apart from `npm test` so that the default suite needs neither package and is not slowed.
 */
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    setupFiles: ['test/helpers/loopback-only.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
