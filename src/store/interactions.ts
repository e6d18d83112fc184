/**
 * Interactions: the conversations of an account, one contact each — the agent's inbox. Ingest
 * creates them and records activity; agents list, assign, close and reopen them.
 *
 * Lists are ordered by last activity, newest first, and paged by an opaque cursor (the last
 * row's activity time and id), so that a page stays stable while new mail arrives.
 */
import { sql } from 'kysely';
import { PosternError } from '../errors/index.js';
import type { SearchQuery } from '../domain/search-query.js';
import { formatSubjectToken, subjectTokenAround } from '../domain/subject.js';
import type { Database } from './database.js';
import { interactionSearchCondition, planSearch, withSearchMemory } from './message-search.js';
import { clampPageSize, containsLowercase } from './pagination.js';
import type { InteractionStatus, NewRow, Row, Timestamp } from './schema.js';
import { toDbTime } from './time.js';

/** A conversation. */
export interface InteractionRecord {
  readonly id: number;
  readonly accountId: number;
  readonly contactId: number;
  /** Normalised: no reply prefixes, no token. */
  readonly subject: string;
  /** The token outgoing mail carries in its subject (`#P123-7KQX`), see domain/subject.ts. */
  readonly subjectToken: string | null;
  readonly status: InteractionStatus;
  readonly assignedUserId: number | null;
  readonly lastActivityAt: Timestamp;
  readonly messageCount: number;
  readonly unreadCount: number;
  readonly closedAt: Timestamp | null;
  /** Snoozed until then (left out of the Open list); null when not snoozed. */
  readonly snoozedUntil: Timestamp | null;
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
}

/** A conversation as listed: with its contact's name and first address. */
export interface InteractionSummary extends InteractionRecord {
  readonly contactName: string;
  readonly contactAddress: string | null;
  /** The display name of the assigned user (null when unassigned). */
  readonly assignedUserName: string | null;
}

/** What creating an interaction needs. */
export interface NewInteraction {
  readonly accountId: number;
  readonly contactId: number;
  readonly subject: string;
  /** Four Crockford base32 characters, random, for the subject token. */
  readonly tokenCheck: string;
  readonly at: Date;
  /**
   * The message that opens the conversation, counted at once (ingest), so that no separate
   * `recordInteractionActivity` is needed for it.
   */
  readonly firstMessage?: { readonly unread: boolean };
}

/** Filters and page of {@link listInteractions}. */
export interface InteractionQuery {
  /** The accounts to look in (the caller's visible ones); empty → nothing. */
  readonly accountIds: readonly number[];
  readonly status?: InteractionStatus;
  /** A user id, or null for unassigned conversations. */
  readonly assignedUserId?: number | null;
  readonly contactId?: number;
  /**
   * Snoozed conversations: `hide` those snoozed until later (the Open list), `only` those, or
   * `include` everything (default).
   */
  readonly snoozed?: 'hide' | 'only' | 'include';
  /** Found in the subject, the contact's name or one of its addresses, regardless of case. */
  readonly text?: string;
  /**
   * A full-text search (domain/search-query.ts): one of the conversation's messages matches it
   * (see store/message-search.ts).
   */
  readonly search?: SearchQuery;
  /** The previous page's `nextCursor`. */
  readonly cursor?: string;
  readonly limit?: number;
}

/** A page and the cursor of the next one (null at the end). */
export interface InteractionPage {
  readonly items: InteractionSummary[];
  readonly nextCursor: string | null;
}

/**
 * Creates an interaction and gives it its subject token, which holds its id. On PostgreSQL in one
 * statement (the id is drawn from the column's sequence inside the INSERT; a round trip less per
 * new conversation on the ingest's commit path); on SQLite, an INSERT then an UPDATE.
 */
export async function createInteraction(db: Database, interaction: NewInteraction): Promise<InteractionRecord> {
  return db.transaction(async (tx) => {
    const at = toDbTime(interaction.at);
    const now = toDbTime(tx.now());
    const values = {
      account_id: interaction.accountId,
      contact_id: interaction.contactId,
      subject: interaction.subject.slice(0, 1000),
      last_activity_at: at,
      message_count: interaction.firstMessage === undefined ? 0 : 1,
      unread_count: interaction.firstMessage?.unread === true ? 1 : 0,
      created_at: now,
      updated_at: now,
    };
    if (tx.engine === 'postgres') {
      const { prefix, suffix } = subjectTokenAround(interaction.tokenCheck);
      const { rows } = await sql<Row<'interactions'>>`
        with allocated as (select nextval(pg_get_serial_sequence('interactions', 'id')) as id)
        insert into interactions
          (id, account_id, contact_id, subject, last_activity_at, message_count, unread_count,
           created_at, updated_at, subject_token)
        values (
          (select id from allocated), ${values.account_id}, ${values.contact_id}, ${values.subject},
          ${values.last_activity_at}, ${values.message_count}, ${values.unread_count}, ${values.created_at},
          ${values.updated_at}, concat(${prefix}::text, (select id from allocated), ${suffix}::text)
        )
        returning *`.execute(tx.kysely);
      const [row] = rows;
      if (row === undefined) throw new Error('creating an interaction returned no row');
      return toInteractionRecord(row);
    }
    const row = await tx.kysely.insertInto('interactions').values(values).returning('id').executeTakeFirstOrThrow();
    const updated = await tx.kysely
      .updateTable('interactions')
      .set({ subject_token: formatSubjectToken(row.id, interaction.tokenCheck) })
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toInteractionRecord(updated);
  });
}

/**
 * Records a new message in a conversation: one more message (unread when asked), activity moved
 * forward (never back, for mail that arrives late), and reopened when asked.
 */
export async function recordInteractionActivity(
  db: Database,
  id: number,
  activity: { readonly at: Date; readonly unread: boolean; readonly reopen: boolean },
): Promise<void> {
  const at = toDbTime(activity.at);
  const result = await db.kysely
    .updateTable('interactions')
    .set((eb) => ({
      message_count: eb('message_count', '+', 1),
      unread_count: eb('unread_count', '+', activity.unread ? 1 : 0),
      // Timestamps are ISO-8601 text: comparing the text compares the times.
      last_activity_at: eb.case().when('last_activity_at', '<', at).then(at).else(eb.ref('last_activity_at')).end(),
      // Mail that reopens a conversation also ends its snooze.
      ...(activity.reopen ? { status: 'open' as const, closed_at: null, snoozed_until: null } : {}),
      updated_at: toDbTime(db.now()),
    }))
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw interactionNotFound(id);
}

/** The row of a new conversation whose id was drawn ahead (a group commit, see group-writes.ts). */
export function newInteractionRow(
  id: number,
  interaction: NewInteraction,
  now: Timestamp,
): NewRow<'interactions'> & { readonly id: number } {
  return {
    id,
    account_id: interaction.accountId,
    contact_id: interaction.contactId,
    subject: interaction.subject.slice(0, 1000),
    subject_token: formatSubjectToken(id, interaction.tokenCheck),
    last_activity_at: toDbTime(interaction.at),
    message_count: interaction.firstMessage === undefined ? 0 : 1,
    unread_count: interaction.firstMessage?.unread === true ? 1 : 0,
    created_at: now,
    updated_at: now,
  };
}

/** Several messages recorded in one conversation at once (see {@link recordInteractionActivities}). */
export interface InteractionActivity {
  readonly id: number;
  /** Messages added. */
  readonly messages: number;
  /** Of which unread. */
  readonly unread: number;
  /** The latest of their times (stored form). */
  readonly at: Timestamp;
  /** One of them reopens the conversation. */
  readonly reopen: boolean;
}

/**
 * {@link recordInteractionActivity} for several conversations in one statement (a group commit's
 * messages, summed per conversation): on both engines an UPDATE … FROM a VALUES list.
 *
 * @throws PosternError RESOURCE_NOT_FOUND when one of the conversations no longer exists
 */
export async function recordInteractionActivities(
  db: Database,
  activities: readonly InteractionActivity[],
): Promise<void> {
  if (activities.length === 0) return;
  const values = sql.join(
    activities.map(
      (activity) =>
        sql`(cast(${activity.id} as integer), cast(${activity.messages} as integer), cast(${activity.unread} as integer), ${activity.at}, cast(${activity.reopen ? 1 : 0} as integer))`,
    ),
  );
  const { rows } = await sql<{ id: number }>`
    with activity(id, messages, unread, at, reopen) as (values ${values})
    update interactions set
      message_count = interactions.message_count + activity.messages,
      unread_count = interactions.unread_count + activity.unread,
      last_activity_at = case when interactions.last_activity_at < activity.at then activity.at else interactions.last_activity_at end,
      status = case when activity.reopen = 1 then 'open' else interactions.status end,
      closed_at = case when activity.reopen = 1 then null else interactions.closed_at end,
      snoozed_until = case when activity.reopen = 1 then null else interactions.snoozed_until end,
      updated_at = ${toDbTime(db.now())}
    from activity
    where interactions.id = activity.id
    returning interactions.id`.execute(db.kysely);
  if (rows.length === activities.length) return;
  const updated = new Set(rows.map((row) => row.id));
  const missing = activities.find((activity) => !updated.has(activity.id));
  throw interactionNotFound(missing?.id ?? activities[0]?.id ?? 0);
}

/** The interactions of an account that own these subject tokens (stored form). */
export async function findInteractionsByTokens(
  db: Database,
  accountId: number,
  tokens: readonly string[],
): Promise<Map<string, number>> {
  if (tokens.length === 0) return new Map();
  const rows = await db.kysely
    .selectFrom('interactions')
    .select(['id', 'subject_token'])
    .where('account_id', '=', accountId)
    .where('subject_token', 'in', [...tokens])
    .execute();
  return new Map(rows.flatMap((row) => (row.subject_token === null ? [] : [[row.subject_token, row.id] as const])));
}

/** The interaction with this id. */
export async function getInteraction(db: Database, id: number): Promise<InteractionRecord | undefined> {
  const row = await db.kysely.selectFrom('interactions').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toInteractionRecord(row);
}

/** The interaction with this id. @throws PosternError RESOURCE_NOT_FOUND */
export async function requireInteraction(db: Database, id: number): Promise<InteractionRecord> {
  const interaction = await getInteraction(db, id);
  if (interaction === undefined) throw interactionNotFound(id);
  return interaction;
}

/**
 * Conversations of the given accounts, newest activity first, filtered and paged by cursor.
 *
 * @throws PosternError VALIDATION_FAILED for a cursor this function did not write.
 */
export async function listInteractions(db: Database, query: InteractionQuery): Promise<InteractionPage> {
  if (query.accountIds.length === 0) return { items: [], nextCursor: null };
  if (query.search === undefined) return listInteractionsPage(db, query);
  return withSearchMemory(db, (tx) => listInteractionsPage(tx, query));
}

async function listInteractionsPage(db: Database, query: InteractionQuery): Promise<InteractionPage> {
  const limit = clampPageSize(query.limit);
  let select = db.kysely
    .selectFrom('interactions')
    .innerJoin('contacts', 'contacts.id', 'interactions.contact_id')
    .selectAll('interactions')
    .select((eb) => [
      'contacts.name as contact_name',
      eb
        .selectFrom('contact_addresses')
        .select('contact_addresses.address')
        .whereRef('contact_addresses.contact_id', '=', 'interactions.contact_id')
        .orderBy('contact_addresses.position')
        .orderBy('contact_addresses.id')
        .limit(1)
        .as('contact_address'),
      eb
        .selectFrom('users')
        .select('users.display_name')
        .whereRef('users.id', '=', 'interactions.assigned_user_id')
        .as('assigned_user_name'),
    ])
    .where('interactions.account_id', 'in', [...query.accountIds]);
  if (query.status !== undefined) select = select.where('interactions.status', '=', query.status);
  if (query.assignedUserId === null) select = select.where('interactions.assigned_user_id', 'is', null);
  else if (query.assignedUserId !== undefined)
    select = select.where('interactions.assigned_user_id', '=', query.assignedUserId);
  if (query.contactId !== undefined) select = select.where('interactions.contact_id', '=', query.contactId);
  if (query.snoozed === 'hide' || query.snoozed === 'only') {
    const now = toDbTime(db.now());
    select =
      query.snoozed === 'only'
        ? select.where('interactions.snoozed_until', '>', now)
        : select.where((eb) =>
            eb.or([eb('interactions.snoozed_until', 'is', null), eb('interactions.snoozed_until', '<=', now)]),
          );
  }
  const text = query.text?.trim() ?? '';
  if (text !== '') {
    const pattern = containsLowercase(text);
    select = select.where((eb) =>
      eb.or([
        eb(eb.fn('lower', ['interactions.subject']), 'like', pattern),
        eb(eb.fn('lower', ['contacts.name']), 'like', pattern),
        eb.exists(
          eb
            .selectFrom('contact_addresses')
            .select('contact_addresses.id')
            .whereRef('contact_addresses.contact_id', '=', 'interactions.contact_id')
            .where('contact_addresses.address', 'like', pattern),
        ),
      ]),
    );
  }
  if (query.search !== undefined) {
    const plan = await planSearch(db.kysely, db.engine, query.search, { accountIds: query.accountIds });
    select = select.where(interactionSearchCondition(db.engine, plan.query, plan.shape, plan.interactionIds));
  }
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor);
    select = select.where((eb) =>
      eb.or([
        eb('interactions.last_activity_at', '<', after.at),
        eb.and([eb('interactions.last_activity_at', '=', after.at), eb('interactions.id', '<', after.id)]),
      ]),
    );
  }
  const rows = await select
    .orderBy('interactions.last_activity_at', 'desc')
    .orderBy('interactions.id', 'desc')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map((row) => ({
    ...toInteractionRecord(row),
    contactName: row.contact_name,
    contactAddress: row.contact_address ?? null,
    assignedUserName: row.assigned_user_name ?? null,
  }));
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.lastActivityAt, last.id) : null,
  };
}

/** Assigns a conversation to a user, or unassigns it with null. @throws PosternError RESOURCE_NOT_FOUND */
export async function assignInteraction(db: Database, id: number, userId: number | null): Promise<InteractionRecord> {
  return updateInteractionRow(db, id, { assigned_user_id: userId });
}

/** Assigns a conversation to the user only if nobody owns it yet (one statement: two replies at once assign once). */
export async function assignInteractionIfUnassigned(db: Database, id: number, userId: number): Promise<void> {
  await db.kysely
    .updateTable('interactions')
    .set({ assigned_user_id: userId, updated_at: toDbTime(db.now()) })
    .where('id', '=', id)
    .where('assigned_user_id', 'is', null)
    .execute();
}

/** Closes a conversation (no-op when closed). @throws PosternError RESOURCE_NOT_FOUND */
export async function closeInteraction(db: Database, id: number): Promise<InteractionRecord> {
  const current = await requireInteraction(db, id);
  if (current.status === 'closed') return current;
  return updateInteractionRow(db, id, { status: 'closed', closed_at: toDbTime(db.now()), snoozed_until: null });
}

/** Reopens a conversation (no-op when open). @throws PosternError RESOURCE_NOT_FOUND */
export async function reopenInteraction(db: Database, id: number): Promise<InteractionRecord> {
  const current = await requireInteraction(db, id);
  if (current.status === 'open') return current;
  return updateInteractionRow(db, id, { status: 'open', closed_at: null });
}

/**
 * Snoozes an open conversation until `until`, or ends its snooze (null).
 * @throws PosternError RESOURCE_NOT_FOUND
 */
export async function snoozeInteraction(db: Database, id: number, until: Date | null): Promise<InteractionRecord> {
  return updateInteractionRow(db, id, { snoozed_until: until === null ? null : toDbTime(until) });
}

/**
 * Ends the snoozes whose time has come (at most `limit` at a time) and returns those
 * conversations. Each is returned once, however many nodes sweep at the same moment: the UPDATE
 * takes the rows it changes.
 */
export async function wakeSnoozedInteractions(
  db: Database,
  limit: number,
): Promise<Array<{ readonly id: number; readonly accountId: number }>> {
  const now = toDbTime(db.now());
  const due = db.kysely
    .selectFrom('interactions')
    .select('id')
    .where('snoozed_until', 'is not', null)
    .where('snoozed_until', '<=', now)
    .orderBy('snoozed_until')
    .limit(limit);
  const rows = await db.kysely
    .updateTable('interactions')
    .set({ snoozed_until: null, updated_at: now })
    .where('id', 'in', due)
    .where('snoozed_until', '<=', now)
    .returning(['id', 'account_id'])
    .execute();
  return rows.map((row) => ({ id: row.id, accountId: row.account_id }));
}

/** Marks every message of a conversation read (the agent opened it). @throws PosternError RESOURCE_NOT_FOUND */
export async function markInteractionRead(db: Database, id: number): Promise<InteractionRecord> {
  return db.transaction(async (tx) => {
    await tx.kysely
      .updateTable('messages')
      .set({ is_read: 1 })
      .where('interaction_id', '=', id)
      .where('is_read', '=', 0)
      .execute();
    return updateInteractionRow(tx, id, { unread_count: 0 });
  });
}

type InteractionColumns = Partial<
  Pick<Row<'interactions'>, 'assigned_user_id' | 'status' | 'closed_at' | 'unread_count' | 'snoozed_until'>
>;

async function updateInteractionRow(db: Database, id: number, columns: InteractionColumns): Promise<InteractionRecord> {
  const row = await db.kysely
    .updateTable('interactions')
    .set({ ...columns, updated_at: toDbTime(db.now()) })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) throw interactionNotFound(id);
  return toInteractionRecord(row);
}

function encodeCursor(at: Timestamp, id: number): string {
  return Buffer.from(JSON.stringify([at, id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { at: Timestamp; id: number } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && Number.isSafeInteger(value[1])) {
      return { at: value[0], id: Number(value[1]) };
    }
  } catch {
    // fall through to the validation error
  }
  throw new PosternError('VALIDATION_FAILED', {
    message: 'The cursor is invalid: pass the nextCursor of the previous page unchanged.',
    details: { in: 'query', fields: [{ field: 'cursor', problem: 'is not a cursor of this list' }] },
  });
}

function interactionNotFound(id: number): PosternError {
  return new PosternError('RESOURCE_NOT_FOUND', {
    message: `There is no interaction ${id}.`,
    details: { resource: 'interaction', id },
  });
}

function toInteractionRecord(row: Row<'interactions'>): InteractionRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    contactId: row.contact_id,
    subject: row.subject,
    subjectToken: row.subject_token,
    status: row.status,
    assignedUserId: row.assigned_user_id,
    lastActivityAt: row.last_activity_at,
    messageCount: row.message_count,
    unreadCount: row.unread_count,
    closedAt: row.closed_at,
    snoozedUntil: row.snoozed_until,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
