/**
 * Search at scale (issue 19 point 3; "A million messages" in docs/PERFORMANCE.md):
 *
 * - a partial index of the messages that have an attachment, by conversation: `has:attachment`
 *   checks a conversation with one probe of it, and counts such messages without the table;
 * - SQLite: an index of every message's id with its conversation and attachment flag. A search
 *   that collects its matching messages first (store/message-search.ts) reads their conversations
 *   from it, a few bytes each, rather than from the table's rows, which hold the text (ten times
 *   faster at a million messages). PostgreSQL joins through its own plans and does not need it.
 */
import { sql } from 'kysely';
import { MESSAGE_CONVERSATION_INDEX } from '../message-search.js';
import type { PosternMigration } from './migration.js';

const ATTACHMENT_INDEX = 'messages_with_attachments_idx';

export const searchAtScaleMigration: PosternMigration = {
  name: '0034-search-at-scale',
  async up(db, kit) {
    await db.schema
      .createIndex(ATTACHMENT_INDEX)
      .on('messages')
      .column('interaction_id')
      .where(sql.ref('has_attachments'), '=', sql.lit(1))
      .execute();
    if (kit.engine === 'sqlite') {
      await db.schema
        .createIndex(MESSAGE_CONVERSATION_INDEX)
        .on('messages')
        .columns(['id', 'interaction_id', 'has_attachments'])
        .execute();
    }
  },
  async down(db, kit) {
    if (kit.engine === 'sqlite') await db.schema.dropIndex(MESSAGE_CONVERSATION_INDEX).execute();
    await db.schema.dropIndex(ATTACHMENT_INDEX).execute();
  },
};
