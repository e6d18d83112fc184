/**
 * Deleting a row that other rows may still refer to: the foreign keys decide (ON DELETE RESTRICT),
 * and a refusal becomes the catalogue's RESOURCE_CONFLICT with the caller's words, on either engine.
 */
import { PosternError } from '../errors/index.js';
import type { Database } from './database.js';
import { readConstraintViolation } from './sql-errors.js';

/** How to explain a refused deletion. */
export interface ReferencedRow {
  /** The `details.resource` of both errors (`contact`, `list`, `email_account`). */
  readonly resource: string;
  /** The error for an id that does not exist. */
  readonly notFound: () => PosternError;
  /** Why the row is still needed, and what to do instead. */
  readonly inUse: { readonly message: string; readonly remedy?: string };
}

/**
 * Deletes the row `id` of `table`.
 *
 * @throws PosternError RESOURCE_NOT_FOUND (the caller's), or RESOURCE_CONFLICT when rows refer to it.
 */
export async function deleteUnlessReferenced(
  db: Database,
  table: 'contacts' | 'lists' | 'email_accounts',
  id: number,
  row: ReferencedRow,
): Promise<void> {
  try {
    const result = await db.kysely.deleteFrom(table).where('id', '=', id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw row.notFound();
  } catch (error) {
    if (readConstraintViolation(error)?.kind !== 'foreign_key') throw error;
    throw new PosternError('RESOURCE_CONFLICT', {
      message: row.inUse.message,
      ...(row.inUse.remedy === undefined ? {} : { remedy: row.inUse.remedy }),
      details: { resource: row.resource, id },
      cause: error,
    });
  }
}
