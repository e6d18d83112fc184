/**
 * Sending counters in the database, so that an account's limits hold across every Postern node
 * sharing it. Two kinds of rows in `rate_counters`, keyed by (account, kind, window start):
 * - `messages`: one row per instant (millisecond) at which submissions ended — the sliding minute
 *   is the sum of rows newer than a minute (plus the safety margin), to which the claim adds the
 *   submissions still in flight; written when a submission's outcome is recorded;
 * - `recipients`: one row per minute bucket, counting envelope recipients — the rolling day is the
 *   sum of buckets that started less than a day (plus two buckets) ago; written by the claim, in
 *   its transaction, and given back when the server refused the message.
 *
 * @see ../domain/outbox-policy.ts for the windows and the decision
 */
import type { Database } from './database.js';
import { fromDbTimeOrNull, toDbTime } from './time.js';
import {
  messageWindowStart,
  recipientBucketOf,
  recipientWindowStart,
  MESSAGE_WINDOW_MS,
  RECIPIENT_WINDOW_MS,
  RECIPIENT_BUCKET_MS,
} from '../domain/outbox-policy.js';

/** The counted kinds. */
export type RateCounterKind = 'messages' | 'recipients';

/** An account's usage in the current windows. */
export interface CountedUsage {
  readonly messagesInWindow: number;
  readonly oldestMessageAt: Date | null;
  readonly recipientsInWindow: number;
  readonly oldestRecipientBucketAt: Date | null;
}

/** Submissions that ended in the sliding minute, and recipients claimed in the rolling day. */
export async function countSendingUsage(db: Database, accountId: number, now: Date): Promise<CountedUsage> {
  const [messages, recipients] = await Promise.all([
    sumSince(db, accountId, 'messages', messageWindowStart(now)),
    sumSince(db, accountId, 'recipients', recipientWindowStart(now)),
  ]);
  return {
    messagesInWindow: messages.total,
    oldestMessageAt: messages.oldest,
    recipientsInWindow: recipients.total,
    oldestRecipientBucketAt: recipients.oldest,
  };
}

/** Counts the recipients of messages claimed at `at` against the rolling day. */
export async function recordRecipients(db: Database, accountId: number, at: Date, recipients: number): Promise<void> {
  if (recipients > 0) await increment(db, accountId, 'recipients', recipientBucketOf(at), recipients);
}

/** Counts a submission that ended at `at` (sent or refused by the server) in the sliding minute. */
export async function recordSubmissionEnd(db: Database, accountId: number, at: Date): Promise<void> {
  await increment(db, accountId, 'messages', at, 1);
}

/**
 * Gives back the recipients of a claim that certainly never reached the server's acceptance (it
 * refused the message, or no connection was made), so that failures do not eat the day's room.
 * The message count stays: Exchange may count attempts too.
 */
export async function refundRecipients(
  db: Database,
  accountId: number,
  claimedAt: Date,
  recipients: number,
): Promise<void> {
  if (recipients <= 0) return;
  await db.kysely
    .updateTable('rate_counters')
    .set((eb) => ({ count: eb('count', '-', recipients) }))
    .where('account_id', '=', accountId)
    .where('window_kind', '=', 'recipients')
    .where('window_start', '=', toDbTime(recipientBucketOf(claimedAt)))
    .where('count', '>=', recipients)
    .execute();
}

/** Deletes counters that no window can reach any more. Returns how many. */
export async function pruneRateCounters(db: Database, now: Date): Promise<number> {
  const messages = await db.kysely
    .deleteFrom('rate_counters')
    .where('window_kind', '=', 'messages')
    .where('window_start', '<', toDbTime(new Date(now.getTime() - 2 * MESSAGE_WINDOW_MS)))
    .executeTakeFirst();
  const recipients = await db.kysely
    .deleteFrom('rate_counters')
    .where('window_kind', '=', 'recipients')
    .where('window_start', '<', toDbTime(new Date(now.getTime() - RECIPIENT_WINDOW_MS - 2 * RECIPIENT_BUCKET_MS)))
    .executeTakeFirst();
  return Number(messages.numDeletedRows) + Number(recipients.numDeletedRows);
}

async function sumSince(
  db: Database,
  accountId: number,
  kind: RateCounterKind,
  after: Date,
): Promise<{ total: number; oldest: Date | null }> {
  const row = await db.kysely
    .selectFrom('rate_counters')
    .select((eb) => [
      eb.fn.sum<number | string | null>('count').as('total'),
      eb.fn.min<string | null>('window_start').as('oldest'),
    ])
    .where('account_id', '=', accountId)
    .where('window_kind', '=', kind)
    .where('window_start', '>', toDbTime(after))
    .where('count', '>', 0)
    .executeTakeFirst();
  return { total: Number(row?.total ?? 0), oldest: fromDbTimeOrNull(row?.oldest ?? null) };
}

async function increment(
  db: Database,
  accountId: number,
  kind: RateCounterKind,
  windowStart: Date,
  by: number,
): Promise<void> {
  await db.kysely
    .insertInto('rate_counters')
    .values({ account_id: accountId, window_kind: kind, window_start: toDbTime(windowStart), count: by })
    .onConflict((conflict) =>
      conflict
        .columns(['account_id', 'window_kind', 'window_start'])
        .doUpdateSet((eb) => ({ count: eb('rate_counters.count', '+', eb.ref('excluded.count')) })),
    )
    .execute();
}
