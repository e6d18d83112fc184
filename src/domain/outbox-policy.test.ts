import { describe, expect, it } from 'vitest';
import {
  EXCHANGE_SENDING_LIMITS,
  MESSAGE_WINDOW_MS,
  RECIPIENT_BUCKET_MS,
  RECIPIENT_WINDOW_MS,
  decideRetry,
  planClaims,
  recipientBucketOf,
  sendingConcurrency,
  type SendingUsage,
} from './outbox-policy.js';

const NOW = new Date('2026-03-02T10:00:30.000Z');
const idle: SendingUsage = {
  inFlight: 0,
  messagesInWindow: 0,
  oldestMessageAt: null,
  recipientsInWindow: 0,
  oldestRecipientBucketAt: null,
};
const candidates = (count: number, recipients = 1) =>
  Array.from({ length: count }, (_, i) => ({ id: i + 1, recipients }));

describe('planClaims', () => {
  it('takes at most the free concurrent slots, first in first out', () => {
    const plan = planClaims(EXCHANGE_SENDING_LIMITS, { ...idle, inFlight: 1 }, candidates(10), NOW);
    expect(plan).toEqual({ take: [1, 2], impossible: [], waitReason: 'concurrency', retryAt: null });
  });

  it('stops at the per-minute limit and says when the oldest message leaves the window', () => {
    const oldest = new Date(NOW.getTime() - 20_000);
    const plan = planClaims(
      { ...EXCHANGE_SENDING_LIMITS, concurrency: 100 },
      { ...idle, messagesInWindow: 28, oldestMessageAt: oldest },
      candidates(10),
      NOW,
    );
    expect(plan.take).toEqual([1, 2]);
    expect(plan.waitReason).toBe('per-minute');
    expect(plan.retryAt).toEqual(new Date(oldest.getTime() + MESSAGE_WINDOW_MS));
  });

  it('counts submissions in flight in the minute, and waits for their end rather than for the clock', () => {
    const plan = planClaims(
      { ...EXCHANGE_SENDING_LIMITS, perMinute: 5, concurrency: 10 },
      { ...idle, inFlight: 3, messagesInWindow: 2, oldestMessageAt: null },
      candidates(4),
      NOW,
    );
    expect(plan).toEqual({ take: [], impossible: [], waitReason: 'per-minute', retryAt: null });
  });

  it('keeps a message whose recipients do not fit the day, without letting smaller ones overtake it', () => {
    const bucket = recipientBucketOf(new Date(NOW.getTime() - 3_600_000));
    const usage = { ...idle, recipientsInWindow: 9_990, oldestRecipientBucketAt: bucket };
    const plan = planClaims(
      EXCHANGE_SENDING_LIMITS,
      usage,
      [
        { id: 1, recipients: 5 },
        { id: 2, recipients: 20 },
        { id: 3, recipients: 1 },
      ],
      NOW,
    );
    expect(plan.take).toEqual([1]);
    expect(plan.waitReason).toBe('recipients-per-day');
    expect(plan.retryAt).toEqual(new Date(bucket.getTime() + 2 * RECIPIENT_BUCKET_MS + RECIPIENT_WINDOW_MS));
  });

  it('reports a message that can never fit the daily limit instead of waiting forever', () => {
    const plan = planClaims(
      { ...EXCHANGE_SENDING_LIMITS, recipientsPerDay: 100 },
      idle,
      [
        { id: 7, recipients: 101 },
        { id: 8, recipients: 3 },
      ],
      NOW,
    );
    expect(plan).toEqual({ take: [8], impossible: [7], waitReason: null, retryAt: null });
  });

  it('takes everything when nothing limits it', () => {
    expect(planClaims(EXCHANGE_SENDING_LIMITS, idle, candidates(3), NOW)).toEqual({
      take: [1, 2, 3],
      impossible: [],
      waitReason: null,
      retryAt: null,
    });
  });
});

describe('decideRetry', () => {
  const firstFailedAt = new Date('2026-03-02T09:00:00.000Z');
  const day = 86_400_000;

  it('doubles the delay from 30 seconds, with jitter, up to an hour', () => {
    const delay = (attempt: number, random = 0.5) => {
      const decision = decideRetry({ attempt, firstFailedAt, now: NOW, retryForMs: day, random });
      if (decision.kind !== 'retry') throw new Error('expected a retry');
      return decision.at.getTime() - NOW.getTime();
    };
    expect([1, 2, 3, 4].map((attempt) => delay(attempt))).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(delay(20)).toBe(3_600_000);
    expect(delay(1, 0)).toBe(24_000);
    expect(delay(1, 0.999999)).toBe(36_000);
  });

  it('never schedules past the retry window, and gives up at its end', () => {
    const nearEnd = new Date(firstFailedAt.getTime() + day - 10_000);
    expect(decideRetry({ attempt: 12, firstFailedAt, now: nearEnd, retryForMs: day, random: 0.5 })).toEqual({
      kind: 'retry',
      at: new Date(firstFailedAt.getTime() + day),
    });
    expect(
      decideRetry({
        attempt: 13,
        firstFailedAt,
        now: new Date(firstFailedAt.getTime() + day),
        retryForMs: day,
        random: 0.5,
      }),
    ).toEqual({ kind: 'give-up' });
  });
});

describe('sendingConcurrency', () => {
  it("caps an account sending through Graph at Outlook's 4 per mailbox, and leaves SMTP's setting alone", () => {
    expect(sendingConcurrency('graph', 10)).toBe(4);
    expect(sendingConcurrency('graph', 3)).toBe(3);
    expect(sendingConcurrency('imap_smtp', 10)).toBe(10);
  });
});
