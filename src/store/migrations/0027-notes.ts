/**
 * Internal notes: agents' remarks in a conversation, never sent to anyone outside. A note outlives
 * its author (the author becomes null when the user is deleted) and goes with its conversation.
 */
import { addIndex, optionalReference, reference, required } from './columns.js';
import type { PosternMigration } from './migration.js';

export const notesMigration: PosternMigration = {
  name: '0027-notes',
  async up(db, kit) {
    await db.schema
      .createTable('notes')
      .addColumn('id', 'integer', kit.id)
      .addColumn('interaction_id', 'integer', reference('interactions', 'cascade'))
      .addColumn('author_user_id', 'integer', optionalReference('users', 'set null'))
      .addColumn('body', 'text', required)
      .addColumn('created_at', 'text', required)
      .addColumn('updated_at', 'text', required)
      .execute();
    await addIndex(db, 'notes', ['interaction_id', 'id']);
    await addIndex(db, 'notes', ['author_user_id']);
  },
  async down(db) {
    await db.schema.dropTable('notes').execute();
  },
};
