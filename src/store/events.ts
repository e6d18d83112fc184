/**
 * Events: the timeline of providers, grants, accounts and messages (connected, token refreshed,
 * re-authentication required, secret expiring, message failed…), shown in the UI and sent to
 * webhooks. `data` is free-form JSON; it must never hold a secret.
 *
 * Appending an event also queues its webhook deliveries in the same transaction (the outbox
 * pattern, see webhook-deliveries.ts): every committed event reaches the webhooks subscribed to
 * it, and an event rolled back with its transaction reaches none.
 */
import { z } from 'zod';
import { LIMITS } from '../config/limits.js';
import type { Database } from './database.js';
import { fromJsonText, toJsonText } from './json-column.js';
import { clampPageSize } from './pagination.js';
import type { EventLevel, EventScope, Row, Timestamp } from './schema.js';
import { toDbTime } from './time.js';
import { enqueueWebhookDeliveries } from './webhook-deliveries.js';

const eventData = z.record(z.string(), z.json());

/** Structured facts of an event. */
export type EventData = z.infer<typeof eventData>;

/** An event as stored. */
export interface EventRecord {
  readonly id: number;
  readonly scope: EventScope;
  readonly scopeId: number | null;
  readonly type: string;
  readonly level: EventLevel;
  readonly message: string;
  readonly data: EventData | null;
  readonly createdAt: Timestamp;
}

/** What appending an event needs. */
export interface NewEvent {
  readonly scope: EventScope;
  /** The provider, grant, account or message id; null for `system`. */
  readonly scopeId?: number | null;
  /** Dotted type, e.g. `grant.reauth_required`, `account.connected`. */
  readonly type: string;
  readonly level?: EventLevel;
  readonly message: string;
  readonly data?: EventData | null;
}

/** Filters of `listEvents`. All optional; results are newest first. */
export interface EventFilter {
  readonly scope?: EventScope;
  readonly scopeId?: number;
  readonly types?: readonly string[];
  readonly levels?: readonly EventLevel[];
  /** Only events at or after this time. */
  readonly since?: Date;
  /** Cursor: only events with an id below this one (the previous page's `nextBefore`). */
  readonly before?: number;
  /**
   * Only events about these email accounts: their `account` events and the `message` events of
   * their messages (what an agent may see). An empty list matches nothing.
   */
  readonly accountIds?: readonly number[];
  /** Page size, 1–500, default 50. */
  readonly limit?: number;
}

/** A page of events and the cursor of the next (older) page, if any. */
export interface EventPage {
  readonly items: EventRecord[];
  readonly nextBefore: number | null;
}

/**
 * Appends an event, stamped with the database clock, and queues it for the webhooks subscribed to
 * its type — in one transaction (joining the caller's, if any).
 */
export async function appendEvent(db: Database, event: NewEvent): Promise<EventRecord> {
  const [record] = await appendEvents(db, [event]);
  if (record === undefined) throw new Error('appending an event returned no row');
  return record;
}

/** Rows per INSERT of {@link appendEvents}: 7 parameters each, far below PostgreSQL's 65,535. */
const EVENTS_PER_INSERT = 500;

/**
 * Appends several events in the order given (ascending ids) and queues their webhook deliveries,
 * in one transaction: one INSERT per 500 events and one read of the webhooks, however many events
 * (a group commit of the inbound sync appends one or more per message).
 */
export async function appendEvents(db: Database, events: readonly NewEvent[]): Promise<EventRecord[]> {
  if (events.length === 0) return [];
  return db.transaction(async (tx) => {
    const createdAt = toDbTime(tx.now());
    const rows: Array<Row<'events'>> = [];
    for (let start = 0; start < events.length; start += EVENTS_PER_INSERT) {
      const inserted = await tx.kysely
        .insertInto('events')
        .values(
          events.slice(start, start + EVENTS_PER_INSERT).map((event) => ({
            scope: event.scope,
            scope_id: event.scopeId ?? null,
            type: event.type,
            level: event.level ?? 'info',
            message: event.message,
            data_json: event.data === undefined || event.data === null ? null : toJsonText(event.data),
            created_at: createdAt,
          })),
        )
        .returningAll()
        .execute();
      // RETURNING's order is not promised by either engine: the ids are (ascending in VALUES order).
      rows.push(...inserted.sort((a, b) => a.id - b.id));
    }
    await enqueueWebhookDeliveries(
      tx,
      rows.map((row) => ({ id: row.id, type: row.type, createdAt: row.created_at })),
    );
    return rows.map(toEventRecord);
  });
}

/** Events matching the filter, newest first, paged by id cursor. */
export async function listEvents(db: Database, filter: EventFilter = {}): Promise<EventPage> {
  const limit = clampPageSize(filter.limit, LIMITS.eventPageSizeMax);
  let query = db.kysely
    .selectFrom('events')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (filter.scope !== undefined) query = query.where('scope', '=', filter.scope);
  if (filter.scopeId !== undefined) query = query.where('scope_id', '=', filter.scopeId);
  if (filter.types !== undefined && filter.types.length > 0) query = query.where('type', 'in', [...filter.types]);
  if (filter.levels !== undefined && filter.levels.length > 0) query = query.where('level', 'in', [...filter.levels]);
  if (filter.since !== undefined) query = query.where('created_at', '>=', toDbTime(filter.since));
  if (filter.before !== undefined) query = query.where('id', '<', filter.before);
  if (filter.accountIds !== undefined) {
    const accountIds = [...filter.accountIds];
    if (accountIds.length === 0) return { items: [], nextBefore: null };
    query = query.where((eb) =>
      eb.or([
        eb.and([eb('scope', '=', 'account'), eb('scope_id', 'in', accountIds)]),
        eb.and([
          eb('scope', '=', 'message'),
          eb(
            'scope_id',
            'in',
            eb.selectFrom('messages').select('messages.id').where('messages.account_id', 'in', accountIds),
          ),
        ]),
      ]),
    );
  }
  const rows = await query.execute();
  const items = rows.slice(0, limit).map(toEventRecord);
  const last = items.at(-1);
  return { items, nextBefore: rows.length > limit && last !== undefined ? last.id : null };
}

/**
 * Deletes events older than `before` in batches of `batchSize`, so that a large backlog never
 * holds a long write lock (retention). Their webhook deliveries go with them. Returns how many.
 */
export async function pruneEvents(db: Database, before: Date, batchSize = 5000): Promise<number> {
  const cutoff = toDbTime(before);
  let total = 0;
  for (;;) {
    const batch = await db.kysely
      .selectFrom('events')
      .select('id')
      .where('created_at', '<', cutoff)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    if (batch.length === 0) return total;
    const result = await db.kysely
      .deleteFrom('events')
      .where(
        'id',
        'in',
        batch.map((row) => row.id),
      )
      .executeTakeFirst();
    total += Number(result.numDeletedRows);
    if (batch.length < batchSize) return total;
  }
}

/** Deletes events older than `before` (retention). Returns how many. */
export async function deleteEventsBefore(db: Database, before: Date): Promise<number> {
  const result = await db.kysely.deleteFrom('events').where('created_at', '<', toDbTime(before)).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** An event as stored, from its row (the webhook dispatcher reads rows it claimed). */
export function toEventRecord(row: Row<'events'>): EventRecord {
  return {
    id: row.id,
    scope: row.scope,
    scopeId: row.scope_id,
    type: row.type,
    level: row.level,
    message: row.message,
    data: row.data_json === null ? null : fromJsonText(row.data_json, eventData, `events.data_json of event ${row.id}`),
    createdAt: row.created_at,
  };
}
