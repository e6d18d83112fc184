/**
 * The token keeper under the node's pace of token requests (POSTERN_TOKEN_REQUESTS_PER_SECOND):
 * grants due at once are refreshed each once — with two keepers at it, in one process on SQLite
 * and on two nodes sharing PostgreSQL — and their requests are spaced by the configured rate, on a
 * fake clock.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { LimiterClock } from '../../src/services/index.js';
import { TokenUpkeepService, type GrantsDue } from '../../src/services/identity/token-upkeep-service.js';
import { TokenKeeper, type KeeperReport } from '../../src/workers/token-keeper.js';
import { createPostgresDatabase } from '../helpers/store.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { authenticatedProvider, startPair, type Pair } from './helpers.js';

const DAY_MS = 86_400_000;
const GRANTS = 12;

/** A limiter clock that jumps to the end of each wait (after a turn of the event loop); it records the spans waited. */
function fakeLimiterClock(): LimiterClock & { elapsed(): number } {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      await new Promise((resolve) => setImmediate(resolve));
      now += ms;
    },
    elapsed: () => now,
  };
}

interface Redemptions {
  chains: number;
  redemptions: number;
  repeatedChains: number;
  extraRedemptions: number;
}

async function redemptions(pair: Pair): Promise<Redemptions> {
  return (await pair.emulator.control('GET', '/refresh-redemptions')) as Redemptions;
}

/** Signs andrea@ in on `count` providers: each sign-in its own grant and refresh-token chain. */
async function signInGrants(pair: Pair, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i += 1) ids.push((await authenticatedProvider(pair)).grantId);
  return ids;
}

function keeperOf(node: TestPostern): TokenKeeper {
  return new TokenKeeper(node.runtime.services.tokenUpkeep, node.runtime.log.logger, { concurrency: 4 });
}

/**
 * A keeper's view of the store that lists what is due and then stalls until `gate` — a node that
 * read the due list, then paused (a long GC, a slow database) while another renewed the grants.
 */
class StalledUpkeep extends TokenUpkeepService {
  constructor(
    node: TestPostern,
    private readonly gate: Promise<unknown>,
  ) {
    super(node.runtime.db, node.runtime.services.accessTokens);
  }

  override async grantsDue(options: { expiringBefore: Date; idleSince: Date }): Promise<GrantsDue> {
    const due = await super.grantsDue(options);
    await this.gate;
    return due;
  }
}

function total(reports: KeeperReport[], field: 'refreshed' | 'skipped' | 'failed'): number {
  return reports.reduce((sum, report) => sum + report[field], 0);
}

describe('token keeper under the pace of token requests', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('SQLite: three keepers in one process (one with a stale list) refresh each due grant once, spaced 1/rate apart', async () => {
    const clock = fakeLimiterClock();
    const pair = await startPair({ POSTERN_TOKEN_REQUESTS_PER_SECOND: '4' }, { tokenRequestClock: clock });
    cleanups.push(() => pair.close());
    const grantIds = await signInGrants(pair, GRANTS);
    // Fifteen days without a refresh: every grant is due (the keeper keeps grants alive after 14).
    pair.emulator.handle.clock.advance(15 * DAY_MS);
    await pair.emulator.control('DELETE', '/refresh-redemptions');
    const limiter = pair.postern.runtime.services.tokenRequests;
    const grantedBefore = limiter.stats().granted;
    const startedAt = clock.elapsed();

    let othersDone: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (othersDone = resolve));
    // The stale keeper lists the due grants first, then waits until the other two have renewed them.
    const staleRun = new TokenKeeper(new StalledUpkeep(pair.postern, gate), pair.postern.runtime.log.logger).runOnce();
    const first = keeperOf(pair.postern);
    const second = keeperOf(pair.postern);
    const both = await Promise.all([first.runOnce(), second.runOnce()]);
    othersDone();
    const reports = [...both, await staleRun];

    expect(total(reports, 'failed')).toBe(0);
    expect(total(reports, 'refreshed')).toBe(GRANTS);
    expect(total(reports, 'skipped')).toBe(2 * GRANTS);
    // The stale keeper held each grant, looked again, and found it renewed.
    expect(reports[2]).toMatchObject({ refreshed: 0, skipped: GRANTS });
    expect(await redemptions(pair)).toMatchObject({ chains: GRANTS, redemptions: GRANTS, extraRedemptions: 0 });
    // Every request went through the pace: 12 requests at 4/s take at least 11 intervals of 250 ms.
    expect(limiter.stats().granted - grantedBefore).toBe(GRANTS);
    expect(clock.elapsed() - startedAt).toBeGreaterThanOrEqual((GRANTS - 1) * 250);
    expect(first.progress()).toMatchObject({ due: GRANTS, waiting: 0 });
    // Nothing is due any more: a third run asks Microsoft for nothing.
    const again = await keeperOf(pair.postern).runOnce();
    expect(again).toMatchObject({ refreshed: 0, skipped: 0, failed: 0 });
    expect((await redemptions(pair)).redemptions).toBe(GRANTS);
    const rows = await pair.postern.runtime.db.kysely
      .selectFrom('grants')
      .select(['id', 'last_refresh_at'])
      .where('id', 'in', grantIds)
      .execute();
    for (const row of rows)
      expect(Date.parse(row.last_refresh_at ?? '')).toBeGreaterThan(pair.emulator.handle.clock.nowMs() - DAY_MS);
  });

  it('PostgreSQL: keepers on two nodes refresh each due grant once between them', async () => {
    const database = await createPostgresDatabase();
    cleanups.push(database.remove);
    const pair = await startPair(
      { POSTERN_DATABASE_URL: database.url, POSTERN_TOKEN_REQUESTS_PER_SECOND: '4' },
      { tokenRequestClock: fakeLimiterClock() },
    );
    cleanups.push(() => pair.close());
    const second = await startTestPostern(
      {
        POSTERN_DATABASE_URL: database.url,
        POSTERN_SECRET_KEY_FILE: `${pair.postern.dataDir}/secret.key`,
        POSTERN_TOKEN_REQUESTS_PER_SECOND: '4',
      },
      {
        clock: () => pair.emulator.handle.clock.now(),
        sleep: async () => undefined,
        tokenRequestClock: fakeLimiterClock(),
      },
    );
    cleanups.push(() => second.close());
    await signInGrants(pair, GRANTS);
    pair.emulator.handle.clock.advance(15 * DAY_MS);
    await pair.emulator.control('DELETE', '/refresh-redemptions');

    const reports = await Promise.all([keeperOf(pair.postern).runOnce(), keeperOf(second).runOnce()]);

    expect(total(reports, 'failed')).toBe(0);
    expect(total(reports, 'refreshed')).toBe(GRANTS);
    expect(await redemptions(pair)).toMatchObject({ chains: GRANTS, redemptions: GRANTS, extraRedemptions: 0 });
  });
});
