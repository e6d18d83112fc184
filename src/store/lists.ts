/**
 * Contact lists. Names are unique regardless of case. A list that holds contacts, or is an
 * account's default list, cannot be deleted.
 *
 * An agent sees the default lists of the agent's accounts and the lists of the contacts the agent
 * sees (see contacts.ts), each counting only those contacts; an administrator sees every list.
 */
import type { ExpressionBuilder } from 'kysely';
import { PosternError } from '../errors/index.js';
import { contactVisibleTo, type ContactScope } from './contacts.js';
import type { Database } from './database.js';
import { containsLowercase, normalizePage, type Page, type PageRequest } from './pagination.js';
import type { DB, Timestamp } from './schema.js';
import { readConstraintViolation } from './sql-errors.js';
import { toDbTime } from './time.js';
import { deleteUnlessReferenced } from './delete-row.js';

/** A list with the number of its contacts. */
export interface ListRecord {
  readonly id: number;
  readonly name: string;
  readonly description: string | null;
  readonly contactCount: number;
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
}

/** What creating a list needs. */
export interface NewList {
  readonly name: string;
  readonly description?: string | null;
}

/** Fields of a list that can change. */
export interface ListChanges {
  readonly name?: string;
  readonly description?: string | null;
}

/** Creates a list. @throws PosternError RESOURCE_CONFLICT when the name is taken (in any case). */
export async function createList(db: Database, list: NewList): Promise<ListRecord> {
  const now = toDbTime(db.now());
  try {
    const row = await db.kysely
      .insertInto('lists')
      .values({ name: list.name, description: list.description ?? null, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    return await requireList(db, row.id);
  } catch (error) {
    throw translateNameConflict(error, list.name);
  }
}

/** The list new senders go to when their account names no default list. */
export const FALLBACK_LIST_NAME = 'Contacts';

/**
 * The id of the fallback list, created when it does not exist (its name is matched regardless of
 * case): the default list of a new account that names none, and the list of new contacts (senders,
 * recipients) of an account without a default list.
 */
export async function findOrCreateFallbackList(db: Database): Promise<number> {
  const found = await findFallbackList(db);
  if (found !== undefined) return found;
  // Two callers may both find none (two accounts created at once, two mailboxes' first sender):
  // the second insert yields to the first instead of failing on the name's unique index (which on
  // PostgreSQL would also abort the caller's transaction), and both read the one list.
  const now = toDbTime(db.now());
  await db.kysely
    .insertInto('lists')
    .values({ name: FALLBACK_LIST_NAME, description: 'New senders are saved here.', created_at: now, updated_at: now })
    .onConflict((conflict) => conflict.doNothing())
    .execute();
  const created = await findFallbackList(db);
  if (created === undefined) throw new Error('the fallback list could neither be found nor created');
  return created;
}

async function findFallbackList(db: Database): Promise<number | undefined> {
  const found = await db.kysely
    .selectFrom('lists')
    .select('id')
    .where((eb) => eb(eb.fn('lower', ['name']), '=', FALLBACK_LIST_NAME.toLowerCase()))
    .orderBy('id')
    .executeTakeFirst();
  return found?.id;
}

/** The list with this id, if it exists and is within `scope` (default: every list). */
export async function getList(
  db: Database,
  id: number,
  scope: ContactScope = { all: true },
): Promise<ListRecord | undefined> {
  let query = selectLists(db, scope).where('lists.id', '=', id);
  if ('agentUserId' in scope) query = query.where((eb) => listVisibleTo(eb, scope.agentUserId));
  return (await query.executeTakeFirst()) ?? undefined;
}

/**
 * Lists by name within `scope`, optionally those whose name contains `query` (regardless of case).
 */
export async function listLists(
  db: Database,
  request: PageRequest & { query?: string | undefined; scope?: ContactScope | undefined } = {},
): Promise<Page<ListRecord>> {
  const { limit, offset } = normalizePage(request);
  const scope = request.scope ?? { all: true };
  const pattern =
    request.query === undefined || request.query.trim() === '' ? undefined : containsLowercase(request.query.trim());
  let count = db.kysely.selectFrom('lists').select((eb) => eb.fn.countAll<number>().as('total'));
  let page = selectLists(db, scope)
    .orderBy((eb) => eb.fn('lower', ['lists.name']))
    .orderBy('lists.id')
    .limit(limit)
    .offset(offset);
  if (pattern !== undefined) {
    count = count.where((eb) => eb(eb.fn('lower', ['lists.name']), 'like', pattern));
    page = page.where((eb) => eb(eb.fn('lower', ['lists.name']), 'like', pattern));
  }
  if ('agentUserId' in scope) {
    count = count.where((eb) => listVisibleTo(eb, scope.agentUserId));
    page = page.where((eb) => listVisibleTo(eb, scope.agentUserId));
  }
  const [totalRow, items] = await Promise.all([count.executeTakeFirstOrThrow(), page.execute()]);
  return { items, total: Number(totalRow.total), limit, offset };
}

/**
 * Renames or describes a list.
 *
 * @throws PosternError RESOURCE_NOT_FOUND, or RESOURCE_CONFLICT when the new name is taken.
 */
export async function updateList(db: Database, id: number, changes: ListChanges): Promise<ListRecord> {
  try {
    const result = await db.kysely
      .updateTable('lists')
      .set({
        ...(changes.name === undefined ? {} : { name: changes.name }),
        ...(changes.description === undefined ? {} : { description: changes.description }),
        updated_at: toDbTime(db.now()),
      })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw listNotFound(id);
  } catch (error) {
    throw translateNameConflict(error, changes.name ?? '');
  }
  return requireList(db, id);
}

/**
 * Deletes an empty list.
 *
 * @throws PosternError RESOURCE_NOT_FOUND, or RESOURCE_CONFLICT when contacts or an account use it.
 */
export async function deleteList(db: Database, id: number): Promise<void> {
  await deleteUnlessReferenced(db, 'lists', id, {
    resource: 'list',
    notFound: () => listNotFound(id),
    inUse: {
      message: `List ${id} still holds contacts or is the default list of an email account.`,
      remedy: "Move or delete its contacts and change the accounts' default list first.",
    },
  });
}

/**
 * The list with this id, within `scope` (default: every list).
 * @throws PosternError RESOURCE_NOT_FOUND, the same for a list outside the scope.
 */
export async function requireList(db: Database, id: number, scope: ContactScope = { all: true }): Promise<ListRecord> {
  const list = await getList(db, id, scope);
  if (list === undefined) throw listNotFound(id);
  return list;
}

/**
 * True when the list is the default list of one of the agent's accounts: the list that agent
 * works in (ingest files new senders there), where they may merge contacts.
 */
export async function isAgentDefaultList(db: Database, listId: number, agentUserId: number): Promise<boolean> {
  const row = await db.kysely
    .selectFrom('email_accounts')
    .innerJoin('account_agents', 'account_agents.account_id', 'email_accounts.id')
    .select('email_accounts.id')
    .where('email_accounts.default_list_id', '=', listId)
    .where('account_agents.user_id', '=', agentUserId)
    .executeTakeFirst();
  return row !== undefined;
}

/** True for a row of `lists` that the agent sees: a default list of theirs, or one holding a contact they see. */
function listVisibleTo(eb: ExpressionBuilder<DB, 'lists'>, agentUserId: number) {
  return eb.or([
    eb.exists(
      eb
        .selectFrom('email_accounts')
        .innerJoin('account_agents', 'account_agents.account_id', 'email_accounts.id')
        .select('email_accounts.id')
        .whereRef('email_accounts.default_list_id', '=', 'lists.id')
        .where('account_agents.user_id', '=', agentUserId),
    ),
    eb.exists(
      eb
        .selectFrom('contacts')
        .select('contacts.id')
        .whereRef('contacts.list_id', '=', 'lists.id')
        .where((inner) => contactVisibleTo(inner, agentUserId)),
    ),
  ]);
}

/** Lists with the number of their contacts: all of them, or those the agent sees. */
function selectLists(db: Database, scope: ContactScope) {
  const agentUserId = 'agentUserId' in scope ? scope.agentUserId : undefined;
  return db.kysely.selectFrom('lists').select((eb) => [
    'lists.id',
    'lists.name',
    'lists.description',
    'lists.created_at as createdAt',
    'lists.updated_at as updatedAt',
    eb
      .selectFrom('contacts')
      .select((inner) => inner.fn.countAll<number>().as('n'))
      .whereRef('contacts.list_id', '=', 'lists.id')
      .$if(agentUserId !== undefined, (counted) => counted.where((inner) => contactVisibleTo(inner, agentUserId ?? 0)))
      .$asScalar()
      .$castTo<number>()
      .as('contactCount'),
  ]);
}

function listNotFound(id: number): PosternError {
  return new PosternError('RESOURCE_NOT_FOUND', {
    message: `There is no list ${id}.`,
    details: { resource: 'list', id },
  });
}

function translateNameConflict(error: unknown, name: string): unknown {
  if (readConstraintViolation(error)?.kind !== 'unique') return error;
  return new PosternError('RESOURCE_CONFLICT', {
    message: `A list named "${name}" already exists.`,
    details: { field: 'name', name },
    cause: error,
  });
}
