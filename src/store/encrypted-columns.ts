/**
 * The one list of columns that hold secrets encrypted at rest. Key rotation and the v1 → v2
 * upgrade re-encrypt exactly these, the tests check that no other `_enc` column exists, and each
 * entry's `context`, with the row's `key`, is the associated data that binds a ciphertext to its
 * column and row.
 */
import type { DB, TableName } from './schema.js';

/** The `_enc` columns of a table. */
type SealedColumnOf<T extends TableName> = Extract<keyof DB[T], `${string}_enc`>;

/** One encrypted column: where it is, how its rows are keyed, and its binding context. */
export type EncryptedColumnSpec = {
  [T in TableName]: {
    readonly table: T;
    readonly column: SealedColumnOf<T>;
    /** The primary-key column: identifies a row for re-encryption, and its value is sealed into the associated data. */
    readonly key: Extract<keyof DB[T], string>;
    /** Associated data of the AES-GCM seal, with the row's key: `table.field`. */
    readonly context: `${T}.${string}`;
  };
}[TableName];

/** Every encrypted column of the schema. Add a new one here in the migration's commit. */
export const ENCRYPTED_COLUMNS = [
  { table: 'cloud_providers', column: 'client_secret_enc', key: 'id', context: 'cloud_providers.client_secret' },
  { table: 'cloud_providers', column: 'client_key_enc', key: 'id', context: 'cloud_providers.client_key' },
  { table: 'oauth_states', column: 'pkce_verifier_enc', key: 'id', context: 'oauth_states.pkce_verifier' },
  { table: 'grants', column: 'refresh_token_enc', key: 'id', context: 'grants.refresh_token' },
  { table: 'grants', column: 'password_enc', key: 'id', context: 'grants.password' },
  { table: 'grant_access_tokens', column: 'access_token_enc', key: 'id', context: 'grant_access_tokens.access_token' },
  { table: 'email_accounts', column: 'password_enc', key: 'id', context: 'email_accounts.password' },
  { table: 'webhooks', column: 'secret_enc', key: 'id', context: 'webhooks.secret' },
] as const satisfies readonly EncryptedColumnSpec[];

/** An entry of the registry. */
export type EncryptedColumn = (typeof ENCRYPTED_COLUMNS)[number];

/** The context of the key check value kept in `meta` (its row is fixed: the meta key). */
export const KEY_CHECK_CONTEXT = 'meta.key_check';

/** Every context a SecretBox may seal under: a registered column, or the key check. */
export type SecretContext = EncryptedColumn['context'] | typeof KEY_CHECK_CONTEXT;

/**
 * What an INSERT writes in a NOT NULL sealed column before the database has given the row its id;
 * the same transaction then seals the value for that id. Not a sealed value: left behind by
 * mistake, it fails to open (SECRET_VALUE_CORRUPT) rather than passing for a secret.
 */
export const SEALED_LATER = '';
