/**
 * Microsoft Entra ID side: cloud providers (app registrations), OAuth states of sign-ins in
 * progress, grants (one identity under a provider) and their cached access tokens per resource.
 */
import { sql } from 'kysely';
import { addCaseInsensitiveUnique, addIndex, dropTables, optionalReference, reference, required } from './columns.js';
import type { PosternMigration } from './migration.js';

export const providersMigration: PosternMigration = {
  name: '0002-providers',
  async up(db, kit) {
    await db.schema
      .createTable('cloud_providers')
      .addColumn('id', 'integer', kit.id)
      .addColumn('name', 'text', required)
      .addColumn('service', 'text', (column) => column.notNull().defaultTo('microsoft-azure'))
      .addColumn('type', 'text', (column) => column.notNull().defaultTo('outlook365'))
      .addColumn('application_id', 'text', required)
      .addColumn('tenant_id', 'text', required)
      .addColumn('client_secret_enc', 'text')
      .addColumn('client_secret_hint', 'text')
      .addColumn('client_secret_expires_at', 'text')
      .addColumn('redirect_uri', 'text')
      .addColumn('cloud', 'text', (column) => column.notNull().defaultTo('global'))
      .addColumn('authority_url', 'text')
      .addColumn('ca_file', 'text')
      .addColumn('grant_type', 'text', (column) => column.notNull().defaultTo('authorization_code'))
      .addColumn('scopes_json', 'text', (column) => column.notNull().defaultTo('[]'))
      .addColumn('status', 'text', (column) => column.notNull().defaultTo('unauthenticated'))
      .addColumn('last_error_code', 'text')
      .addColumn('last_error_message', 'text')
      .addColumn('last_error_remedy', 'text')
      .addColumn('status_changed_at', 'text')
      .addColumn('created_at', 'text', required)
      .addColumn('updated_at', 'text', required)
      .execute();
    await addCaseInsensitiveUnique(db, 'cloud_providers', 'name');
    // The secret-expiry watcher scans by expiry date.
    await addIndex(db, 'cloud_providers', ['client_secret_expires_at']);

    await db.schema
      .createTable('oauth_states')
      .addColumn('id', 'integer', kit.id)
      .addColumn('state_hash', 'text', (column) => column.notNull().unique())
      .addColumn('provider_id', 'integer', reference('cloud_providers', 'cascade'))
      .addColumn('pkce_verifier_enc', 'text', required)
      .addColumn('nonce', 'text')
      .addColumn('user_id', 'integer', optionalReference('users', 'cascade'))
      .addColumn('session_hash', 'text')
      .addColumn('redirect_to', 'text')
      .addColumn('login_hint', 'text')
      .addColumn('created_at', 'text', required)
      .addColumn('expires_at', 'text', required)
      .addColumn('used_at', 'text')
      .execute();
    await addIndex(db, 'oauth_states', ['expires_at']);
    await addIndex(db, 'oauth_states', ['provider_id']);

    await db.schema
      .createTable('grants')
      .addColumn('id', 'integer', kit.id)
      .addColumn('provider_id', 'integer', reference('cloud_providers', 'cascade'))
      .addColumn('upn', 'text')
      .addColumn('object_id', 'text')
      .addColumn('tenant_id', 'text')
      .addColumn('display_name', 'text')
      .addColumn('scopes_json', 'text', (column) => column.notNull().defaultTo('[]'))
      .addColumn('refresh_token_enc', 'text')
      .addColumn('password_enc', 'text')
      .addColumn('state', 'text', (column) => column.notNull().defaultTo('active'))
      .addColumn('last_interactive_at', 'text')
      .addColumn('last_refresh_at', 'text')
      .addColumn('last_error_code', 'text')
      .addColumn('last_error_message', 'text')
      .addColumn('last_error_remedy', 'text')
      .addColumn('last_error_aadsts', 'text')
      .addColumn('last_error_at', 'text')
      .addColumn('created_at', 'text', required)
      .addColumn('updated_at', 'text', required)
      .execute();
    // One grant per identity under a provider: by object id when known, and by UPN (an account
    // finds its grant by its modern authentication email). NULLs do not collide on either engine.
    await addIndex(db, 'grants', ['provider_id', 'object_id'], { unique: true });
    await db.schema
      .createIndex('grants_provider_id_upn_lower_key')
      .on('grants')
      .unique()
      .columns(['provider_id'])
      .expression(sql`lower(${sql.ref('upn')})`)
      .execute();
    // The token keeper looks for grants due for refresh.
    await addIndex(db, 'grants', ['state', 'last_refresh_at']);

    await db.schema
      .createTable('grant_access_tokens')
      .addColumn('id', 'integer', kit.id)
      .addColumn('grant_id', 'integer', reference('grants', 'cascade'))
      .addColumn('resource', 'text', required)
      .addColumn('access_token_enc', 'text', required)
      .addColumn('scopes_json', 'text', (column) => column.notNull().defaultTo('[]'))
      .addColumn('expires_at', 'text', required)
      .addColumn('obtained_at', 'text', required)
      .execute();
    await addIndex(db, 'grant_access_tokens', ['grant_id', 'resource'], { unique: true });
  },
  async down(db) {
    await dropTables(db, ['grant_access_tokens', 'grants', 'oauth_states', 'cloud_providers']);
  },
};
