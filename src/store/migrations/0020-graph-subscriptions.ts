/**
 * Microsoft Graph change-notification subscriptions of the Graph inbound engine: one per account
 * and folder, with Graph's subscription id, its expiry, and the SHA-256 of its random
 * `clientState` (a notification is believed only when its `clientState` hashes to this, compared
 * in constant time; the plain value is never stored, so nothing needs sealing).
 *
 * @see https://learn.microsoft.com/graph/api/resources/subscription
 */
import { addIndex, reference, required } from './columns.js';
import type { PosternMigration } from './migration.js';

export const graphSubscriptionsMigration: PosternMigration = {
  name: '0020-graph-subscriptions',
  async up(db, kit) {
    await db.schema
      .createTable('graph_subscriptions')
      .addColumn('id', 'integer', kit.id)
      .addColumn('account_id', 'integer', reference('email_accounts', 'cascade'))
      .addColumn('folder', 'text', required)
      .addColumn('subscription_id', 'text', (column) => column.notNull().unique())
      .addColumn('client_state_hash', 'text', required)
      .addColumn('expires_at', 'text', required)
      .addColumn('created_at', 'text', required)
      .addColumn('renewed_at', 'text')
      .execute();
    await addIndex(db, 'graph_subscriptions', ['account_id', 'folder'], { unique: true });
  },
  async down(db) {
    await db.schema.dropTable('graph_subscriptions').execute();
  },
};
