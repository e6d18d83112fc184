/**
 * Canned answers and the users' own signatures: what the reply composer inserts. A canned answer is
 * shared (no owner; every agent sees it) or personal (one user's). Which caller may see or change
 * which is the service's rule (services/inbox/canned-answer-service.ts); this module stores them.
 */
import { PosternError } from '../errors/index.js';
import type { Database } from './database.js';
import type { Row, Timestamp } from './schema.js';
import { toDbTime } from './time.js';

/** A canned answer as stored: `body` may hold placeholders (domain/placeholders.ts). */
export interface CannedAnswerRecord {
  readonly id: number;
  readonly title: string;
  readonly body: string;
  readonly shared: boolean;
  /** The owner of a personal answer; null for a shared one. */
  readonly ownerUserId: number | null;
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
}

/** What a canned answer holds; `ownerUserId` is null exactly when it is shared. */
export interface CannedAnswerFields {
  readonly title: string;
  readonly body: string;
  readonly ownerUserId: number | null;
}

function toCannedAnswer(row: Row<'canned_answers'>): CannedAnswerRecord {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    shared: row.shared === 1,
    ownerUserId: row.owner_user_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A canned answer by id. */
export async function getCannedAnswer(db: Database, id: number): Promise<CannedAnswerRecord | undefined> {
  const row = await db.kysely.selectFrom('canned_answers').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toCannedAnswer(row);
}

/**
 * The answers a user may use: the shared ones and the user's own, by title regardless of case
 * (shared first when two titles are the same).
 */
export async function listCannedAnswers(db: Database, userId: number): Promise<CannedAnswerRecord[]> {
  const rows = await db.kysely
    .selectFrom('canned_answers')
    .selectAll()
    .where((eb) => eb.or([eb('shared', '=', 1), eb('owner_user_id', '=', userId)]))
    .orderBy((eb) => eb.fn('lower', ['title']))
    .orderBy('shared', 'desc')
    .orderBy('id')
    .execute();
  return rows.map(toCannedAnswer);
}

/** How many answers are shared (`ownerUserId` null) or belong to a user. */
export async function countCannedAnswers(db: Database, ownerUserId: number | null): Promise<number> {
  const query = db.kysely.selectFrom('canned_answers').select((eb) => eb.fn.countAll<number | string>().as('n'));
  const row = await (
    ownerUserId === null ? query.where('shared', '=', 1) : query.where('owner_user_id', '=', ownerUserId)
  ).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Stores a new canned answer. */
export async function createCannedAnswer(db: Database, fields: CannedAnswerFields): Promise<CannedAnswerRecord> {
  const now = toDbTime(db.now());
  const row = await db.kysely
    .insertInto('canned_answers')
    .values({
      title: fields.title,
      body: fields.body,
      shared: fields.ownerUserId === null ? 1 : 0,
      owner_user_id: fields.ownerUserId,
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toCannedAnswer(row);
}

/** Replaces a canned answer's fields; undefined when there is no such answer. */
export async function updateCannedAnswer(
  db: Database,
  id: number,
  fields: CannedAnswerFields,
): Promise<CannedAnswerRecord | undefined> {
  const row = await db.kysely
    .updateTable('canned_answers')
    .set({
      title: fields.title,
      body: fields.body,
      shared: fields.ownerUserId === null ? 1 : 0,
      owner_user_id: fields.ownerUserId,
      updated_at: toDbTime(db.now()),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? undefined : toCannedAnswer(row);
}

/** Deletes a canned answer; true when there was one. */
export async function deleteCannedAnswer(db: Database, id: number): Promise<boolean> {
  const result = await db.kysely.deleteFrom('canned_answers').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** A user's own signature (null when none). @throws PosternError RESOURCE_NOT_FOUND */
export async function getUserSignature(db: Database, userId: number): Promise<string | null> {
  const row = await db.kysely.selectFrom('users').select('signature').where('id', '=', userId).executeTakeFirst();
  if (row === undefined) throw userNotFound(userId);
  return row.signature;
}

/** Sets or (null) removes a user's own signature. @throws PosternError RESOURCE_NOT_FOUND */
export async function setUserSignature(db: Database, userId: number, signature: string | null): Promise<void> {
  const result = await db.kysely
    .updateTable('users')
    .set({ signature, updated_at: toDbTime(db.now()) })
    .where('id', '=', userId)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw userNotFound(userId);
}

function userNotFound(id: number): PosternError {
  return new PosternError('RESOURCE_NOT_FOUND', {
    message: `There is no user ${id}.`,
    details: { resource: 'user', id },
  });
}
