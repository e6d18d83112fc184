/**
 * One-time console links for Cloud Provider sign-ins started without a browser (an API token or
 * the CLI). A ticket (stored as its sha256) is bound to one console user and one provider, lives
 * 10 minutes and is used once: opened by that user's browser session, it becomes an OAuth state
 * bound to that session. An OAuth state itself is never handed to a caller without a session.
 */
import { addIndex, reference, required } from './columns.js';
import type { PosternMigration } from './migration.js';

export const signInTicketsMigration: PosternMigration = {
  name: '0012-sign-in-tickets',
  async up(db, kit) {
    await db.schema
      .createTable('sign_in_tickets')
      .addColumn('id', 'integer', kit.id)
      .addColumn('ticket_hash', 'text', (column) => column.notNull().unique())
      .addColumn('provider_id', 'integer', reference('cloud_providers', 'cascade'))
      .addColumn('user_id', 'integer', reference('users', 'cascade'))
      .addColumn('login_hint', 'text')
      .addColumn('created_at', 'text', required)
      .addColumn('expires_at', 'text', required)
      .addColumn('used_at', 'text')
      .execute();
    await addIndex(db, 'sign_in_tickets', ['expires_at']);
    await addIndex(db, 'sign_in_tickets', ['provider_id']);
    await addIndex(db, 'sign_in_tickets', ['user_id']);
  },
  async down(db) {
    await db.schema.dropTable('sign_in_tickets').execute();
  },
};
