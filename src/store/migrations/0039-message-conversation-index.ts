/**
 * PostgreSQL: an index of every message's id with its account, conversation and attachment flag
 * (issue 19 point 3; "A million messages" in docs/PERFORMANCE.md), as 0034 gave SQLite. A search
 * collects its matching messages first, up to 15,000 of them in the whole store
 * (store/message-search.ts), and needs each one's account and conversation: read from the table,
 * that was a block of a 1 GB heap per match (half of the collection's time at a million messages,
 * 10,074 blocks for a word of 7,683 matches); from this index it is an index-only scan of 30 MB.
 */
import { sql } from 'kysely';
import { MESSAGE_CONVERSATION_INDEX } from '../message-search.js';
import type { PosternMigration } from './migration.js';

export const messageConversationIndexMigration: PosternMigration = {
  name: '0039-message-conversation-index',
  async up(db, kit) {
    if (kit.engine !== 'postgres') return;
    await sql`create index ${sql.id(MESSAGE_CONVERSATION_INDEX)} on messages (id) include (account_id, interaction_id, has_attachments)`.execute(
      db,
    );
  },
  async down(db, kit) {
    if (kit.engine !== 'postgres') return;
    await sql`drop index ${sql.id(MESSAGE_CONVERSATION_INDEX)}`.execute(db);
  },
};
