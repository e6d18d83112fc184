/**
 * Outbox policy: how many queued messages of one account may be handed to the submission server
 * now, without exceeding Exchange Online's sending limits, and when a message that failed for a
 * temporary reason is tried again. Pure: the store supplies the counts, the dispatcher the clock.
 *
 * Limits (per mailbox, all configurable per account):
 * - at most `perMinute` messages in any sliding window of one minute (Exchange: 30). A message
 *   counts from its claim while it is in flight, then for a minute after its submission ended:
 *   Exchange accepts it somewhere in between, and under load that can be seconds after the claim;
 * - at most `recipientsPerDay` recipients in any rolling 24 hours (Exchange: 10,000);
 * - at most `concurrency` submissions at the same time (Exchange: 3, `432 4.3.2` beyond).
 * A message over a limit waits; it never fails for it.
 *
 * @see https://learn.microsoft.com/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits#sending-limits
 * @see https://learn.microsoft.com/exchange/troubleshoot/send-emails/smtp-submission-improvements
 */

/** One account's sending limits. */
export interface SendingLimits {
  readonly perMinute: number;
  readonly recipientsPerDay: number;
  readonly concurrency: number;
}

/** What the account has used, as counted in the database. */
export interface SendingUsage {
  /** Submissions claimed and not finished (leases still running). */
  readonly inFlight: number;
  /** Submissions that ended within the current sliding minute (in-flight ones are `inFlight`). */
  readonly messagesInWindow: number;
  /** When the oldest of those ended; null when none. */
  readonly oldestMessageAt: Date | null;
  /** Recipients counted in the rolling day. */
  readonly recipientsInWindow: number;
  /** Start of the oldest recipient bucket still counted; null when none. */
  readonly oldestRecipientBucketAt: Date | null;
}

/** A due message, in the order it should leave. */
export interface ClaimCandidate {
  readonly id: number;
  readonly recipients: number;
}

/** Why an account cannot send more right now. */
export type WaitReason = 'concurrency' | 'per-minute' | 'recipients-per-day';

/** The decision for one account. */
export interface ClaimPlan {
  /** Candidates to claim now, in order. */
  readonly take: readonly number[];
  /** Candidates that can never be sent under the limits (more recipients than a whole day allows). */
  readonly impossible: readonly number[];
  /** Why the rest waits, if it does. */
  readonly waitReason: WaitReason | null;
  /** When a slot frees by time alone (null when only a finishing submission frees one). */
  readonly retryAt: Date | null;
}

/**
 * The sliding minute of the message limit, with a one-second safety margin: the limit is counted
 * when Postern claims a message, Exchange counts when it accepts it, a few milliseconds later.
 */
export const MESSAGE_WINDOW_MS = 61_000;
/** The rolling day of the recipient limit. */
export const RECIPIENT_WINDOW_MS = 86_400_000;
/**
 * Recipients are counted, when a message is claimed, in buckets of one minute; a bucket counts
 * for a whole day after the end of the next one (room for the delay between claim and acceptance).
 */
export const RECIPIENT_BUCKET_MS = 60_000;

/**
 * How long an account's sending is held after Exchange answered `550 5.2.251`–`5.2.255 Sender
 * throttled due to continuous … errors`. Microsoft does not document how long the block of SMTP
 * AUTH submissions lasts, and submitting into it can extend it: an hour is a conservative guess.
 *
 * @see https://learn.microsoft.com/exchange/mail-flow-best-practices/continuous-error-throttling-smtp-auth-submissions
 */
export const SENDER_THROTTLE_HOLD_MS = 3_600_000;

/**
 * Outlook's MailboxConcurrency limit on Microsoft Graph: 4 requests at a time per application and
 * mailbox, the fifth answered 429. An account that sends through Graph never has more submissions
 * in flight than this, whatever its concurrency setting says.
 *
 * @see https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits
 */
export const GRAPH_MAX_CONCURRENT_SENDS = 4;

/** The concurrency the dispatcher applies to an account of this transport. */
export function sendingConcurrency(transport: string, configured: number): number {
  // `auto` may send through Graph at any time: it keeps Graph's limit too.
  return transport === 'imap_smtp' ? configured : Math.min(configured, GRAPH_MAX_CONCURRENT_SENDS);
}

/** Exchange Online's defaults. */
export const EXCHANGE_SENDING_LIMITS: SendingLimits = { perMinute: 30, recipientsPerDay: 10_000, concurrency: 3 };

/**
 * Which due messages may be claimed now: first in, first out, while every limit holds. A message
 * whose recipients do not fit the day's remaining room stops the queue (later, smaller messages
 * do not overtake it), unless it could never fit, which is reported in `impossible`.
 */
export function planClaims(
  limits: SendingLimits,
  usage: SendingUsage,
  candidates: readonly ClaimCandidate[],
  now: Date,
): ClaimPlan {
  const take: number[] = [];
  const impossible: number[] = [];
  let slots = Math.max(0, limits.concurrency - usage.inFlight);
  let messages = Math.max(0, limits.perMinute - usage.messagesInWindow - usage.inFlight);
  let recipients = Math.max(0, limits.recipientsPerDay - usage.recipientsInWindow);
  for (const candidate of candidates) {
    if (candidate.recipients > limits.recipientsPerDay) {
      impossible.push(candidate.id);
      continue;
    }
    if (slots === 0) return { take, impossible, waitReason: 'concurrency', retryAt: null };
    if (messages === 0) return { take, impossible, waitReason: 'per-minute', retryAt: messageSlotAt(usage) };
    if (candidate.recipients > recipients)
      return { take, impossible, waitReason: 'recipients-per-day', retryAt: recipientRoomAt(usage, now) };
    take.push(candidate.id);
    slots -= 1;
    messages -= 1;
    recipients -= candidate.recipients;
  }
  return { take, impossible, waitReason: null, retryAt: null };
}

/**
 * When the message window frees a slot by time: the oldest finished submission leaves it. Null
 * when only submissions in flight fill it (their end wakes the dispatcher).
 */
function messageSlotAt(usage: SendingUsage): Date | null {
  return usage.oldestMessageAt === null ? null : new Date(usage.oldestMessageAt.getTime() + MESSAGE_WINDOW_MS);
}

/** When the recipient window frees room: the oldest bucket stops counting. */
function recipientRoomAt(usage: SendingUsage, now: Date): Date {
  const oldest = usage.oldestRecipientBucketAt ?? now;
  return new Date(oldest.getTime() + 2 * RECIPIENT_BUCKET_MS + RECIPIENT_WINDOW_MS);
}

/** The start of the recipient bucket a time falls in. */
export function recipientBucketOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / RECIPIENT_BUCKET_MS) * RECIPIENT_BUCKET_MS);
}

/** Buckets that start after this time still count in the rolling day. */
export function recipientWindowStart(now: Date): Date {
  return new Date(now.getTime() - RECIPIENT_WINDOW_MS - 2 * RECIPIENT_BUCKET_MS);
}

/** Submissions that ended after this time are in the sliding minute. */
export function messageWindowStart(now: Date): Date {
  return new Date(now.getTime() - MESSAGE_WINDOW_MS);
}

/** How temporary failures are retried. */
export interface RetryPolicy {
  /** First delay. Default 30 seconds. */
  readonly baseDelayMs: number;
  /** Longest delay. Default one hour. */
  readonly maxDelayMs: number;
  /** Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. Default 0.2. */
  readonly jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 30_000, maxDelayMs: 3_600_000, jitter: 0.2 };

/**
 * The longest wait a server's `Retry-After` may ask for that is honoured (Graph's 429 and 503):
 * an hour, the retry policy's own longest delay. A longer one is cut to it, so that no attempt is
 * ever scheduled further ahead than {@link longestOutboxDelayMs}.
 */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * The furthest ahead an outbox row's next attempt or an account's sending hold is ever set under
 * `policy`: its longest delay with jitter, the sender-throttle hold, a capped `Retry-After`. A
 * time further ahead means the clock was set back (domain/scheduled-time.ts).
 */
export function longestOutboxDelayMs(policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  return Math.max(Math.ceil(policy.maxDelayMs * (1 + policy.jitter)), SENDER_THROTTLE_HOLD_MS, MAX_RETRY_AFTER_MS);
}

/** What happens after a temporary failure. */
export type RetryDecision = { readonly kind: 'retry'; readonly at: Date } | { readonly kind: 'give-up' };

/**
 * After the `attempt`-th attempt (1-based) failed temporarily: try again after an exponentially
 * growing delay with jitter, but never past `firstFailedAt + retryForMs`; at that deadline, give up.
 */
export function decideRetry(input: {
  readonly attempt: number;
  readonly firstFailedAt: Date;
  readonly now: Date;
  readonly retryForMs: number;
  /** A number in [0, 1). */
  readonly random: number;
  readonly policy?: RetryPolicy;
}): RetryDecision {
  const policy = input.policy ?? DEFAULT_RETRY_POLICY;
  const deadline = input.firstFailedAt.getTime() + input.retryForMs;
  const now = input.now.getTime();
  if (now >= deadline) return { kind: 'give-up' };
  const exponent = Math.min(Math.max(input.attempt, 1) - 1, 30);
  const base = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  const factor = 1 - policy.jitter + 2 * policy.jitter * Math.min(Math.max(input.random, 0), 1);
  return { kind: 'retry', at: new Date(Math.min(now + Math.round(base * factor), deadline)) };
}
