import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, longestOutboxDelayMs, SENDER_THROTTLE_HOLD_MS } from './outbox-policy.js';
import { CLOCK_SET_BACK_MARGIN_MS, isScheduledDue, setBackBound } from './scheduled-time.js';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const at = (ms: number): Date => new Date(NOW.getTime() + ms);

describe('scheduled times and a clock set back', () => {
  it('is due when its time has come, or when it lies beyond the longest delay and the margin', () => {
    const longest = 3_600_000;
    expect(isScheduledDue(at(0), NOW, longest)).toBe(true);
    expect(isScheduledDue(at(-1), NOW, longest)).toBe(true);
    expect(isScheduledDue(at(1), NOW, longest)).toBe(false);
    expect(isScheduledDue(at(longest + CLOCK_SET_BACK_MARGIN_MS), NOW, longest)).toBe(false);
    expect(isScheduledDue(at(longest + CLOCK_SET_BACK_MARGIN_MS + 1), NOW, longest)).toBe(true);
    expect(setBackBound(NOW, longest)).toEqual(at(longest + CLOCK_SET_BACK_MARGIN_MS));
  });

  it("covers the outbox's longest retry with jitter and the sender-throttle hold", () => {
    const longest = longestOutboxDelayMs();
    expect(longest).toBeGreaterThanOrEqual(DEFAULT_RETRY_POLICY.maxDelayMs * (1 + DEFAULT_RETRY_POLICY.jitter));
    expect(longest).toBeGreaterThanOrEqual(SENDER_THROTTLE_HOLD_MS);
    expect(longestOutboxDelayMs({ baseDelayMs: 1000, maxDelayMs: 10 * 3_600_000, jitter: 0.5 })).toBe(15 * 3_600_000);
  });
});
