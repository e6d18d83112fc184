/**
 * Failed sign-ins per username, so that the backoff after repeated failures holds on every node
 * sharing the database (the per-address limit of @fastify/rate-limit lives in each process's
 * memory). One row per username as typed, lower-cased — known or not, so that the refusal tells
 * nothing about which usernames exist. A success deletes the row.
 */
import { required } from './columns.js';
import type { PosternMigration } from './migration.js';

export const loginThrottleMigration: PosternMigration = {
  name: '0010-login-throttle',
  async up(db) {
    await db.schema
      .createTable('login_throttle')
      .addColumn('username_key', 'text', (column) => column.primaryKey())
      .addColumn('failures', 'integer', (column) => column.notNull().defaultTo(0))
      .addColumn('locked_until', 'text')
      .addColumn('updated_at', 'text', required)
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('login_throttle').execute();
  },
};
