/**
 * What non-delivery reports said about an outgoing message: per recipient, the action, the
 * enhanced status code and the remote server's words, with the report's own message. Null until a
 * report arrives; a JSON list (see store/message-bounces.ts).
 */
import type { PosternMigration } from './migration.js';

export const messageBouncesMigration: PosternMigration = {
  name: '0018-message-bounces',
  async up(db) {
    await db.schema.alterTable('messages').addColumn('bounces_json', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('messages').dropColumn('bounces_json').execute();
  },
};
