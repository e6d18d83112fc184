/**
 * People and machines that use Postern (users, their sessions and API tokens), and the small
 * coordination tables: meta (key check value), leases, API idempotency keys.
 */
import { addCaseInsensitiveUnique, addIndex, dropTables, flag, reference, required } from './columns.js';
import type { PosternMigration } from './migration.js';

export const identityMigration: PosternMigration = {
  name: '0001-identity',
  async up(db, kit) {
    await db.schema
      .createTable('users')
      .addColumn('id', 'integer', kit.id)
      .addColumn('username', 'text', required)
      .addColumn('display_name', 'text', required)
      .addColumn('role', 'text', required)
      .addColumn('password_hash', 'text', required)
      .addColumn('disabled', 'integer', flag('disabled', 0))
      .addColumn('last_login_at', 'text')
      .addColumn('created_at', 'text', required)
      .addColumn('updated_at', 'text', required)
      .execute();
    await addCaseInsensitiveUnique(db, 'users', 'username');

    await db.schema
      .createTable('sessions')
      .addColumn('id_hash', 'text', (column) => column.primaryKey())
      .addColumn('user_id', 'integer', reference('users', 'cascade'))
      .addColumn('csrf_token', 'text', required)
      .addColumn('user_agent', 'text')
      .addColumn('ip', 'text')
      .addColumn('created_at', 'text', required)
      .addColumn('last_seen_at', 'text', required)
      .addColumn('expires_at', 'text', required)
      .execute();
    await addIndex(db, 'sessions', ['user_id']);
    await addIndex(db, 'sessions', ['expires_at']);

    await db.schema
      .createTable('api_tokens')
      .addColumn('id', 'integer', kit.id)
      .addColumn('name', 'text', required)
      .addColumn('user_id', 'integer', reference('users', 'cascade'))
      .addColumn('token_hash', 'text', (column) => column.notNull().unique())
      .addColumn('prefix', 'text', required)
      .addColumn('created_at', 'text', required)
      .addColumn('last_used_at', 'text')
      .addColumn('expires_at', 'text')
      .addColumn('revoked_at', 'text')
      .execute();
    await addIndex(db, 'api_tokens', ['user_id']);

    await db.schema
      .createTable('meta')
      .addColumn('key', 'text', (column) => column.primaryKey())
      .addColumn('value', 'text', required)
      .addColumn('updated_at', 'text', required)
      .execute();

    await db.schema
      .createTable('leases')
      .addColumn('name', 'text', (column) => column.primaryKey())
      .addColumn('holder', 'text', required)
      .addColumn('acquired_at', 'text', required)
      .addColumn('expires_at', 'text', required)
      .execute();
    await addIndex(db, 'leases', ['expires_at']);

    await db.schema
      .createTable('idempotency_keys')
      .addColumn('id', 'integer', kit.id)
      .addColumn('owner', 'text', required)
      .addColumn('key', 'text', required)
      .addColumn('request_hash', 'text', required)
      .addColumn('response_status', 'integer')
      .addColumn('response_json', 'text')
      .addColumn('created_at', 'text', required)
      .addColumn('expires_at', 'text', required)
      .execute();
    await addIndex(db, 'idempotency_keys', ['owner', 'key'], { unique: true });
    await addIndex(db, 'idempotency_keys', ['expires_at']);
  },
  async down(db) {
    await dropTables(db, ['idempotency_keys', 'leases', 'meta', 'api_tokens', 'sessions', 'users']);
  },
};
