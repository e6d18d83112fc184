import { describe, expect, it } from 'vitest';
import { DEFAULT_WEBHOOK_RETRY, webhookRetryDelay } from './webhook-retry.js';

describe('webhookRetryDelay', () => {
  const policy = { ...DEFAULT_WEBHOOK_RETRY, jitter: 0 };

  it('doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 7, 8, 12].map((attempt) => webhookRetryDelay(attempt, policy, 0.5))).toEqual([
      30_000, 60_000, 120_000, 240_000, 1_920_000, 3_600_000, 3_600_000,
    ]);
  });

  it('gives up after the last attempt', () => {
    expect(webhookRetryDelay(19, policy, 0.5)).not.toBeNull();
    expect(webhookRetryDelay(20, policy, 0.5)).toBeNull();
  });

  it('spreads each delay by the jitter', () => {
    const jittered = { ...policy, jitter: 0.2 };
    expect(webhookRetryDelay(1, jittered, 0)).toBe(24_000);
    expect(webhookRetryDelay(1, jittered, 0.999999)).toBeCloseTo(36_000, -1);
  });

  it('retries for about 13 hours with the defaults', () => {
    let total = 0;
    for (let attempt = 1; attempt < DEFAULT_WEBHOOK_RETRY.maxAttempts; attempt += 1)
      total += webhookRetryDelay(attempt, policy, 0.5) ?? 0;
    expect(total / 3_600_000).toBeGreaterThan(12);
    expect(total / 3_600_000).toBeLessThan(14);
  });
});
