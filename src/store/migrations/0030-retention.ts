/**
 * Retention of originals (issue 19, point 5). Per account, `raw_retention_days`: the original of a
 * message older than that many days — its raw MIME and the bytes of its attached files — is
 * removed by the hourly sweep (services/retention/), while the conversation's text, its sanitized
 * HTML and the inline images that HTML shows stay. Null (the default) keeps originals for ever.
 *
 * - `messages.original_removed_at`: when the sweep removed the message's raw MIME (`message_raw`
 *   row deleted); null while it is stored. The API answers 410 MESSAGE_ORIGINAL_EXPIRED for it.
 * - `attachments.removed_at`: when the sweep dropped the attachment's bytes (`content` emptied,
 *   `raw_part` null); null while they can be downloaded. An inline image the HTML shows is copied
 *   out of the raw MIME into `content` before the raw MIME goes, and keeps `removed_at` null.
 * - A partial index on the messages whose original is still stored, by account and date: the
 *   sweep finds the next expired originals without walking past the ones it already removed
 *   (the plain `(account_id, received_at)` index would make every batch step over all of them).
 */
import { sql } from 'kysely';
import type { PosternMigration } from './migration.js';

const INDEX = 'messages_original_kept_idx';

export const retentionMigration: PosternMigration = {
  name: '0030-retention',
  async up(db) {
    await db.schema
      .alterTable('email_accounts')
      .addColumn('raw_retention_days', 'integer', (column) =>
        column.check(sql`raw_retention_days is null or (raw_retention_days >= 1 and raw_retention_days <= 3650)`),
      )
      .execute();
    await db.schema.alterTable('messages').addColumn('original_removed_at', 'text').execute();
    await db.schema.alterTable('attachments').addColumn('removed_at', 'text').execute();
    await db.schema
      .createIndex(INDEX)
      .on('messages')
      .columns(['account_id', 'received_at'])
      .where(sql.ref('original_removed_at'), 'is', null)
      .execute();
  },
  async down(db) {
    await db.schema.dropIndex(INDEX).execute();
    await db.schema.alterTable('attachments').dropColumn('removed_at').execute();
    await db.schema.alterTable('messages').dropColumn('original_removed_at').execute();
    await db.schema.alterTable('email_accounts').dropColumn('raw_retention_days').execute();
  },
};
