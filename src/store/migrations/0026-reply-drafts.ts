/**
 * Server-side reply drafts: one per conversation and agent, saved while the agent types, so that
 * a reply survives a reload, a visit to another conversation and another device, and is deleted
 * when the reply is queued. The recipients are null until the agent changes them (the composer
 * then shows the reply's default recipients); addresses are JSON text, checked again at send.
 */
import { addIndex, flag, reference, required } from './columns.js';
import type { PosternMigration } from './migration.js';

export const replyDraftsMigration: PosternMigration = {
  name: '0026-reply-drafts',
  async up(db, kit) {
    await db.schema
      .createTable('reply_drafts')
      .addColumn('id', 'integer', kit.id)
      .addColumn('interaction_id', 'integer', reference('interactions', 'cascade'))
      .addColumn('user_id', 'integer', reference('users', 'cascade'))
      .addColumn('text', 'text', (column) => column.notNull().defaultTo(''))
      .addColumn('reply_all', 'integer', flag('reply_all', 0))
      .addColumn('recipients', 'text')
      .addColumn('updated_at', 'text', required)
      .execute();
    await addIndex(db, 'reply_drafts', ['interaction_id', 'user_id'], { unique: true });
    await addIndex(db, 'reply_drafts', ['user_id']);
  },
  async down(db) {
    await db.schema.dropTable('reply_drafts').execute();
  },
};
