import { describe, expect, it } from 'vitest';
import { RefreshRedemptions } from './refresh-redemptions.js';

describe('refresh-token redemptions per chain', () => {
  it('counts chains redeemed more than once and the redemptions beyond the first', () => {
    const counter = new RefreshRedemptions();
    for (const chain of ['a', 'b', 'b', 'c', 'c', 'c']) counter.record(chain);
    expect(counter.summary()).toEqual({
      chains: 3,
      redemptions: 6,
      repeatedChains: 2,
      extraRedemptions: 3,
      maxPerChain: 3,
    });
    expect(counter.clear()).toBe(3);
    expect(counter.summary()).toEqual({
      chains: 0,
      redemptions: 0,
      repeatedChains: 0,
      extraRedemptions: 0,
      maxPerChain: 0,
    });
  });

  it('forgets the oldest chain beyond its capacity', () => {
    const counter = new RefreshRedemptions(2);
    for (const chain of ['a', 'b', 'c']) counter.record(chain);
    expect(counter.summary().chains).toBe(2);
  });
});
