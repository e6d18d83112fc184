/**
 * Email accounts (one mailbox each), the agents assigned to them, their IMAP/Graph sync
 * checkpoints and the counters that enforce Exchange's sending limits across nodes.
 */
import {
  addCaseInsensitiveUnique,
  addIndex,
  dropTables,
  flag,
  optionalReference,
  reference,
  required,
} from './columns.js';
import type { PosternMigration } from './migration.js';

export const accountsMigration: PosternMigration = {
  name: '0004-accounts',
  async up(db, kit) {
    await db.schema
      .createTable('email_accounts')
      .addColumn('id', 'integer', kit.id)
      .addColumn('name', 'text', required)
      .addColumn('key', 'text', required)
      .addColumn('email_address', 'text', required)
      .addColumn('default_list_id', 'integer', optionalReference('lists', 'restrict'))
      .addColumn('active', 'integer', flag('active', 1))
      .addColumn('service', 'text', (column) => column.notNull().defaultTo('outlook365'))
      .addColumn('modern_auth', 'integer', flag('modern_auth', 1))
      .addColumn('username', 'text', required)
      .addColumn('password_enc', 'text')
      .addColumn('provider_id', 'integer', optionalReference('cloud_providers', 'restrict'))
      .addColumn('modern_auth_email', 'text')
      .addColumn('description', 'text')
      .addColumn('transport', 'text', (column) => column.notNull().defaultTo('imap_smtp'))
      .addColumn('imap_host', 'text')
      .addColumn('imap_port', 'integer')
      .addColumn('smtp_host', 'text')
      .addColumn('smtp_port', 'integer')
      .addColumn('folder', 'text', (column) => column.notNull().defaultTo('INBOX'))
      .addColumn('scan_junk', 'integer', flag('scan_junk', 0))
      .addColumn('after_fetch_action', 'text', (column) => column.notNull().defaultTo('mark_seen'))
      .addColumn('after_fetch_folder', 'text')
      .addColumn('max_message_bytes', 'bigint', (column) => column.notNull().defaultTo(36_700_160))
      .addColumn('use_idle', 'integer', flag('use_idle', 1))
      .addColumn('poll_interval_seconds', 'integer', (column) => column.notNull().defaultTo(60))
      .addColumn('first_sync_days', 'integer', (column) => column.notNull().defaultTo(7))
      .addColumn('send_per_minute', 'integer', (column) => column.notNull().defaultTo(30))
      .addColumn('recipients_per_day', 'integer', (column) => column.notNull().defaultTo(10_000))
      .addColumn('status', 'text', (column) => column.notNull().defaultTo('disconnected'))
      .addColumn('last_error_code', 'text')
      .addColumn('last_error_message', 'text')
      .addColumn('last_error_remedy', 'text')
      .addColumn('status_changed_at', 'text')
      .addColumn('created_at', 'text', required)
      .addColumn('updated_at', 'text', required)
      .execute();
    await addCaseInsensitiveUnique(db, 'email_accounts', 'key');
    await addIndex(db, 'email_accounts', ['provider_id']);
    await addIndex(db, 'email_accounts', ['active']);

    await db.schema
      .createTable('account_agents')
      .addColumn('account_id', 'integer', reference('email_accounts', 'cascade'))
      .addColumn('user_id', 'integer', reference('users', 'cascade'))
      .addColumn('created_at', 'text', required)
      .addPrimaryKeyConstraint('account_agents_pkey', ['account_id', 'user_id'])
      .execute();
    await addIndex(db, 'account_agents', ['user_id']);

    await db.schema
      .createTable('mailbox_checkpoints')
      .addColumn('id', 'integer', kit.id)
      .addColumn('account_id', 'integer', reference('email_accounts', 'cascade'))
      .addColumn('folder', 'text', required)
      // UIDVALIDITY and UIDs are unsigned 32-bit: they overflow PostgreSQL's integer.
      .addColumn('uidvalidity', 'bigint')
      .addColumn('last_uid', 'bigint', (column) => column.notNull().defaultTo(0))
      // MODSEQ is unsigned 63-bit, beyond a JavaScript number: kept as text.
      .addColumn('highest_modseq', 'text')
      .addColumn('delta_link', 'text')
      .addColumn('updated_at', 'text', required)
      .execute();
    await addIndex(db, 'mailbox_checkpoints', ['account_id', 'folder'], { unique: true });

    await db.schema
      .createTable('rate_counters')
      .addColumn('id', 'integer', kit.id)
      .addColumn('account_id', 'integer', reference('email_accounts', 'cascade'))
      .addColumn('window_kind', 'text', required)
      .addColumn('window_start', 'text', required)
      .addColumn('count', 'integer', (column) => column.notNull().defaultTo(0))
      .execute();
    await addIndex(db, 'rate_counters', ['account_id', 'window_kind', 'window_start'], { unique: true });
    await addIndex(db, 'rate_counters', ['window_start']);
  },
  async down(db) {
    await dropTables(db, ['rate_counters', 'mailbox_checkpoints', 'account_agents', 'email_accounts']);
  },
};
