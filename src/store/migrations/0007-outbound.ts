/**
 * Outbound mail: the per-account sending settings the issue asks to be configurable (concurrent
 * submissions, recipients per message, message size, how long temporary failures are retried),
 * and what the dispatcher needs on an outbox row to submit it again exactly as it was accepted
 * (the SMTP envelope), to count it against the limits (its recipients), to know when to give up
 * (first failure), and to show the result (the server's reply, the remedy).
 *
 * @see https://learn.microsoft.com/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits#sending-limits
 */
import { addIndex } from './columns.js';
import type { PosternMigration } from './migration.js';

export const outboundMigration: PosternMigration = {
  name: '0007-outbound',
  async up(db) {
    const accountColumns: Array<[string, 'integer' | 'bigint', number]> = [
      ['send_concurrency', 'integer', 3],
      ['max_recipients_per_message', 'integer', 500],
      ['max_send_bytes', 'bigint', 36_700_160],
      ['send_retry_hours', 'integer', 24],
    ];
    for (const [name, type, value] of accountColumns) {
      await db.schema
        .alterTable('email_accounts')
        .addColumn(name, type, (column) => column.notNull().defaultTo(value))
        .execute();
    }
    await db.schema
      .alterTable('outbox')
      .addColumn('envelope_json', 'text', (column) => column.notNull().defaultTo('{"from":"","to":[]}'))
      .execute();
    await db.schema
      .alterTable('outbox')
      .addColumn('recipient_count', 'integer', (column) => column.notNull().defaultTo(0))
      .execute();
    for (const name of ['first_failed_at', 'last_attempt_at', 'last_error_remedy', 'last_response', 'sent_at']) {
      await db.schema.alterTable('outbox').addColumn(name, 'text').execute();
    }
    // Recovery after a crash looks for claims whose lease ran out.
    await addIndex(db, 'outbox', ['state', 'claimed_until']);
  },
  async down(db) {
    await db.schema.dropIndex('outbox_state_claimed_until_idx').execute();
    for (const name of [
      'sent_at',
      'last_response',
      'last_error_remedy',
      'last_attempt_at',
      'first_failed_at',
      'recipient_count',
      'envelope_json',
    ]) {
      await db.schema.alterTable('outbox').dropColumn(name).execute();
    }
    for (const name of ['send_retry_hours', 'max_send_bytes', 'max_recipients_per_message', 'send_concurrency']) {
      await db.schema.alterTable('email_accounts').dropColumn(name).execute();
    }
  },
};
