import { describe, expect, it } from 'vitest';
import { SubmissionLimits } from './submission-limits.js';

function clock(start = 0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('SubmissionLimits', () => {
  it('allows 3 concurrent submissions per mailbox', () => {
    const limits = new SubmissionLimits(clock());
    expect([1, 2, 3, 4].map(() => limits.beginSubmission('a'))).toEqual([true, true, true, false]);
    expect(limits.beginSubmission('b')).toBe(true);
    limits.endSubmission('a');
    expect(limits.beginSubmission('a')).toBe(true);
  });

  it('counts recipients over a rolling 24 hours', () => {
    const c = clock();
    const limits = new SubmissionLimits(c);
    expect(limits.takeRecipients('a', 6_000)).toBe(true);
    c.advance(12 * 3_600_000);
    expect(limits.takeRecipients('a', 4_000)).toBe(true);
    expect(limits.takeRecipients('a', 1)).toBe(false);
    c.advance(12 * 3_600_000 + 1);
    expect(limits.recipientsUsed('a')).toBe(4_000);
    expect(limits.takeRecipients('a', 6_000)).toBe(true);
  });

  it('carries messages beyond 30 a minute over to the following minutes, in order', () => {
    const c = clock(1_000_000);
    const limits = new SubmissionLimits(c);
    const times = Array.from({ length: 80 }, () => limits.scheduleDelivery('a'));
    expect(times.slice(0, 30).every((t) => t === 1_000_000)).toBe(true);
    expect(times.slice(30, 60).every((t) => t === 1_060_000)).toBe(true);
    expect(times.slice(60).every((t) => t === 1_120_000)).toBe(true);
    c.advance(10 * 60_000);
    expect(limits.scheduleDelivery('a')).toBe(c.now());
  });
});
