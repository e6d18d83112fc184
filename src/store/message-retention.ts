/**
 * Retention of originals (migration 0030): the queries of the sweep that removes, per account, the
 * raw MIME of messages older than the account's `raw_retention_days` and the bytes of their
 * attached files, keeping the conversation's text, HTML and the inline images that HTML shows.
 * The store does not parse MIME: the service (services/retention/) reads inline images out of the
 * raw MIME and hands their bytes to {@link removeOriginals}.
 *
 * Each call is bounded: {@link findExpiredOriginals} reads one batch, {@link removeOriginals}
 * writes it in one short transaction, and {@link releaseFreePages} gives SQLite's freed pages
 * back to the file system a few megabytes at a time — so that the sweep never holds the one
 * SQLite writer for long.
 *
 * @see https://www.sqlite.org/pragma.html#pragma_incremental_vacuum
 */
import { sql } from 'kysely';
import type { Database } from './database.js';
import type { Timestamp } from './schema.js';
import { toDbTime } from './time.js';

/** An account whose originals expire, and after how many days. */
export interface RetentionAccount {
  readonly accountId: number;
  readonly days: number;
}

/** An attachment of a message whose original expires: where its bytes are. */
export interface ExpiringAttachment {
  readonly id: number;
  /** The position in the message's attachments (by id), as `data-postern-inline` names it. */
  readonly position: number;
  readonly inline: boolean;
  /** Set: the bytes are this part of the raw MIME; null: they are in the row (or already gone). */
  readonly rawPart: number | null;
  readonly size: number;
  readonly sha256: string | null;
}

/** A message whose original is due for removal. */
export interface ExpiredOriginal {
  readonly messageId: number;
  readonly html: string | null;
  readonly attachments: readonly ExpiringAttachment[];
}

/** What one batch removes: the messages, and the inline images kept in their rows. */
export interface OriginalRemoval {
  readonly messageId: number;
  /** Attachments kept: an inline image the HTML shows; `content` set when it is copied out of the raw MIME. */
  readonly keep: ReadonlyArray<{ readonly attachmentId: number; readonly content?: Buffer }>;
}

/** What {@link removeOriginals} did. */
export interface RemovedOriginals {
  /** Messages whose original was removed by this call. */
  readonly messages: number;
  /** Attachments whose bytes were dropped. */
  readonly attachments: number;
  /**
   * Bytes of stored content given up: the raw MIME deleted and the attachment bytes dropped from
   * their rows, less the inline images copied out of the raw MIME into theirs.
   */
  readonly bytes: number;
}

const EMPTY = Buffer.alloc(0);

/** Accounts with a retention set (`raw_retention_days` not null), by id. */
export async function listRetentionAccounts(db: Database): Promise<RetentionAccount[]> {
  const rows = await db.kysely
    .selectFrom('email_accounts')
    .select(['id', 'raw_retention_days'])
    .where('raw_retention_days', 'is not', null)
    .orderBy('id')
    .execute();
  return rows.flatMap((row) =>
    row.raw_retention_days === null ? [] : [{ accountId: row.id, days: row.raw_retention_days }],
  );
}

/**
 * Up to `limit` messages of the account received before `before` whose original is still stored,
 * oldest first, with their attachments. Outgoing messages only once sent: a queued, failed or
 * cancelled one may still be submitted (a retry reads its raw MIME).
 */
export async function findExpiredOriginals(
  db: Database,
  accountId: number,
  before: Date,
  limit: number,
): Promise<ExpiredOriginal[]> {
  const rows = await db.kysely
    .selectFrom('messages')
    .select(['id', 'html_body'])
    .where('account_id', '=', accountId)
    .where('original_removed_at', 'is', null)
    .where('received_at', '<', toDbTime(before))
    .where((eb) => eb.or([eb('direction', '=', 'in'), eb('delivery_state', '=', 'sent')]))
    .orderBy('received_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  if (rows.length === 0) return [];
  const attachments = await db.kysely
    .selectFrom('attachments')
    .select(['id', 'message_id', 'inline', 'raw_part', 'size', 'sha256'])
    .where(
      'message_id',
      'in',
      rows.map((row) => row.id),
    )
    .orderBy('message_id')
    .orderBy('id')
    .execute();
  const byMessage = new Map<number, ExpiringAttachment[]>();
  for (const row of attachments) {
    const list = byMessage.get(row.message_id) ?? [];
    list.push({
      id: row.id,
      position: list.length,
      inline: row.inline === 1,
      rawPart: row.raw_part,
      size: row.size,
      sha256: row.sha256,
    });
    byMessage.set(row.message_id, list);
  }
  return rows.map((row) => ({ messageId: row.id, html: row.html_body, attachments: byMessage.get(row.id) ?? [] }));
}

/**
 * Removes the originals of these messages in one transaction: the kept inline images get their
 * bytes in their rows, every other attachment's bytes are dropped (`removed_at` set), the raw MIME
 * rows are deleted and the messages marked (`original_removed_at`). A message already marked (by
 * another sweep meanwhile) is left as it is.
 */
export async function removeOriginals(
  db: Database,
  removals: readonly OriginalRemoval[],
  at: Date,
): Promise<RemovedOriginals> {
  if (removals.length === 0) return { messages: 0, attachments: 0, bytes: 0 };
  const stamp: Timestamp = toDbTime(at);
  return db.transaction(async (tx) => {
    const pending = await tx.kysely
      .selectFrom('messages')
      .select('id')
      .where(
        'id',
        'in',
        removals.map((removal) => removal.messageId),
      )
      .where('original_removed_at', 'is', null)
      .execute();
    const ids = new Set(pending.map((row) => row.id));
    const due = removals.filter((removal) => ids.has(removal.messageId));
    if (due.length === 0) return { messages: 0, attachments: 0, bytes: 0 };
    const messageIds = due.map((removal) => removal.messageId);
    const kept = due.flatMap((removal) => removal.keep);
    // length() counts the bytes of a BLOB on SQLite and of a bytea on PostgreSQL.
    const rawBytes = await tx.kysely
      .selectFrom('message_raw')
      .select(sql<number | string | null>`sum(length(raw))`.as('bytes'))
      .where('message_id', 'in', messageIds)
      .executeTakeFirst();
    let dropping = tx.kysely
      .selectFrom('attachments')
      .select(sql<number | string | null>`sum(length(content))`.as('bytes'))
      .where('message_id', 'in', messageIds)
      .where('removed_at', 'is', null);
    if (kept.length > 0)
      dropping = dropping.where(
        'id',
        'not in',
        kept.map((keep) => keep.attachmentId),
      );
    const droppedBytes = await dropping.executeTakeFirst();
    let copied = 0;
    for (const keep of kept) {
      if (keep.content === undefined) continue;
      copied += keep.content.length;
      await tx.kysely
        .updateTable('attachments')
        .set({ content: keep.content, raw_part: null })
        .where('id', '=', keep.attachmentId)
        .execute();
    }
    let dropped = tx.kysely
      .updateTable('attachments')
      .set({ content: EMPTY, raw_part: null, removed_at: stamp })
      .where('message_id', 'in', messageIds)
      .where('removed_at', 'is', null);
    if (kept.length > 0)
      dropped = dropped.where(
        'id',
        'not in',
        kept.map((keep) => keep.attachmentId),
      );
    const attachments = await dropped.executeTakeFirst();
    await tx.kysely.deleteFrom('message_raw').where('message_id', 'in', messageIds).execute();
    await tx.kysely.updateTable('messages').set({ original_removed_at: stamp }).where('id', 'in', messageIds).execute();
    return {
      messages: messageIds.length,
      attachments: Number(attachments.numUpdatedRows),
      bytes: Number(rawBytes?.bytes ?? 0) + Number(droppedBytes?.bytes ?? 0) - copied,
    };
  });
}

/**
 * SQLite: gives up to `maxPages` free pages back to the file system (`incremental_vacuum`) and
 * returns how many free pages remain; the file shrinks at the next checkpoint. Nothing to do on
 * PostgreSQL, where (auto)vacuum makes the space of deleted rows reusable, and on a SQLite file
 * created without incremental auto-vacuum (`postern vacuum` converts it): both return 0.
 */
export async function releaseFreePages(db: Database, maxPages: number): Promise<number> {
  if (db.engine !== 'sqlite' || (await sqliteAutoVacuum(db)) !== 2) return 0;
  await sql.raw(`pragma incremental_vacuum(${Math.max(1, Math.trunc(maxPages))})`).execute(db.kysely);
  return sqlitePragmaNumber(db, 'freelist_count');
}

/** SQLite's `auto_vacuum` mode of the open file: 0 none, 1 full, 2 incremental. */
export async function sqliteAutoVacuum(db: Database): Promise<number> {
  return sqlitePragmaNumber(db, 'auto_vacuum');
}

async function sqlitePragmaNumber(db: Database, name: 'auto_vacuum' | 'freelist_count'): Promise<number> {
  const { rows } = await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(db.kysely);
  return Number(Object.values(rows[0] ?? {})[0] ?? 0);
}
