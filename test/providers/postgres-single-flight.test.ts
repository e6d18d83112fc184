import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type Target } from '../helpers/store.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { authenticatedProvider, startPair, tokenRequests, type Pair } from './helpers.js';

/**
 * Two Postern processes (two runtimes, each with its own in-process single flight) sharing one
 * PostgreSQL: the row lock on the grant makes their concurrent refreshes one token request.
 */
describe('single flight across processes on PostgreSQL', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('refreshes an expired grant once for 2 × 50 concurrent callers', async () => {
    const database: Target = await createPostgresDatabase();
    cleanups.push(database.remove);
    const pair: Pair = await startPair({ POSTERN_DATABASE_URL: database.url });
    cleanups.push(() => pair.close());
    const { grantId } = await authenticatedProvider(pair);
    const second: TestPostern = await startTestPostern(
      { POSTERN_DATABASE_URL: database.url, POSTERN_SECRET_KEY_FILE: `${pair.postern.dataDir}/secret.key` },
      { clock: () => pair.emulator.handle.clock.now(), sleep: async () => undefined },
    );
    cleanups.push(() => second.close());

    pair.emulator.handle.clock.advance(3 * 60 * 60 * 1000);
    const before = tokenRequests(pair, 'refresh_token');
    const calls = [pair.postern, second].flatMap((node) =>
      Array.from({ length: 50 }, () => node.runtime.services.accessTokens.accessToken(grantId, 'exchange')),
    );
    const tokens = await Promise.all(calls);
    expect(tokenRequests(pair, 'refresh_token') - before).toBe(1);
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
  });
});
