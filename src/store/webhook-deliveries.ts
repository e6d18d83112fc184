/**
 * The webhook outbox: one `webhook_deliveries` row per (webhook, event), written by
 * `appendEvent` in the same transaction as the event, so an event that is committed is delivered
 * and one that is rolled back is not — whatever crashes when.
 *
 * The dispatcher claims due rows (`pending` and due, or `delivering` whose claim went stale because
 * its node died), with `FOR UPDATE SKIP LOCKED` on PostgreSQL so that nodes never claim the same
 * row. A claim increments `attempts`, and the attempt number is the claim's token: an outcome is
 * recorded only if the row is still `delivering` under that attempt.
 */
import { setBackBound } from '../domain/scheduled-time.js';
import type { Database } from './database.js';
import type { DeliveryAttemptState, Row, Sealed, Timestamp } from './schema.js';
import { toDbTime } from './time.js';
import { matchesSubscription, readSubscription } from './webhooks.js';

/** A delivery as the log shows it. */
export interface WebhookDeliveryRecord {
  readonly id: number;
  readonly webhookId: number;
  readonly eventId: number;
  /** The event's type (joined), for the delivery log. */
  readonly eventType: string;
  readonly state: DeliveryAttemptState;
  readonly attempts: number;
  readonly nextAttemptAt: Timestamp;
  readonly responseStatus: number | null;
  readonly lastError: string | null;
  readonly deliveredAt: Timestamp | null;
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
}

/** A claimed delivery with what sending it needs. */
export interface ClaimedDelivery {
  readonly id: number;
  /** This claim's attempt number (1 for the first). */
  readonly attempt: number;
  readonly webhook: { readonly id: number; readonly url: string; readonly sealedSecret: Sealed };
  readonly event: Row<'events'>;
}

/** Filters of {@link listDeliveries}; newest first, paged by id. */
export interface DeliveryFilter {
  readonly state?: DeliveryAttemptState;
  readonly before?: number;
  readonly limit?: number;
}

const MAX_ERROR_LENGTH = 500;

/** Rows per INSERT of {@link enqueueWebhookDeliveries}: 7 parameters each. */
const DELIVERIES_PER_INSERT = 500;

/**
 * Queues each event for every active webhook subscribed to its type, reading the webhooks once.
 * Called by `appendEvents` inside the events' transaction. Returns how many deliveries were queued.
 */
export async function enqueueWebhookDeliveries(
  tx: Database,
  events: ReadonlyArray<{ readonly id: number; readonly type: string; readonly createdAt: Timestamp }>,
): Promise<number> {
  if (events.length === 0) return 0;
  const hooks = await tx.kysely.selectFrom('webhooks').select(['id', 'events_json']).where('active', '=', 1).execute();
  if (hooks.length === 0) return 0;
  const subscriptions = hooks.map((hook) => ({ id: hook.id, subscription: readSubscription(hook.events_json) }));
  const rows = events.flatMap((event) =>
    subscriptions
      .filter((hook) => matchesSubscription(hook.subscription, event.type))
      .map((hook) => ({
        webhook_id: hook.id,
        event_id: event.id,
        state: 'pending' as const,
        attempts: 0,
        next_attempt_at: event.createdAt,
        created_at: event.createdAt,
        updated_at: event.createdAt,
      })),
  );
  for (let start = 0; start < rows.length; start += DELIVERIES_PER_INSERT) {
    await tx.kysely
      .insertInto('webhook_deliveries')
      .values(rows.slice(start, start + DELIVERIES_PER_INSERT))
      .onConflict((oc) => oc.columns(['webhook_id', 'event_id']).doNothing())
      .execute();
  }
  return rows.length;
}

/**
 * Appends a `webhook.ping` event and queues it for one webhook only (not fanned out to the
 * others): the "send a test" action. Returns the delivery id.
 */
export async function queueTestDelivery(db: Database, webhookId: number): Promise<number> {
  return db.transaction(async (tx) => {
    const now = toDbTime(tx.now());
    const event = await tx.kysely
      .insertInto('events')
      .values({
        scope: 'system',
        scope_id: null,
        type: 'webhook.ping',
        level: 'info',
        message: `A test delivery to webhook ${webhookId}.`,
        data_json: JSON.stringify({ webhookId }),
        created_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const delivery = await tx.kysely
      .insertInto('webhook_deliveries')
      .values({
        webhook_id: webhookId,
        event_id: event.id,
        state: 'pending',
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return delivery.id;
  });
}

/**
 * Claims up to `limit` due deliveries of active webhooks: pending ones whose time has come, and
 * ones left `delivering` for longer than `staleAfterMs` (their node died mid-attempt).
 */
export async function claimDueDeliveries(
  db: Database,
  request: {
    readonly now: Date;
    readonly limit: number;
    readonly staleAfterMs: number;
    readonly excludeWebhooks?: readonly number[];
    /**
     * The retry policy's longest delay: a pending retry further ahead than that (and a margin) is
     * due now — the clock was set back since it was scheduled (domain/scheduled-time.ts).
     */
    readonly longestDelayMs: number;
  },
): Promise<ClaimedDelivery[]> {
  if (request.limit <= 0) return [];
  const now = toDbTime(request.now);
  const setBack = toDbTime(setBackBound(request.now, request.longestDelayMs));
  const stale = toDbTime(new Date(request.now.getTime() - request.staleAfterMs));
  const claimed = await db.transaction(async (tx) => {
    let query = tx.kysely
      .selectFrom('webhook_deliveries')
      .select(['id', 'attempts'])
      .where((eb) =>
        eb.or([
          eb.and([
            eb('state', '=', 'pending'),
            eb.or([eb('next_attempt_at', '<=', now), eb('next_attempt_at', '>', setBack)]),
          ]),
          eb.and([eb('state', '=', 'delivering'), eb('updated_at', '<', stale)]),
        ]),
      )
      .where('webhook_id', 'in', (eb) => eb.selectFrom('webhooks').select('id').where('active', '=', 1))
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(request.limit);
    if (request.excludeWebhooks !== undefined && request.excludeWebhooks.length > 0) {
      query = query.where('webhook_id', 'not in', [...request.excludeWebhooks]);
    }
    const rows = await query.$call((q) => (tx.engine === 'postgres' ? q.forUpdate().skipLocked() : q)).execute();
    if (rows.length === 0) return [];
    return tx.kysely
      .updateTable('webhook_deliveries')
      .set((eb) => ({ state: 'delivering', attempts: eb('attempts', '+', 1), updated_at: now }))
      .where(
        'id',
        'in',
        rows.map((row) => row.id),
      )
      .returning(['id', 'attempts', 'webhook_id', 'event_id'])
      .execute();
  });
  if (claimed.length === 0) return [];
  const events = await db.kysely
    .selectFrom('events')
    .selectAll()
    .where('id', 'in', [...new Set(claimed.map((row) => row.event_id))])
    .execute();
  const hooks = await db.kysely
    .selectFrom('webhooks')
    .select(['id', 'url', 'secret_enc'])
    .where('id', 'in', [...new Set(claimed.map((row) => row.webhook_id))])
    .execute();
  const eventById = new Map(events.map((event) => [event.id, event]));
  const hookById = new Map(hooks.map((hook) => [hook.id, hook]));
  const out: ClaimedDelivery[] = [];
  for (const row of claimed.sort((a, b) => a.id - b.id)) {
    const event = eventById.get(row.event_id);
    const hook = hookById.get(row.webhook_id);
    // Deleted between the claim and this read (retention, a removed webhook): nothing to send.
    if (event === undefined || hook === undefined) continue;
    out.push({
      id: row.id,
      attempt: row.attempts,
      webhook: { id: hook.id, url: hook.url, sealedSecret: hook.secret_enc },
      event,
    });
  }
  return out;
}

/** Records a successful attempt; false when the claim was no longer current. */
export async function markDeliveryDelivered(
  db: Database,
  claim: { readonly id: number; readonly attempt: number },
  result: { readonly status: number; readonly at: Date },
): Promise<boolean> {
  const at = toDbTime(result.at);
  const updated = await db.kysely
    .updateTable('webhook_deliveries')
    .set({ state: 'delivered', response_status: result.status, last_error: null, delivered_at: at, updated_at: at })
    .where('id', '=', claim.id)
    .where('state', '=', 'delivering')
    .where('attempts', '=', claim.attempt)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/**
 * Records a failed attempt: pending again at `retryAt`, or `failed` for good when `retryAt` is
 * null. False when the claim was no longer current.
 */
export async function markDeliveryFailed(
  db: Database,
  claim: { readonly id: number; readonly attempt: number },
  result: { readonly status: number | null; readonly error: string; readonly at: Date; readonly retryAt: Date | null },
): Promise<boolean> {
  const at = toDbTime(result.at);
  const updated = await db.kysely
    .updateTable('webhook_deliveries')
    .set({
      state: result.retryAt === null ? 'failed' : 'pending',
      next_attempt_at: result.retryAt === null ? at : toDbTime(result.retryAt),
      response_status: result.status,
      last_error: result.error.slice(0, MAX_ERROR_LENGTH),
      updated_at: at,
    })
    .where('id', '=', claim.id)
    .where('state', '=', 'delivering')
    .where('attempts', '=', claim.attempt)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/** Gives a claim back untouched (shutdown before the request left). */
export async function releaseDeliveryClaim(
  db: Database,
  claim: { readonly id: number; readonly attempt: number },
): Promise<void> {
  await db.kysely
    .updateTable('webhook_deliveries')
    .set((eb) => ({ state: 'pending', attempts: eb('attempts', '-', 1) }))
    .where('id', '=', claim.id)
    .where('state', '=', 'delivering')
    .where('attempts', '=', claim.attempt)
    .execute();
}

/** A webhook's delivery log, newest first, paged by id (`nextBefore`). */
export async function listDeliveries(
  db: Database,
  webhookId: number,
  filter: DeliveryFilter = {},
): Promise<{ items: WebhookDeliveryRecord[]; nextBefore: number | null }> {
  const limit = Math.min(Math.max(Math.trunc(filter.limit ?? 50), 1), 500);
  let query = db.kysely
    .selectFrom('webhook_deliveries as d')
    .innerJoin('events as e', 'e.id', 'd.event_id')
    .selectAll('d')
    .select('e.type as event_type')
    .where('d.webhook_id', '=', webhookId)
    .orderBy('d.id', 'desc')
    .limit(limit + 1);
  if (filter.state !== undefined) query = query.where('d.state', '=', filter.state);
  if (filter.before !== undefined) query = query.where('d.id', '<', filter.before);
  const rows = await query.execute();
  const items = rows.slice(0, limit).map((row) => toDeliveryRecord(row, row.event_type));
  const last = items.at(-1);
  return { items, nextBefore: rows.length > limit && last !== undefined ? last.id : null };
}

/** One delivery of a webhook, if any. */
export async function getDelivery(
  db: Database,
  webhookId: number,
  deliveryId: number,
): Promise<WebhookDeliveryRecord | undefined> {
  const row = await db.kysely
    .selectFrom('webhook_deliveries as d')
    .innerJoin('events as e', 'e.id', 'd.event_id')
    .selectAll('d')
    .select('e.type as event_type')
    .where('d.webhook_id', '=', webhookId)
    .where('d.id', '=', deliveryId)
    .executeTakeFirst();
  return row === undefined ? undefined : toDeliveryRecord(row, row.event_type);
}

/**
 * Queues a delivery again now with a fresh set of attempts (an administrator's "redeliver").
 * Returns false when it is being delivered at this moment.
 */
export async function requeueDelivery(db: Database, webhookId: number, deliveryId: number): Promise<boolean> {
  const now = toDbTime(db.now());
  const result = await db.kysely
    .updateTable('webhook_deliveries')
    .set({ state: 'pending', attempts: 0, next_attempt_at: now, updated_at: now })
    .where('id', '=', deliveryId)
    .where('webhook_id', '=', webhookId)
    .where('state', '!=', 'delivering')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Deliveries by state and the age of the oldest pending one, for metrics. */
export async function summarizeDeliveries(
  db: Database,
  now: Date,
): Promise<{ byState: Record<DeliveryAttemptState, number>; oldestPendingSeconds: number }> {
  const rows = await db.kysely
    .selectFrom('webhook_deliveries')
    .select((eb) => ['state', eb.fn.countAll<number | string>().as('total'), eb.fn.min('created_at').as('oldest')])
    .groupBy('state')
    .execute();
  const byState: Record<DeliveryAttemptState, number> = { pending: 0, delivering: 0, delivered: 0, failed: 0 };
  let oldestPendingSeconds = 0;
  for (const row of rows) {
    byState[row.state] = Number(row.total);
    if (row.state === 'pending' && typeof row.oldest === 'string') {
      oldestPendingSeconds = Math.max(0, (now.getTime() - Date.parse(row.oldest)) / 1000);
    }
  }
  return { byState, oldestPendingSeconds };
}

function toDeliveryRecord(row: Row<'webhook_deliveries'>, eventType: string): WebhookDeliveryRecord {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    eventType,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    responseStatus: row.response_status,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
