/**
 * Conversations and mail: interactions, messages (with the mailbox coordinates that make ingest
 * idempotent), the raw MIME kept apart so that listing stays cheap, attachments, and the outbox.
 */
import { addIndex, dropTables, flag, optionalReference, reference, required } from './columns.js';
import type { PosternMigration } from './migration.js';

export const messagesMigration: PosternMigration = {
  name: '0005-messages',
  async up(db, kit) {
    await db.schema
      .createTable('interactions')
      .addColumn('id', 'integer', kit.id)
      .addColumn('account_id', 'integer', reference('email_accounts', 'restrict'))
      .addColumn('contact_id', 'integer', reference('contacts', 'restrict'))
      .addColumn('subject', 'text', (column) => column.notNull().defaultTo(''))
      .addColumn('subject_token', 'text')
      .addColumn('status', 'text', (column) => column.notNull().defaultTo('open'))
      .addColumn('assigned_user_id', 'integer', optionalReference('users', 'set null'))
      .addColumn('last_activity_at', 'text', required)
      .addColumn('message_count', 'integer', (column) => column.notNull().defaultTo(0))
      .addColumn('unread_count', 'integer', (column) => column.notNull().defaultTo(0))
      .addColumn('closed_at', 'text')
      .addColumn('created_at', 'text', required)
      .addColumn('updated_at', 'text', required)
      .execute();
    // The inbox: one account's conversations, newest first, optionally by status.
    await addIndex(db, 'interactions', ['account_id', 'last_activity_at']);
    await addIndex(db, 'interactions', ['account_id', 'status', 'last_activity_at']);
    // Threading by subject token, after In-Reply-To/References found nothing.
    await addIndex(db, 'interactions', ['account_id', 'subject_token']);
    await addIndex(db, 'interactions', ['contact_id']);
    await addIndex(db, 'interactions', ['assigned_user_id']);

    await db.schema
      .createTable('messages')
      .addColumn('id', 'integer', kit.id)
      .addColumn('account_id', 'integer', reference('email_accounts', 'restrict'))
      .addColumn('interaction_id', 'integer', optionalReference('interactions', 'restrict'))
      .addColumn('direction', 'text', required)
      .addColumn('message_id', 'text')
      .addColumn('in_reply_to', 'text')
      .addColumn('references_json', 'text', (column) => column.notNull().defaultTo('[]'))
      .addColumn('from_json', 'text', (column) => column.notNull().defaultTo('[]'))
      .addColumn('to_json', 'text', (column) => column.notNull().defaultTo('[]'))
      .addColumn('cc_json', 'text', (column) => column.notNull().defaultTo('[]'))
      .addColumn('bcc_json', 'text', (column) => column.notNull().defaultTo('[]'))
      .addColumn('reply_to_json', 'text', (column) => column.notNull().defaultTo('[]'))
      .addColumn('subject', 'text', (column) => column.notNull().defaultTo(''))
      .addColumn('text_body', 'text')
      .addColumn('html_body', 'text')
      .addColumn('header_date', 'text')
      .addColumn('is_auto_reply', 'integer', flag('is_auto_reply', 0))
      .addColumn('is_bounce', 'integer', flag('is_bounce', 0))
      .addColumn('is_list', 'integer', flag('is_list', 0))
      .addColumn('is_junk', 'integer', flag('is_junk', 0))
      .addColumn('is_read', 'integer', flag('is_read', 0))
      .addColumn('has_attachments', 'integer', flag('has_attachments', 0))
      .addColumn('folder', 'text')
      .addColumn('uidvalidity', 'bigint')
      .addColumn('uid', 'bigint')
      .addColumn('raw_size', 'bigint')
      .addColumn('author_user_id', 'integer', optionalReference('users', 'set null'))
      .addColumn('delivery_state', 'text')
      .addColumn('delivery_error', 'text')
      .addColumn('delivered_at', 'text')
      .addColumn('received_at', 'text', required)
      .addColumn('created_at', 'text', required)
      .addColumn('updated_at', 'text', required)
      .execute();
    // Nothing stored twice: a mailbox position, and a Message-ID, each identify one message.
    await addIndex(db, 'messages', ['account_id', 'folder', 'uidvalidity', 'uid'], {
      unique: true,
      name: 'messages_mailbox_position_key',
    });
    await addIndex(db, 'messages', ['account_id', 'message_id'], { unique: true });
    await addIndex(db, 'messages', ['interaction_id', 'id']);
    await addIndex(db, 'messages', ['account_id', 'received_at']);

    await db.schema
      .createTable('message_raw')
      .addColumn('message_id', 'integer', (column) => column.primaryKey().references('messages.id').onDelete('cascade'))
      .addColumn('raw', kit.binary, required)
      .execute();

    await db.schema
      .createTable('attachments')
      .addColumn('id', 'integer', kit.id)
      .addColumn('message_id', 'integer', reference('messages', 'cascade'))
      .addColumn('filename', 'text')
      .addColumn('content_type', 'text', required)
      .addColumn('size', 'bigint', required)
      .addColumn('content_id', 'text')
      .addColumn('inline', 'integer', flag('inline', 0))
      .addColumn('sha256', 'text')
      .addColumn('content', kit.binary, required)
      .execute();
    await addIndex(db, 'attachments', ['message_id']);

    await db.schema
      .createTable('outbox')
      .addColumn('id', 'integer', kit.id)
      .addColumn('message_id', 'integer', (column) =>
        column.notNull().unique().references('messages.id').onDelete('cascade'),
      )
      .addColumn('account_id', 'integer', reference('email_accounts', 'cascade'))
      .addColumn('state', 'text', (column) => column.notNull().defaultTo('queued'))
      .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'text', required)
      .addColumn('claimed_by', 'text')
      .addColumn('claimed_until', 'text')
      .addColumn('last_error_code', 'text')
      .addColumn('last_error_message', 'text')
      .addColumn('idempotency_key', 'text')
      .addColumn('created_at', 'text', required)
      .addColumn('updated_at', 'text', required)
      .execute();
    // The dispatcher claims due rows: state, then time.
    await addIndex(db, 'outbox', ['state', 'next_attempt_at']);
    await addIndex(db, 'outbox', ['account_id', 'state']);
    await addIndex(db, 'outbox', ['account_id', 'idempotency_key'], { unique: true });
  },
  async down(db) {
    await dropTables(db, ['outbox', 'attachments', 'message_raw', 'messages', 'interactions']);
  },
};
