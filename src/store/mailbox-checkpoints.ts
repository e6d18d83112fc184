/**
 * Mailbox checkpoints: per account and folder, the UIDVALIDITY seen and the highest UID stored.
 * Ingest advances the checkpoint in the same transaction that stores the message, so after a
 * crash the worker resumes exactly after the last message that became durable.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-2.3.1.1 (UIDs are valid only with their UIDVALIDITY)
 * @see https://www.rfc-editor.org/rfc/rfc4549#section-4.1 (resynchronisation after a UIDVALIDITY change)
 */
import { sql } from 'kysely';
import type { Database } from './database.js';
import type { Row, Timestamp } from './schema.js';
import { toDbTime } from './time.js';

/** Where a folder's sync stands. */
export interface MailboxCheckpoint {
  readonly accountId: number;
  readonly folder: string;
  /** Null before the folder was first selected. */
  readonly uidValidity: number | null;
  /** Every message with a UID up to this one (under `uidValidity`) is stored or deliberately skipped. */
  readonly lastUid: number;
  readonly updatedAt: Timestamp;
}

/** The checkpoint of a folder, if it was ever synced. */
export async function getCheckpoint(
  db: Database,
  accountId: number,
  folder: string,
): Promise<MailboxCheckpoint | undefined> {
  const row = await db.kysely
    .selectFrom('mailbox_checkpoints')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('folder', '=', folder)
    .executeTakeFirst();
  return row === undefined ? undefined : toCheckpoint(row);
}

/**
 * Moves the checkpoint forward to `uid` under `uidValidity`: never backwards under the same
 * UIDVALIDITY (a replay of an older UID leaves it), and to exactly `uid` under a new one.
 */
export async function advanceCheckpoint(
  db: Database,
  accountId: number,
  folder: string,
  uidValidity: number,
  uid: number,
): Promise<void> {
  const now = toDbTime(db.now());
  await db.kysely
    .insertInto('mailbox_checkpoints')
    .values({ account_id: accountId, folder, uidvalidity: uidValidity, last_uid: uid, updated_at: now })
    .onConflict((conflict) =>
      conflict.columns(['account_id', 'folder']).doUpdateSet({
        last_uid: sql<number>`case when mailbox_checkpoints.uidvalidity = excluded.uidvalidity and mailbox_checkpoints.last_uid > excluded.last_uid then mailbox_checkpoints.last_uid else excluded.last_uid end`,
        uidvalidity: sql<number>`excluded.uidvalidity`,
        updated_at: sql<string>`excluded.updated_at`,
      }),
    )
    .execute();
}

/**
 * Sets the checkpoint exactly: the start of a first sync (the UID before the window) or a resync
 * after a UIDVALIDITY change.
 */
export async function resetCheckpoint(
  db: Database,
  accountId: number,
  folder: string,
  uidValidity: number,
  lastUid: number,
): Promise<void> {
  const now = toDbTime(db.now());
  await db.kysely
    .insertInto('mailbox_checkpoints')
    .values({ account_id: accountId, folder, uidvalidity: uidValidity, last_uid: lastUid, updated_at: now })
    .onConflict((conflict) =>
      conflict.columns(['account_id', 'folder']).doUpdateSet({
        last_uid: sql<number>`excluded.last_uid`,
        uidvalidity: sql<number>`excluded.uidvalidity`,
        updated_at: sql<string>`excluded.updated_at`,
      }),
    )
    .execute();
}

function toCheckpoint(row: Row<'mailbox_checkpoints'>): MailboxCheckpoint {
  return {
    accountId: row.account_id,
    folder: row.folder,
    uidValidity: row.uidvalidity,
    lastUid: row.last_uid,
    updatedAt: row.updated_at,
  };
}

/**
 * A folder read through Microsoft Graph: the delta link that ends its last completed round (the
 * next round starts from it), or undefined before the first round completed.
 *
 * @see https://learn.microsoft.com/graph/delta-query-messages
 */
export async function getDeltaLink(
  db: Database,
  accountId: number,
  folder: string,
): Promise<{ readonly deltaLink: string; readonly updatedAt: Timestamp } | undefined> {
  const row = await db.kysely
    .selectFrom('mailbox_checkpoints')
    .select(['delta_link', 'updated_at'])
    .where('account_id', '=', accountId)
    .where('folder', '=', folder)
    .executeTakeFirst();
  return row === undefined || row.delta_link === null
    ? undefined
    : { deltaLink: row.delta_link, updatedAt: row.updated_at };
}

/**
 * Records a folder's delta link. Ingest calls it in the transaction of the last messages the round
 * covered; the IMAP columns of the row are left as they are.
 */
export async function setDeltaLink(db: Database, accountId: number, folder: string, deltaLink: string): Promise<void> {
  const now = toDbTime(db.now());
  await db.kysely
    .insertInto('mailbox_checkpoints')
    .values({ account_id: accountId, folder, uidvalidity: null, last_uid: 0, delta_link: deltaLink, updated_at: now })
    .onConflict((conflict) =>
      conflict.columns(['account_id', 'folder']).doUpdateSet({
        delta_link: sql<string>`excluded.delta_link`,
        updated_at: sql<string>`excluded.updated_at`,
      }),
    )
    .execute();
}
