/**
 * The outbox: one row per outgoing message, the dispatcher's work queue. A row is `queued` until
 * a dispatcher claims it (`sending`, with a lease: `claimed_by`, `claimed_until`), then `sent`,
 * `queued` again for a retry, or `failed`; a queued row can be `cancelled`, a failed or cancelled
 * one queued again. Every transition also sets the message's delivery state, in the same
 * statement group, so the two never disagree.
 *
 * Claims are made per account under an account-wide lock — PostgreSQL's advisory transaction
 * lock, SQLite's single writer — so that several nodes can never together exceed the account's
 * limits; rows are selected `FOR UPDATE SKIP LOCKED` on PostgreSQL.
 *
 * Crash safety: a claim's lease runs out if its node dies; expired claims are queued again and
 * resent. A message is therefore sent twice only if it was being submitted when its node died.
 *
 * @see https://www.postgresql.org/docs/current/sql-select.html#SQL-FOR-UPDATE-SHARE (SKIP LOCKED)
 * @see https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS
 */
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { z } from 'zod';
import { longestOutboxDelayMs, planClaims, type SendingLimits, type WaitReason } from '../domain/outbox-policy.js';
import { setBackBound } from '../domain/scheduled-time.js';
import { PosternError } from '../errors/index.js';
import type { Database } from './database.js';
import { fromJsonText, toJsonText } from './json-column.js';
import { countSendingUsage, recordRecipients } from './rate-counters.js';
import type { DB, OutboxState, Row, Timestamp } from './schema.js';
import { toDbTime } from './time.js';

/** The SMTP envelope of a message. */
export interface Envelope {
  readonly from: string;
  readonly to: readonly string[];
}

/** An error as recorded on a row. */
export interface OutboxError {
  readonly code: string;
  readonly message: string;
  readonly remedy: string | null;
}

/** An outbox row. */
export interface OutboxRecord {
  readonly id: number;
  readonly messageId: number;
  readonly accountId: number;
  readonly state: OutboxState;
  readonly attempts: number;
  readonly nextAttemptAt: Timestamp;
  readonly claimedBy: string | null;
  readonly claimedUntil: Timestamp | null;
  readonly envelope: Envelope;
  readonly recipientCount: number;
  readonly firstFailedAt: Timestamp | null;
  readonly lastAttemptAt: Timestamp | null;
  readonly lastError: OutboxError | null;
  readonly lastResponse: string | null;
  readonly sentAt: Timestamp | null;
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
}

/** What a claim asks for. */
export interface ClaimRequest {
  readonly accountId: number;
  readonly limits: SendingLimits;
  readonly now: Date;
  /** Unique per claim: a late answer of an older claim can never touch a newer one. */
  readonly claimer: string;
  readonly leaseMs: number;
  /** At most this many rows (the node's free capacity). */
  readonly max: number;
}

/** What a claim got. */
export interface ClaimResult {
  readonly claimed: OutboxRecord[];
  /** Rows that can never be sent under the limits (more recipients than a day allows). */
  readonly impossible: OutboxRecord[];
  readonly waitReason: WaitReason | null;
  /** When time alone frees room again, if it does. */
  readonly retryAt: Date | null;
}

const envelopeSchema = z.object({ from: z.string(), to: z.array(z.string()) });
/** The lock class of per-account claims: "post" in ASCII. */
const CLAIM_LOCK_CLASS = 0x706f7374;

/** Queues a message (inside the transaction that stores it). */
export async function insertOutboxRow(
  db: Database,
  row: { messageId: number; accountId: number; envelope: Envelope; at: Date },
): Promise<OutboxRecord> {
  const at = toDbTime(row.at);
  const inserted = await db.kysely
    .insertInto('outbox')
    .values({
      message_id: row.messageId,
      account_id: row.accountId,
      state: 'queued',
      next_attempt_at: at,
      envelope_json: toJsonText({ from: row.envelope.from, to: [...row.envelope.to] }),
      recipient_count: row.envelope.to.length,
      created_at: at,
      updated_at: at,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toOutboxRecord(inserted);
}

/** The outbox row of a message, if it has one. */
export async function getOutboxByMessage(db: Database, messageId: number): Promise<OutboxRecord | undefined> {
  const row = await db.kysely.selectFrom('outbox').selectAll().where('message_id', '=', messageId).executeTakeFirst();
  return row === undefined ? undefined : toOutboxRecord(row);
}

/** The outbox rows of these messages (those that have one), for a conversation's delivery states. */
export async function listOutboxByMessages(db: Database, messageIds: readonly number[]): Promise<OutboxRecord[]> {
  const out: OutboxRecord[] = [];
  for (let i = 0; i < messageIds.length; i += OUTBOX_LOOKUP_CHUNK) {
    const chunk = messageIds.slice(i, i + OUTBOX_LOOKUP_CHUNK);
    const rows = await db.kysely.selectFrom('outbox').selectAll().where('message_id', 'in', chunk).execute();
    out.push(...rows.map(toOutboxRecord));
  }
  return out;
}

/** Ids per `IN (...)` list: well under SQLite's bound-parameter limit. */
const OUTBOX_LOOKUP_CHUNK = 500;

/** The outbox row with this id. */
export async function getOutboxRow(db: Database, id: number): Promise<OutboxRecord | undefined> {
  const row = await db.kysely.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toOutboxRecord(row);
}

/**
 * Claims the account's due rows that its limits allow now, first in first out, and counts their
 * recipients against the rolling day — all in one transaction under the account's lock. The
 * claimed rows count in the sliding minute as in flight until their outcome is recorded.
 */
export async function claimDueMessages(db: Database, request: ClaimRequest): Promise<ClaimResult> {
  return db.transaction(async (tx) => {
    if (tx.engine === 'postgres')
      await sql`select pg_advisory_xact_lock(${CLAIM_LOCK_CLASS}, ${request.accountId})`.execute(tx.kysely);
    const now = toDbTime(request.now);
    const inFlight = await tx.kysely
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number | string>().as('total'))
      .where('account_id', '=', request.accountId)
      .where('state', '=', 'sending')
      .where('claimed_until', '>', now)
      .executeTakeFirstOrThrow();
    const usage = await countSendingUsage(tx, request.accountId, request.now);
    const room = Math.max(0, Math.min(request.max, request.limits.concurrency, request.limits.perMinute));
    const rows = await tx.kysely
      .selectFrom('outbox')
      .selectAll()
      .where('account_id', '=', request.accountId)
      .where('state', '=', 'queued')
      .where((eb) => dueNextAttempt(eb, request.now))
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(room + 10)
      .$call((query) => (tx.engine === 'postgres' ? query.forUpdate().skipLocked() : query))
      .execute();
    const plan = planClaims(
      request.limits,
      { inFlight: Number(inFlight.total), ...usage },
      rows.map((row) => ({ id: row.id, recipients: row.recipient_count })),
      request.now,
    );
    const take = plan.take.slice(0, room);
    const impossible = rows.filter((row) => plan.impossible.includes(row.id)).map(toOutboxRecord);
    if (take.length === 0)
      return {
        claimed: [],
        impossible,
        waitReason: plan.waitReason ?? (room === 0 ? 'concurrency' : null),
        retryAt: plan.retryAt,
      };
    const until = toDbTime(new Date(request.now.getTime() + request.leaseMs));
    const claimed = await tx.kysely
      .updateTable('outbox')
      .set((eb) => ({
        state: 'sending',
        claimed_by: request.claimer,
        claimed_until: until,
        attempts: eb('attempts', '+', 1),
        last_attempt_at: now,
        updated_at: now,
      }))
      .where('id', 'in', take)
      .returningAll()
      .execute();
    await setDeliveryState(
      tx,
      claimed.map((row) => row.message_id),
      { delivery_state: 'sending', updated_at: now },
    );
    await recordRecipients(
      tx,
      request.accountId,
      request.now,
      claimed.reduce((sum, row) => sum + row.recipient_count, 0),
    );
    const order = new Map(take.map((id, index) => [id, index]));
    const records = claimed.map(toOutboxRecord).sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    return { claimed: records, impossible, waitReason: plan.waitReason, retryAt: plan.retryAt };
  });
}

/**
 * An outbox row's next attempt is due at `now`: its time has come, or it lies further ahead than
 * any retry or hold is ever scheduled — the clock was set back since (domain/scheduled-time.ts).
 */
export function dueNextAttempt(eb: ExpressionBuilder<DB, 'outbox'>, now: Date): Expression<SqlBool> {
  return eb.or([
    eb('outbox.next_attempt_at', '<=', toDbTime(now)),
    eb('outbox.next_attempt_at', '>', toDbTime(setBackBound(now, longestOutboxDelayMs()))),
  ]);
}

/** Extends the leases of claims still being worked on. Returns how many were extended. */
export async function renewClaims(db: Database, claimers: readonly string[], until: Date): Promise<number> {
  if (claimers.length === 0) return 0;
  const result = await db.kysely
    .updateTable('outbox')
    .set({ claimed_until: toDbTime(until) })
    .where('state', '=', 'sending')
    .where('claimed_by', 'in', [...claimers])
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Queues again the claims whose lease ran out (their node died or hung), and those of `deadNodes`
 * (nodes whose heartbeat went silent: a claimer is `<node id>#<n>`) — or, with `all`, every claim:
 * a single SQLite process at start knows that nothing else is sending. Returns them.
 */
export async function releaseClaims(
  db: Database,
  now: Date,
  scope: 'expired' | 'all',
  deadNodes: readonly string[] = [],
): Promise<OutboxRecord[]> {
  const at = toDbTime(now);
  return db.transaction(async (tx) => {
    let query = tx.kysely
      .updateTable('outbox')
      .set({ state: 'queued', claimed_by: null, claimed_until: null, next_attempt_at: at, updated_at: at })
      .where('state', '=', 'sending');
    if (scope === 'expired')
      query = query.where((eb) =>
        eb.or([
          eb('claimed_until', '<=', at),
          // A prefix compared as a string, not with LIKE: a host name may hold `_`, LIKE's wildcard.
          ...deadNodes.map((node) =>
            eb(eb.fn('substr', ['claimed_by', eb.val(1), eb.val(node.length + 1)]), '=', `${node}#`),
          ),
        ]),
      );
    const released = await query.returningAll().execute();
    await setDeliveryState(
      tx,
      released.map((row) => row.message_id),
      { delivery_state: 'queued', updated_at: at },
    );
    return released.map(toOutboxRecord);
  });
}

/**
 * Records that the server accepted the message. A message that was sent is recorded as sent
 * whatever happened to its claim meanwhile (a lease that ran out, a retry queued): the truth wins,
 * and a needless second submission is avoided. Returns false when it was already recorded.
 */
export async function markOutboxSent(
  db: Database,
  id: number,
  result: { response: string; at: Date },
): Promise<boolean> {
  const at = toDbTime(result.at);
  const row = await db.kysely
    .updateTable('outbox')
    .set({
      state: 'sent',
      claimed_by: null,
      claimed_until: null,
      last_response: result.response.slice(0, 2000),
      sent_at: at,
      updated_at: at,
    })
    .where('id', '=', id)
    .where('state', '!=', 'sent')
    .returning('message_id')
    .executeTakeFirst();
  if (row === undefined) return false;
  await setDeliveryState(db, [row.message_id], {
    delivery_state: 'sent',
    delivery_error: null,
    delivered_at: at,
    updated_at: at,
  });
  return true;
}

/**
 * Records a temporary failure and when to try again. Only the claim that is still current may
 * do so; returns false (nothing written) otherwise.
 */
export async function scheduleOutboxRetry(
  db: Database,
  id: number,
  claimer: string,
  retry: { at: Date; now: Date; error: OutboxError },
): Promise<boolean> {
  const now = toDbTime(retry.now);
  const row = await db.kysely
    .updateTable('outbox')
    .set((eb) => ({
      state: 'queued',
      claimed_by: null,
      claimed_until: null,
      next_attempt_at: toDbTime(retry.at),
      first_failed_at: eb.fn.coalesce('first_failed_at', eb.val(now)),
      ...errorColumns(retry.error),
      updated_at: now,
    }))
    .where('id', '=', id)
    .where('state', '=', 'sending')
    .where('claimed_by', '=', claimer)
    .returning('message_id')
    .executeTakeFirst();
  if (row === undefined) return false;
  await setDeliveryState(db, [row.message_id], {
    delivery_state: 'queued',
    delivery_error: retry.error.message,
    updated_at: now,
  });
  return true;
}

/**
 * Records a failure that ends the message's attempts. With a `claimer`, only while that claim is
 * current; without one, from `queued` (a message that can never be sent). Returns false when
 * nothing was written.
 */
export async function markOutboxFailed(
  db: Database,
  id: number,
  failure: { claimer: string | null; now: Date; error: OutboxError },
): Promise<boolean> {
  const now = toDbTime(failure.now);
  let query = db.kysely
    .updateTable('outbox')
    .set((eb) => ({
      state: 'failed',
      claimed_by: null,
      claimed_until: null,
      first_failed_at: eb.fn.coalesce('first_failed_at', eb.val(now)),
      ...errorColumns(failure.error),
      updated_at: now,
    }))
    .where('id', '=', id);
  query =
    failure.claimer === null
      ? query.where('state', '=', 'queued')
      : query.where('state', '=', 'sending').where('claimed_by', '=', failure.claimer);
  const row = await query.returning('message_id').executeTakeFirst();
  if (row === undefined) return false;
  await setDeliveryState(db, [row.message_id], {
    delivery_state: 'failed',
    delivery_error: failure.error.message,
    updated_at: now,
  });
  await reopenConversationOf(db, row.message_id, now);
  return true;
}

/**
 * A reply that will not be sent reopens its conversation: closed with "Send and close" (or by
 * anyone since), it would otherwise hide the failure in the Closed tab.
 */
async function reopenConversationOf(db: Database, messageId: number, now: Timestamp): Promise<void> {
  await db.kysely
    .updateTable('interactions')
    .set({ status: 'open', closed_at: null, updated_at: now })
    .where('status', '=', 'closed')
    .where('id', '=', (eb) => eb.selectFrom('messages').select('interaction_id').where('messages.id', '=', messageId))
    .execute();
}

/**
 * Queues a failed or cancelled message again, now, with a fresh retry window.
 *
 * @throws PosternError RESOURCE_NOT_FOUND without an outbox row, OUTBOX_NOT_RETRYABLE in another state.
 */
export async function requeueOutbox(db: Database, messageId: number, now: Date): Promise<OutboxRecord> {
  const at = toDbTime(now);
  const row = await db.kysely
    .updateTable('outbox')
    .set({ state: 'queued', next_attempt_at: at, first_failed_at: null, updated_at: at })
    .where('message_id', '=', messageId)
    .where('state', 'in', ['failed', 'cancelled'])
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) throw await stateError(db, messageId, 'OUTBOX_NOT_RETRYABLE');
  await setDeliveryState(db, [messageId], { delivery_state: 'queued', updated_at: at });
  return toOutboxRecord(row);
}

/**
 * Cancels a queued message (one waiting for its turn or for a retry).
 *
 * @throws PosternError RESOURCE_NOT_FOUND without an outbox row, OUTBOX_NOT_CANCELLABLE in another state.
 */
export async function cancelOutbox(db: Database, messageId: number, now: Date): Promise<OutboxRecord> {
  const at = toDbTime(now);
  const row = await db.kysely
    .updateTable('outbox')
    .set({ state: 'cancelled', updated_at: at })
    .where('message_id', '=', messageId)
    .where('state', '=', 'queued')
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) throw await stateError(db, messageId, 'OUTBOX_NOT_CANCELLABLE');
  await setDeliveryState(db, [messageId], { delivery_state: 'cancelled', updated_at: at });
  return toOutboxRecord(row);
}

/** How many rows of an account are in each state (for the sending settings view and tests). */
export async function countOutboxStates(db: Database, accountId: number): Promise<Record<OutboxState, number>> {
  const rows = await db.kysely
    .selectFrom('outbox')
    .select(['state', (eb) => eb.fn.countAll<number | string>().as('total')])
    .where('account_id', '=', accountId)
    .groupBy('state')
    .execute();
  const counts: Record<OutboxState, number> = { queued: 0, sending: 0, sent: 0, failed: 0, cancelled: 0 };
  for (const row of rows) counts[row.state] = Number(row.total);
  return counts;
}

type DeliveryColumns = Partial<
  Pick<Row<'messages'>, 'delivery_state' | 'delivery_error' | 'delivered_at' | 'updated_at'>
>;

async function setDeliveryState(db: Database, messageIds: readonly number[], columns: DeliveryColumns): Promise<void> {
  for (let start = 0; start < messageIds.length; start += 500) {
    await db.kysely
      .updateTable('messages')
      .set(columns)
      .where('id', 'in', messageIds.slice(start, start + 500))
      .execute();
  }
}

function errorColumns(error: OutboxError) {
  return {
    last_error_code: error.code,
    last_error_message: error.message.slice(0, 4000),
    last_error_remedy: error.remedy === null ? null : error.remedy.slice(0, 4000),
  };
}

async function stateError(
  db: Database,
  messageId: number,
  code: 'OUTBOX_NOT_RETRYABLE' | 'OUTBOX_NOT_CANCELLABLE',
): Promise<PosternError> {
  const current = await getOutboxByMessage(db, messageId);
  if (current === undefined) {
    return new PosternError('RESOURCE_NOT_FOUND', {
      message: `Message ${messageId} is not an outgoing message.`,
      details: { resource: 'message', id: messageId },
    });
  }
  return new PosternError(code, { details: { messageId, state: current.state } });
}

function toOutboxRecord(row: Row<'outbox'>): OutboxRecord {
  return {
    id: row.id,
    messageId: row.message_id,
    accountId: row.account_id,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    claimedBy: row.claimed_by,
    claimedUntil: row.claimed_until,
    envelope: fromJsonText(row.envelope_json, envelopeSchema, `outbox.envelope_json of row ${row.id}`),
    recipientCount: row.recipient_count,
    firstFailedAt: row.first_failed_at,
    lastAttemptAt: row.last_attempt_at,
    lastError:
      row.last_error_code === null
        ? null
        : { code: row.last_error_code, message: row.last_error_message ?? '', remedy: row.last_error_remedy },
    lastResponse: row.last_response,
    sentAt: row.sent_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
