/**
 * Timelines and their delivery: events (for the UI and webhooks), webhooks and the per-webhook
 * delivery queue.
 */
import { addIndex, dropTables, flag, reference, required } from './columns.js';
import type { PosternMigration } from './migration.js';

export const eventsMigration: PosternMigration = {
  name: '0006-events',
  async up(db, kit) {
    await db.schema
      .createTable('events')
      .addColumn('id', 'integer', kit.id)
      .addColumn('scope', 'text', required)
      .addColumn('scope_id', 'integer')
      .addColumn('type', 'text', required)
      .addColumn('level', 'text', (column) => column.notNull().defaultTo('info'))
      .addColumn('message', 'text', required)
      .addColumn('data_json', 'text')
      .addColumn('created_at', 'text', required)
      .execute();
    await addIndex(db, 'events', ['created_at']);
    // A timeline is one scope's events, newest first by id (the cursor of listEvents).
    await addIndex(db, 'events', ['scope', 'scope_id', 'id']);

    await db.schema
      .createTable('webhooks')
      .addColumn('id', 'integer', kit.id)
      .addColumn('url', 'text', required)
      .addColumn('description', 'text')
      .addColumn('events_json', 'text', (column) => column.notNull().defaultTo('[]'))
      .addColumn('secret_enc', 'text', required)
      .addColumn('active', 'integer', flag('active', 1))
      .addColumn('failure_count', 'integer', (column) => column.notNull().defaultTo(0))
      .addColumn('last_success_at', 'text')
      .addColumn('last_failure_at', 'text')
      .addColumn('created_at', 'text', required)
      .addColumn('updated_at', 'text', required)
      .execute();

    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'integer', kit.id)
      .addColumn('webhook_id', 'integer', reference('webhooks', 'cascade'))
      .addColumn('event_id', 'integer', reference('events', 'cascade'))
      .addColumn('state', 'text', (column) => column.notNull().defaultTo('pending'))
      .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'text', required)
      .addColumn('response_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('delivered_at', 'text')
      .addColumn('created_at', 'text', required)
      .addColumn('updated_at', 'text', required)
      .execute();
    await addIndex(db, 'webhook_deliveries', ['state', 'next_attempt_at']);
    await addIndex(db, 'webhook_deliveries', ['webhook_id', 'event_id'], { unique: true });
    await addIndex(db, 'webhook_deliveries', ['event_id']);
  },
  async down(db) {
    await dropTables(db, ['webhook_deliveries', 'webhooks', 'events']);
  },
};
