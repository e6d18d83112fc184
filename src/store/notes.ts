/**
 * Internal notes: what agents write to each other in a conversation. A note is never sent: it has
 * no outbox row and no message row, and it is read only with its conversation.
 */
import { PosternError } from '../errors/index.js';
import type { Database } from './database.js';
import type { Timestamp } from './schema.js';
import { toDbTime } from './time.js';

/** A note with its author's display name (null once the author's user is deleted). */
export interface NoteRecord {
  readonly id: number;
  readonly interactionId: number;
  readonly authorUserId: number | null;
  readonly authorName: string | null;
  readonly body: string;
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
}

function noteQuery(db: Database) {
  return db.kysely
    .selectFrom('notes')
    .leftJoin('users', 'users.id', 'notes.author_user_id')
    .select([
      'notes.id',
      'notes.interaction_id',
      'notes.author_user_id',
      'users.display_name',
      'notes.body',
      'notes.created_at',
      'notes.updated_at',
    ]);
}

type NoteRow = Awaited<ReturnType<ReturnType<typeof noteQuery>['executeTakeFirstOrThrow']>>;

function toNote(row: NoteRow): NoteRecord {
  return {
    id: row.id,
    interactionId: row.interaction_id,
    authorUserId: row.author_user_id,
    authorName: row.display_name,
    body: row.body,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A note by id. */
export async function getNote(db: Database, id: number): Promise<NoteRecord | undefined> {
  const row = await noteQuery(db).where('notes.id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toNote(row);
}

/** The notes of a conversation, oldest first. */
export async function listInteractionNotes(db: Database, interactionId: number): Promise<NoteRecord[]> {
  const rows = await noteQuery(db).where('notes.interaction_id', '=', interactionId).orderBy('notes.id').execute();
  return rows.map(toNote);
}

/** Adds a note to a conversation. */
export async function createNote(
  db: Database,
  note: { interactionId: number; authorUserId: number; body: string },
): Promise<NoteRecord> {
  const now = toDbTime(db.now());
  const inserted = await db.kysely
    .insertInto('notes')
    .values({
      interaction_id: note.interactionId,
      author_user_id: note.authorUserId,
      body: note.body,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return requireNote(db, inserted.id);
}

/** Replaces a note's text; undefined when there is no such note. */
export async function updateNote(db: Database, id: number, body: string): Promise<NoteRecord | undefined> {
  const result = await db.kysely
    .updateTable('notes')
    .set({ body, updated_at: toDbTime(db.now()) })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return undefined;
  return requireNote(db, id);
}

/** Deletes a note; true when there was one. */
export async function deleteNote(db: Database, id: number): Promise<boolean> {
  const result = await db.kysely.deleteFrom('notes').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

async function requireNote(db: Database, id: number): Promise<NoteRecord> {
  const note = await getNote(db, id);
  if (note === undefined)
    throw new PosternError('INTERNAL', { message: `Note ${id}, just written, could not be read back.` });
  return note;
}
