/**
 * When a failed webhook delivery is tried again: exponential backoff with jitter, capped, for a
 * fixed number of attempts. With the defaults (30 s doubling to at most one hour, 20 attempts) a
 * delivery is retried for about 13 hours before it is given up; a webhook whose every attempt
 * failed over such a window is disabled (see workers/webhook-dispatcher.ts).
 */

/** The retry schedule. */
export interface WebhookRetryPolicy {
  /** Delay before the second attempt. */
  readonly baseMs: number;
  /** Longest delay between attempts. */
  readonly maxDelayMs: number;
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** Relative spread of each delay, 0–1 (0.2 = ±20%), so that receivers are not hit in waves. */
  readonly jitter: number;
}

/** The default schedule. */
export const DEFAULT_WEBHOOK_RETRY: WebhookRetryPolicy = {
  baseMs: 30_000,
  maxDelayMs: 3_600_000,
  maxAttempts: 20,
  jitter: 0.2,
};

/**
 * The delay before the attempt after `attempt` (1-based) failed, or null when no attempt is left.
 *
 * @param random a number in [0, 1)
 */
export function webhookRetryDelay(attempt: number, policy: WebhookRetryPolicy, random: number): number | null {
  if (attempt >= policy.maxAttempts) return null;
  const exponential = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const spread = 1 + policy.jitter * (2 * random - 1);
  return Math.max(0, Math.round(exponential * spread));
}

/**
 * The furthest ahead a retry is ever scheduled under `policy` (its longest delay with jitter): a
 * time further ahead means the clock was set back (domain/scheduled-time.ts).
 */
export function longestWebhookDelayMs(policy: WebhookRetryPolicy): number {
  return Math.ceil(policy.maxDelayMs * (1 + policy.jitter));
}
