/**
 * Row factories for store tests: each inserts one row with sensible defaults, sealing secrets
 * with the given SecretBox under their registered context for the new row's id (so after the
 * insert, as the store does), and returns its id. They write through
 * kysely directly until the aggregates' repositories (providers, grants, accounts, webhooks) exist.
 */
import { ingestMessage, type IngestAccount, type StoredResult } from '../../src/services/inbound/ingest-message.js';
import type { Database } from '../../src/store/database.js';
import type { SecretBox } from '../../src/store/secret-box.js';
import { hashToken } from '../../src/store/token-hash.js';

let serial = 0;
function next(): number {
  serial += 1;
  return serial;
}

function stamp(db: Database): { created_at: string; updated_at: string } {
  const now = db.now().toISOString();
  return { created_at: now, updated_at: now };
}

/** A cloud provider with a client secret. */
export async function insertProvider(
  db: Database,
  box: SecretBox,
  secret: { clientSecret?: string; clientKey?: string } = {},
): Promise<number> {
  const n = next();
  const row = await db.kysely
    .insertInto('cloud_providers')
    .values({
      name: `Contoso ${n}`,
      service: 'microsoft-azure',
      type: 'outlook365',
      application_id: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`,
      tenant_id: 'contoso.onmicrosoft.com',
      client_secret_enc: null,
      client_secret_hint: secret.clientSecret?.slice(0, 3) ?? null,
      cloud: 'global',
      grant_type: 'authorization_code',
      scopes_json: JSON.stringify(['offline_access']),
      status: 'authenticated',
      ...stamp(db),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.kysely
    .updateTable('cloud_providers')
    .set({
      client_secret_enc: box.sealOrNull(secret.clientSecret, 'cloud_providers.client_secret', row.id),
      client_key_enc: box.sealOrNull(secret.clientKey, 'cloud_providers.client_key', row.id),
    })
    .where('id', '=', row.id)
    .execute();
  return row.id;
}

/** A grant under a provider, with an optional refresh token and ROPC password. */
export async function insertGrant(
  db: Database,
  box: SecretBox,
  input: { providerId: number; refreshToken?: string; password?: string },
): Promise<number> {
  const n = next();
  const row = await db.kysely
    .insertInto('grants')
    .values({
      provider_id: input.providerId,
      upn: `user${n}@contoso.example`,
      object_id: `oid-${n}`,
      scopes_json: '[]',
      state: 'active',
      ...stamp(db),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.kysely
    .updateTable('grants')
    .set({
      refresh_token_enc: box.sealOrNull(input.refreshToken, 'grants.refresh_token', row.id),
      password_enc: box.sealOrNull(input.password, 'grants.password', row.id),
    })
    .where('id', '=', row.id)
    .execute();
  return row.id;
}

/** A cached access token of a grant for a resource. */
export async function insertAccessToken(
  db: Database,
  box: SecretBox,
  input: { grantId: number; accessToken: string; resource?: string },
): Promise<number> {
  const now = db.now();
  const row = await db.kysely
    .insertInto('grant_access_tokens')
    .values({
      grant_id: input.grantId,
      resource: input.resource ?? 'https://outlook.office365.com',
      access_token_enc: '',
      scopes_json: '[]',
      expires_at: new Date(now.getTime() + 3_600_000).toISOString(),
      obtained_at: now.toISOString(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.kysely
    .updateTable('grant_access_tokens')
    .set({ access_token_enc: box.seal(input.accessToken, 'grant_access_tokens.access_token', row.id) })
    .where('id', '=', row.id)
    .execute();
  return row.id;
}

/** An email account, with an optional IMAP password. */
export async function insertAccount(
  db: Database,
  box: SecretBox,
  input: { providerId?: number | null; password?: string } = {},
): Promise<number> {
  const n = next();
  const row = await db.kysely
    .insertInto('email_accounts')
    .values({
      name: `Support ${n}`,
      key: `S${n}`.slice(0, 5),
      email_address: `support${n}@contoso.example`,
      service: input.password === undefined ? 'outlook365' : 'imap',
      modern_auth: input.password === undefined ? 1 : 0,
      username: `support${n}@contoso.example`,
      provider_id: input.providerId ?? null,
      transport: 'imap_smtp',
      ...stamp(db),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.kysely
    .updateTable('email_accounts')
    .set({ password_enc: box.sealOrNull(input.password, 'email_accounts.password', row.id) })
    .where('id', '=', row.id)
    .execute();
  return row.id;
}

/** A webhook with its signing secret. */
export async function insertWebhook(db: Database, box: SecretBox, input: { secret: string }): Promise<number> {
  const row = await db.kysely
    .insertInto('webhooks')
    .values({
      url: `https://127.0.0.1:9/hook/${next()}`,
      events_json: JSON.stringify(['message.received']),
      secret_enc: '',
      ...stamp(db),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.kysely
    .updateTable('webhooks')
    .set({ secret_enc: box.seal(input.secret, 'webhooks.secret', row.id) })
    .where('id', '=', row.id)
    .execute();
  return row.id;
}

/** An OAuth state in progress, with its PKCE verifier. */
export async function insertOauthState(
  db: Database,
  box: SecretBox,
  input: { providerId: number; pkceVerifier: string },
): Promise<number> {
  const now = db.now();
  const row = await db.kysely
    .insertInto('oauth_states')
    .values({
      state_hash: hashToken(`state-${next()}`),
      provider_id: input.providerId,
      pkce_verifier_enc: '',
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + 600_000).toISOString(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.kysely
    .updateTable('oauth_states')
    .set({ pkce_verifier_enc: box.seal(input.pkceVerifier, 'oauth_states.pkce_verifier', row.id) })
    .where('id', '=', row.id)
    .execute();
  return row.id;
}

/** Ingests `raw` into `account`'s INBOX (UIDVALIDITY 1) at `uid`; throws unless it was stored as new. */
export async function ingestNew(db: Database, account: IngestAccount, raw: Buffer, uid: number): Promise<StoredResult> {
  const result = await ingestMessage(db, account, { folder: 'INBOX', uidvalidity: 1, uid, raw, isJunk: false });
  if (result.outcome !== 'stored') throw new Error(`message ${uid} was not stored as new`);
  return result;
}
