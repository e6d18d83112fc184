/**
 * Benchmark of the token keeper (`npm run bench:grants`): 10,000 grants due at once, renewed by
 * the keeper under the node's pace of token requests (POSTERN_TOKEN_REQUESTS_PER_SECOND) against
 * the emulator's token endpoint over loopback TLS.
 *
 * The world process (`helpers/world-process.ts`) runs the emulator and signs its delegate in
 * 10,000 times (ROPC): 10,000 refresh-token chains. Postern's store is seeded directly with one
 * grant per chain, each last refreshed 20 days ago — past the keeper's 14-day keep-alive, so all
 * are due. Then one keeper run (or BENCH_KEEPERS concurrent runs, as several keepers would) renews
 * them.
 *
 * Reports: duplicates (from the emulator's refresh redemptions per chain: a chain redeemed twice
 * is a grant refreshed twice), the time until every grant was refreshed, and the most token
 * requests that arrived at the emulator in any 1-second window against the configured rate.
 * Never run as a timed test; figures go to docs/PERFORMANCE.md.
 *
 * Environment: BENCH_GRANTS (10000), BENCH_RATE (the default of POSTERN_TOKEN_REQUESTS_PER_SECOND),
 * BENCH_KEEPERS (1), BENCH_CONCURRENCY (the keeper's own, keeperConcurrency()).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { KEYS, defaultValues } from '../src/config/schema.js';
import { upsertGrant } from '../src/store/index.js';
import { TokenKeeper, keeperConcurrency } from '../src/workers/token-keeper.js';
import { describeMachine, now } from './helpers/figures.js';
import { openPostern } from './helpers/postern-side.js';
import { World } from './helpers/world.js';
import { WORLD_EXCHANGE_SCOPES, WORLD_TENANT_ID } from './helpers/world-protocol.js';

const GRANTS = Number(process.env.BENCH_GRANTS ?? '10000');
const DEFAULT_RATE = KEYS.tokenRequestsPerSecond.schema.parse(
  defaultValues({ dataDir: '.', port: 0 }).tokenRequestsPerSecond,
);
const RATE = Number(process.env.BENCH_RATE ?? String(DEFAULT_RATE));
const KEEPERS = Number(process.env.BENCH_KEEPERS ?? '1');
const DAY_MS = 86_400_000;
const TARGET_MS = 5 * 60 * 1000;

/** The most of `times` (sorted) inside any half-open window of `windowMs`. */
function maxInWindow(times: readonly number[], windowMs: number): number {
  let max = 0;
  let start = 0;
  for (let end = 0; end < times.length; end += 1) {
    while ((times[end] ?? 0) - (times[start] ?? 0) >= windowMs) start += 1;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

async function main(): Promise<void> {
  console.log(`Token keeper benchmark: ${GRANTS} grants due at once, ${RATE} token requests/s, ${KEEPERS} keeper(s)`);
  console.log(
    `Machine: ${describeMachine()}; load average ${os
      .loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
  const world = await World.start({ mailboxes: 1, senders: 0 });
  const side = await openPostern(world.ready, {
    env: { POSTERN_TOKEN_REQUESTS_PER_SECOND: String(RATE) },
  });
  try {
    let started = now();
    const minted = await world.ask({ type: 'mint-refresh-tokens', count: GRANTS });
    if (minted.type !== 'minted' || minted.refreshTokens.length !== GRANTS) throw new Error('minting failed');
    console.log(`Signed in ${GRANTS} times at the emulator (ROPC) in ${((now() - started) / 1000).toFixed(1)} s`);

    started = now();
    const { db, box } = side.runtime;
    const idleSince = new Date(db.now().getTime() - 20 * DAY_MS).toISOString();
    const ids: number[] = [];
    for (let from = 0; from < GRANTS; from += 1000) {
      await db.transaction(async (tx) => {
        const batch: number[] = [];
        for (let i = from; i < Math.min(GRANTS, from + 1000); i += 1) {
          const grant = await upsertGrant(tx, box, {
            providerId: side.providerId,
            upn: `grant${String(i).padStart(5, '0')}@bench.example`,
            objectId: randomUUID(),
            tenantId: WORLD_TENANT_ID,
            displayName: `Grant ${i}`,
            scopes: WORLD_EXCHANGE_SCOPES.split(' '),
            refreshToken: minted.refreshTokens[i] ?? '',
            interactive: false,
          });
          batch.push(grant.id);
        }
        await tx.kysely.updateTable('grants').set({ last_refresh_at: idleSince }).where('id', 'in', batch).execute();
        ids.push(...batch);
      });
    }
    console.log(
      `Seeded ${ids.length} grants, last refreshed 20 days ago, in ${((now() - started) / 1000).toFixed(1)} s`,
    );

    const reset = await world.ask({ type: 'identity-reset' });
    if (reset.type !== 'identity-reset') throw new Error('reset failed');
    const limiter = side.runtime.services.tokenRequests;
    const grantedBefore = limiter.stats().granted;
    const logger = side.runtime.log.logger.child({ component: 'token-keeper' });
    const concurrency = Number(process.env.BENCH_CONCURRENCY ?? String(keeperConcurrency(RATE)));
    const keepers = Array.from(
      { length: KEEPERS },
      () => new TokenKeeper(side.runtime.services.tokenUpkeep, logger, { concurrency, progressEveryMs: 30_000 }),
    );
    const progress = setInterval(() => {
      const p = keepers[0]?.progress();
      if (p !== undefined)
        console.log(
          `  ${((now() - started) / 1000).toFixed(0)} s: due ${p.due}, refreshed ${p.refreshed}, skipped ${p.skipped}, failed ${p.failed}, waiting ${p.waiting}`,
        );
    }, 30_000);
    started = now();
    const reports = await Promise.all(keepers.map((keeper) => keeper.runOnce()));
    const elapsedMs = now() - started;
    clearInterval(progress);

    const report = await world.ask({ type: 'identity-report' });
    if (report.type !== 'identity-report') throw new Error('no identity report');
    const stillDue = await db.kysely
      .selectFrom('grants')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('last_refresh_at', '<=', idleSince)
      .executeTakeFirstOrThrow();
    const arrivals = [...report.tokenArrivals].sort((a, b) => a - b);
    const sum = (field: 'refreshed' | 'skipped' | 'failed'): number => reports.reduce((n, r) => n + r[field], 0);
    const first = arrivals[0] ?? 0;
    const last = arrivals.at(-1) ?? 0;
    console.log('');
    console.log(`Keeper runs: refreshed ${sum('refreshed')}, skipped ${sum('skipped')}, failed ${sum('failed')}`);
    console.log(`Grants still due after the run: ${Number(stillDue.n)}`);
    console.log(
      `Refresh redemptions at the emulator: ${report.redemptions.redemptions} over ${report.redemptions.chains} chains; duplicates ${report.redemptions.extraRedemptions} (chains redeemed more than once: ${report.redemptions.repeatedChains})`,
    );
    console.log(
      `Time until all refreshed: ${(elapsedMs / 1000).toFixed(1)} s (target ${TARGET_MS / 1000} s; ${GRANTS} / ${RATE} per s = ${(GRANTS / RATE).toFixed(0)} s at the pace)`,
    );
    console.log(
      `Token requests: ${arrivals.length} at the emulator, ${limiter.stats().granted - grantedBefore} let through by the pace, over ${((last - first) / 1000).toFixed(1)} s = ${((arrivals.length - 1) / ((last - first) / 1000)).toFixed(1)}/s`,
    );
    console.log(
      `Most token requests in any 1-second window: ${maxInWindow(arrivals, 1000)} at the emulator (configured ${RATE}/s)`,
    );
    console.log(
      `Load average after: ${os
        .loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await side.close();
    await world.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
