/**
 * Snoozed conversations: an open conversation put aside until a time (`snoozed_until`). It leaves
 * the Open list until then, and comes back by itself at that time, or sooner when the customer
 * writes again; closing it ends the snooze. The index serves the sweep that wakes conversations
 * whose time has come.
 */
import { addIndex } from './columns.js';
import type { PosternMigration } from './migration.js';

export const snoozeMigration: PosternMigration = {
  name: '0031-snooze',
  async up(db) {
    await db.schema.alterTable('interactions').addColumn('snoozed_until', 'text').execute();
    await addIndex(db, 'interactions', ['snoozed_until']);
  },
  async down(db) {
    await db.schema.dropIndex('interactions_snoozed_until_idx').ifExists().execute();
    await db.schema.alterTable('interactions').dropColumn('snoozed_until').execute();
  },
};
