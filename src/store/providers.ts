/**
 * Cloud Providers: one Azure app registration each. The client secret is sealed in
 * `client_secret_enc` here, on the way in, and opened by {@link openProviderSecret} for the
 * identity adapter alone; the record carries a hint (its last three characters) and the expiry
 * date the administrator gave. A certificate credential replaces the secret: its private key is
 * sealed in `client_key_enc` (opened by {@link openProviderCertificate}), its certificate is public.
 * A provider holds one credential at a time: setting one clears the other.
 */
import { z } from 'zod';
import { PosternError } from '../errors/index.js';
import type { Database } from './database.js';
import { fromJsonText, toJsonText } from './json-column.js';
import type { ProviderCloud, ProviderGrantType, Row, Sealed, Timestamp } from './schema.js';
import type { SecretBox } from './secret-box.js';
import { readConstraintViolation } from './sql-errors.js';
import { toDbTime, toDbTimeOrNull } from './time.js';

export interface ProviderRecord {
  readonly id: number;
  readonly name: string;
  readonly service: string;
  readonly type: string;
  readonly applicationId: string;
  readonly tenantId: string;
  readonly clientSecretHint: string | null;
  readonly clientSecretExpiresAt: Timestamp | null;
  /** The sealed secret, opaque (open it with {@link openProviderSecret}); never presented. */
  readonly sealedSecret: Sealed | null;
  /** The sealed private key of the certificate credential, opaque; never presented. */
  readonly sealedClientKey: Sealed | null;
  /** The certificate credential's certificate (PEM, public). */
  readonly clientCertificatePem: string | null;
  readonly clientCertificateExpiresAt: Timestamp | null;
  readonly redirectUri: string | null;
  readonly cloud: ProviderCloud;
  readonly authorityUrl: string | null;
  readonly caFile: string | null;
  readonly grantType: ProviderGrantType;
  readonly scopes: string[];
  /** Provider-level condition: `ok`, or `error` with the last error below. */
  readonly status: string;
  readonly lastError: { code: string; message: string; remedy: string | null } | null;
  readonly statusChangedAt: Timestamp | null;
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
}

export interface ProviderFields {
  readonly name: string;
  readonly service: string;
  readonly type: string;
  readonly applicationId: string;
  readonly tenantId: string;
  readonly redirectUri: string | null;
  readonly cloud: ProviderCloud;
  readonly authorityUrl: string | null;
  readonly caFile: string | null;
  readonly grantType: ProviderGrantType;
  readonly scopes: readonly string[];
}

/** A client secret in plain text, sealed by the store, and the expiry the administrator gave. */
export interface ClientSecretInput {
  readonly secret: string | null;
  readonly expiresAt: Date | null;
}

/** A certificate credential in plain text, sealed by the store, with the certificate's notAfter. */
export interface ClientCertificateInput {
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  readonly expiresAt: Date;
}

/** A provider's credential: a client secret (possibly none, for public clients) or a certificate. */
export type ProviderCredentialInput =
  ({ readonly kind: 'secret' } & ClientSecretInput) | ({ readonly kind: 'certificate' } & ClientCertificateInput);

const CLIENT_SECRET = 'cloud_providers.client_secret';
const CLIENT_KEY = 'cloud_providers.client_key';

const scopesSchema = z.array(z.string());

export async function createProvider(
  db: Database,
  box: SecretBox,
  fields: ProviderFields,
  credential: ProviderCredentialInput,
): Promise<ProviderRecord> {
  const now = toDbTime(db.now());
  try {
    // The secret is sealed for the row's id, known once inserted: same transaction.
    return await db.transaction(async (tx) => {
      const { id } = await tx.kysely
        .insertInto('cloud_providers')
        .values({
          name: fields.name,
          service: fields.service,
          type: fields.type,
          application_id: fields.applicationId,
          tenant_id: fields.tenantId,
          redirect_uri: fields.redirectUri,
          cloud: fields.cloud,
          authority_url: fields.authorityUrl,
          ca_file: fields.caFile,
          grant_type: fields.grantType,
          scopes_json: toJsonText(fields.scopes),
          client_secret_enc: null,
          status: 'ok',
          created_at: now,
          updated_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const row = await tx.kysely
        .updateTable('cloud_providers')
        .set(credentialColumns(box, id, credential))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toProviderRecord(row);
    });
  } catch (error) {
    throw translateNameConflict(error, fields.name);
  }
}

export async function updateProvider(
  db: Database,
  id: number,
  fields: Partial<ProviderFields>,
): Promise<ProviderRecord> {
  const columns = toColumns(fields);
  try {
    await db.kysely
      .updateTable('cloud_providers')
      .set({ ...columns, updated_at: toDbTime(db.now()) })
      .where('id', '=', id)
      .execute();
  } catch (error) {
    throw translateNameConflict(error, fields.name ?? '');
  }
  return requireProvider(db, id);
}

/**
 * Replaces the client secret, its hint and expiry (Update Client Secret), and clears the
 * provider's error: a new secret is the remedy of a secret error.
 */
export async function setProviderSecret(
  db: Database,
  box: SecretBox,
  id: number,
  secret: ClientSecretInput,
): Promise<ProviderRecord> {
  await db.kysely
    .updateTable('cloud_providers')
    .set({
      ...credentialColumns(box, id, { kind: 'secret', ...secret }),
      status: 'ok',
      last_error_code: null,
      last_error_message: null,
      last_error_remedy: null,
      updated_at: toDbTime(db.now()),
    })
    .where('id', '=', id)
    .execute();
  return requireProvider(db, id);
}

/**
 * Replaces the provider's credential by a certificate (the client secret is removed), and clears
 * the provider's error, as a new secret does.
 */
export async function setProviderCertificate(
  db: Database,
  box: SecretBox,
  id: number,
  certificate: ClientCertificateInput,
): Promise<ProviderRecord> {
  await db.kysely
    .updateTable('cloud_providers')
    .set({
      ...credentialColumns(box, id, { kind: 'certificate', ...certificate }),
      status: 'ok',
      last_error_code: null,
      last_error_message: null,
      last_error_remedy: null,
      updated_at: toDbTime(db.now()),
    })
    .where('id', '=', id)
    .execute();
  return requireProvider(db, id);
}

/** The provider's client secret in plain text, for the identity adapter; null when it has none. */
export function openProviderSecret(box: SecretBox, provider: ProviderRecord): string | null {
  return box.openOrNull(provider.sealedSecret, CLIENT_SECRET, provider.id);
}

/** The provider's certificate credential with its private key in plain text; null when it has none. */
export function openProviderCertificate(
  box: SecretBox,
  provider: ProviderRecord,
): { privateKeyPem: string; certificatePem: string } | null {
  if (provider.sealedClientKey === null || provider.clientCertificatePem === null) return null;
  return {
    privateKeyPem: box.open(provider.sealedClientKey, CLIENT_KEY, provider.id),
    certificatePem: provider.clientCertificatePem,
  };
}

/** One credential's columns, the other's cleared. */
function credentialColumns(box: SecretBox, id: number, credential: ProviderCredentialInput) {
  if (credential.kind === 'certificate') {
    return {
      client_secret_enc: null,
      client_secret_hint: null,
      client_secret_expires_at: null,
      client_key_enc: box.seal(credential.privateKeyPem, CLIENT_KEY, id),
      client_certificate_pem: credential.certificatePem,
      client_certificate_expires_at: toDbTime(credential.expiresAt),
    };
  }
  return {
    client_secret_enc: box.sealOrNull(credential.secret, CLIENT_SECRET, id),
    client_secret_hint: credential.secret === null ? null : credential.secret.slice(-3),
    client_secret_expires_at: toDbTimeOrNull(credential.expiresAt),
    client_key_enc: null,
    client_certificate_pem: null,
    client_certificate_expires_at: null,
  };
}

/** Records the provider-level condition: `ok` clears the last error. */
export async function setProviderStatus(
  db: Database,
  id: number,
  status: 'ok' | 'error',
  error?: { code: string; message: string; remedy: string | null },
): Promise<void> {
  await db.kysely
    .updateTable('cloud_providers')
    .set({
      status,
      last_error_code: error?.code ?? null,
      last_error_message: error?.message ?? null,
      last_error_remedy: error?.remedy ?? null,
      status_changed_at: toDbTime(db.now()),
    })
    .where('id', '=', id)
    .execute();
}

async function getProvider(db: Database, id: number): Promise<ProviderRecord | undefined> {
  const row = await db.kysely.selectFrom('cloud_providers').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toProviderRecord(row);
}

/** @throws PosternError RESOURCE_NOT_FOUND */
export async function requireProvider(db: Database, id: number): Promise<ProviderRecord> {
  const provider = await getProvider(db, id);
  if (provider === undefined)
    throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no Cloud Provider ${id}.` });
  return provider;
}

export async function listProviders(db: Database): Promise<ProviderRecord[]> {
  const rows = await db.kysely.selectFrom('cloud_providers').selectAll().orderBy('name').execute();
  return rows.map(toProviderRecord);
}

/** Names of the email accounts that use a provider. */
export async function accountsUsingProvider(db: Database, id: number): Promise<string[]> {
  const rows = await db.kysely
    .selectFrom('email_accounts')
    .select(['name', 'key'])
    .where('provider_id', '=', id)
    .orderBy('name')
    .execute();
  return rows.map((row) => `${row.name} (${row.key})`);
}

/** Deletes a provider, its grants and pending sign-ins. The caller checks that no account uses it. */
export async function deleteProvider(db: Database, id: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.kysely.deleteFrom('oauth_states').where('provider_id', '=', id).execute();
    const grants = tx.kysely.selectFrom('grants').select('id').where('provider_id', '=', id);
    await tx.kysely.deleteFrom('grant_access_tokens').where('grant_id', 'in', grants).execute();
    await tx.kysely.deleteFrom('grants').where('provider_id', '=', id).execute();
    const result = await tx.kysely.deleteFrom('cloud_providers').where('id', '=', id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0)
      throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no Cloud Provider ${id}.` });
  });
}

function toColumns(fields: Partial<ProviderFields>) {
  return {
    ...(fields.name === undefined ? {} : { name: fields.name }),
    ...(fields.service === undefined ? {} : { service: fields.service }),
    ...(fields.type === undefined ? {} : { type: fields.type }),
    ...(fields.applicationId === undefined ? {} : { application_id: fields.applicationId }),
    ...(fields.tenantId === undefined ? {} : { tenant_id: fields.tenantId }),
    ...(fields.redirectUri === undefined ? {} : { redirect_uri: fields.redirectUri }),
    ...(fields.cloud === undefined ? {} : { cloud: fields.cloud }),
    ...(fields.authorityUrl === undefined ? {} : { authority_url: fields.authorityUrl }),
    ...(fields.caFile === undefined ? {} : { ca_file: fields.caFile }),
    ...(fields.grantType === undefined ? {} : { grant_type: fields.grantType }),
    ...(fields.scopes === undefined ? {} : { scopes_json: toJsonText(fields.scopes) }),
  } as const;
}

function toProviderRecord(row: Row<'cloud_providers'>): ProviderRecord {
  return {
    id: row.id,
    name: row.name,
    service: row.service,
    type: row.type,
    applicationId: row.application_id,
    tenantId: row.tenant_id,
    clientSecretHint: row.client_secret_hint,
    clientSecretExpiresAt: row.client_secret_expires_at,
    sealedSecret: row.client_secret_enc,
    sealedClientKey: row.client_key_enc,
    clientCertificatePem: row.client_certificate_pem,
    clientCertificateExpiresAt: row.client_certificate_expires_at,
    redirectUri: row.redirect_uri,
    cloud: row.cloud,
    authorityUrl: row.authority_url,
    caFile: row.ca_file,
    grantType: row.grant_type,
    scopes: fromJsonText(row.scopes_json, scopesSchema, 'cloud_providers.scopes_json'),
    status: row.status,
    lastError:
      row.last_error_code === null
        ? null
        : { code: row.last_error_code, message: row.last_error_message ?? '', remedy: row.last_error_remedy },
    statusChangedAt: row.status_changed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function translateNameConflict(error: unknown, name: string): unknown {
  if (readConstraintViolation(error)?.kind !== 'unique') return error;
  return new PosternError('RESOURCE_CONFLICT', {
    message: `A Cloud Provider named "${name}" already exists.`,
    remedy: 'Choose another name.',
    details: { field: 'name' },
    cause: error,
  });
}
