import { describe, expect, it } from 'vitest';
import { TokenRequestLimiter, type LimiterClock, type TokenRequestPriority } from './token-request-limiter.js';

/**
 * A clock that jumps to the end of every wait — after a turn of the event loop, so that whoever
 * was let through notes the time before it moves.
 */
function fakeClock(start = 1_000): LimiterClock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      await new Promise((resolve) => setImmediate(resolve));
      now += ms;
    },
  };
}

/** The largest number of times inside any half-open window of `windowMs`. */
function maxInWindow(times: readonly number[], windowMs: number): number {
  let max = 0;
  let start = 0;
  for (let end = 0; end < times.length; end += 1) {
    while ((times[end] ?? 0) - (times[start] ?? 0) >= windowMs) start += 1;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

describe('token request limiter', () => {
  it('spaces 100 requests 1/rate apart: never more than the rate in any second', async () => {
    const clock = fakeClock();
    const limiter = new TokenRequestLimiter({ perSecond: 20, clock });
    const times: number[] = [];
    await Promise.all(Array.from({ length: 100 }, () => limiter.acquire('upkeep').then(() => times.push(clock.now()))));
    expect(times).toHaveLength(100);
    for (let i = 1; i < times.length; i += 1) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(50);
    expect(maxInWindow(times, 1000)).toBe(20);
    // 99 intervals after the first, which goes at once.
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBe(99 * 50);
    expect(limiter.stats().granted).toBe(100);
  });

  it('lets a first request through at once and refills to one token only after a pause', async () => {
    const clock = fakeClock();
    const limiter = new TokenRequestLimiter({ perSecond: 10, clock });
    await limiter.acquire('demand');
    expect(clock.sleeps).toEqual([]);
    // A long pause does not bank a burst: the bucket is one token deep.
    await clock.sleep(10_000);
    const times: number[] = [];
    await Promise.all([1, 2, 3].map(() => limiter.acquire('demand').then(() => times.push(clock.now()))));
    expect(times.map((t) => t - (times[0] ?? 0))).toEqual([0, 100, 200]);
  });

  it('serves a sign-in before waiting renewals, and on-demand tokens before the keeper', async () => {
    const clock = fakeClock();
    const limiter = new TokenRequestLimiter({ perSecond: 5, clock });
    const order: string[] = [];
    const take = (priority: TokenRequestPriority, name: string) =>
      limiter.acquire(priority).then(() => order.push(name));
    const all = [take('upkeep', 'u1'), take('upkeep', 'u2'), take('upkeep', 'u3'), take('demand', 'd1')];
    all.push(take('interactive', 'i1'));
    await Promise.all(all);
    // u1 went at once (the bucket was full); then the most urgent waiting one at each slot.
    expect(order).toEqual(['u1', 'i1', 'd1', 'u2', 'u3']);
  });

  it('counts what waits, by priority', async () => {
    const clock = fakeClock();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: LimiterClock = { now: clock.now, sleep: async (ms) => gate.then(() => clock.sleep(ms)) };
    const limiter = new TokenRequestLimiter({ perSecond: 1, clock: slow });
    const waits = [limiter.acquire('upkeep'), limiter.acquire('upkeep'), limiter.acquire('interactive')];
    await Promise.resolve();
    expect(limiter.stats().waiting).toEqual({ interactive: 1, demand: 0, upkeep: 1 });
    release();
    await Promise.all(waits);
    expect(limiter.stats().waiting).toEqual({ interactive: 0, demand: 0, upkeep: 0 });
  });

  it('refuses a rate that is not a positive number', () => {
    expect(() => new TokenRequestLimiter({ perSecond: 0 })).toThrow(RangeError);
    expect(() => new TokenRequestLimiter({ perSecond: Number.NaN })).toThrow(RangeError);
  });
});
