/**
 * Grants: one identity authenticated under a Cloud Provider (a user, or the app itself for client
 * credentials), with its sealed refresh token (or ROPC password) and access tokens cached per
 * resource. Exchange and Graph tokens are separate rows minted from the same refresh token.
 * Tokens and passwords go in and come out in plain text: this module seals and opens them.
 */
import { sql } from 'kysely';
import { z } from 'zod';
import { PosternError } from '../errors/index.js';
import type { Database } from './database.js';
import { fromJsonText, toJsonText } from './json-column.js';
import type { GrantState, Row, Sealed, Timestamp } from './schema.js';
import { SEALED_LATER } from './encrypted-columns.js';
import type { SecretBox } from './secret-box.js';
import { toDbTime } from './time.js';

export interface GrantError {
  readonly code: string;
  readonly message: string;
  readonly remedy: string | null;
  readonly aadsts: string | null;
  readonly at: Timestamp | null;
}

export interface GrantRecord {
  readonly id: number;
  readonly providerId: number;
  readonly upn: string | null;
  readonly email: string | null;
  readonly objectId: string | null;
  readonly tenantId: string | null;
  readonly displayName: string | null;
  readonly scopes: string[];
  /** Opaque; {@link openGrantCredentials} opens it. */
  readonly sealedRefreshToken: Sealed | null;
  /** Opaque; {@link openGrantCredentials} opens it. */
  readonly sealedPassword: Sealed | null;
  readonly state: GrantState;
  readonly lastInteractiveAt: Timestamp | null;
  readonly lastRefreshAt: Timestamp | null;
  readonly lastError: GrantError | null;
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
}

export interface GrantIdentity {
  readonly providerId: number;
  readonly upn: string | null;
  readonly email?: string | null;
  readonly objectId: string | null;
  readonly tenantId: string | null;
  readonly displayName: string | null;
  readonly scopes: readonly string[];
  readonly refreshToken: string | null;
  /** The ROPC password; left as it is when undefined. */
  readonly password?: string | null;
  /** True when a person just signed in (authorization code, device code). */
  readonly interactive: boolean;
}

/** A cached access token, opened. */
export interface CachedAccessToken {
  readonly token: string;
  readonly scopes: string[];
  readonly expiresAt: Date;
}

/** What a grant signs in with, opened. */
export interface GrantCredentials {
  readonly refreshToken: string | null;
  readonly password: string | null;
}

const scopesSchema = z.array(z.string());
const REFRESH_TOKEN = 'grants.refresh_token';
const PASSWORD = 'grants.password';
const ACCESS_TOKEN = 'grant_access_tokens.access_token';

/**
 * Stores a fresh sign-in: updates the grant of the same identity (object id, else UPN) under the
 * provider, or creates it. The grant becomes `active`, its error is cleared, and its cached
 * access tokens are dropped (they may carry the old scopes).
 */
export async function upsertGrant(db: Database, box: SecretBox, identity: GrantIdentity): Promise<GrantRecord> {
  return db.transaction(async (tx) => {
    const existing = await findGrantByIdentity(tx, identity.providerId, identity.objectId, identity.upn);
    const now = toDbTime(tx.now());
    const columns = {
      upn: identity.upn,
      email: identity.email ?? null,
      object_id: identity.objectId,
      tenant_id: identity.tenantId,
      display_name: identity.displayName,
      scopes_json: toJsonText(identity.scopes),
      state: 'active' as const,
      ...(identity.interactive ? { last_interactive_at: now } : {}),
      last_refresh_at: now,
      last_error_code: null,
      last_error_message: null,
      last_error_remedy: null,
      last_error_aadsts: null,
      last_error_at: null,
      updated_at: now,
    };
    // Secrets are sealed for the row's id: a new grant's, known once inserted, in the same transaction.
    const sealed = (id: number) => ({
      refresh_token_enc: box.sealOrNull(identity.refreshToken, REFRESH_TOKEN, id),
      ...(identity.password === undefined ? {} : { password_enc: box.sealOrNull(identity.password, PASSWORD, id) }),
    });
    if (existing !== undefined) {
      await tx.kysely
        .updateTable('grants')
        .set({ ...columns, ...sealed(existing.id) })
        .where('id', '=', existing.id)
        .execute();
      await tx.kysely.deleteFrom('grant_access_tokens').where('grant_id', '=', existing.id).execute();
      return requireGrant(tx, existing.id);
    }
    const { id } = await tx.kysely
      .insertInto('grants')
      .values({ ...columns, provider_id: identity.providerId, created_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    const row = await tx.kysely
      .updateTable('grants')
      .set(sealed(id))
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toGrantRecord(row);
  });
}

async function findGrantByIdentity(
  db: Database,
  providerId: number,
  objectId: string | null,
  upn: string | null,
): Promise<GrantRecord | undefined> {
  if (objectId !== null) {
    const byOid = await db.kysely
      .selectFrom('grants')
      .selectAll()
      .where('provider_id', '=', providerId)
      .where('object_id', '=', objectId)
      .executeTakeFirst();
    if (byOid !== undefined) return toGrantRecord(byOid);
  }
  return upn === null ? undefined : findGrantByUpn(db, providerId, upn);
}

/**
 * The grant of the user known as `address` under a provider: its UPN, else the email address its
 * ID token revealed, compared regardless of case.
 */
export async function findGrantByUpn(
  db: Database,
  providerId: number,
  address: string,
): Promise<GrantRecord | undefined> {
  const lower = address.toLowerCase();
  const byUpn = await db.kysely
    .selectFrom('grants')
    .selectAll()
    .where('provider_id', '=', providerId)
    .where((eb) => eb(eb.fn('lower', ['upn']), '=', lower))
    .executeTakeFirst();
  if (byUpn !== undefined) return toGrantRecord(byUpn);
  const byEmail = await db.kysely
    .selectFrom('grants')
    .selectAll()
    .where('provider_id', '=', providerId)
    .where((eb) => eb(eb.fn('lower', ['email']), '=', lower))
    .orderBy('id')
    .executeTakeFirst();
  return byEmail === undefined ? undefined : toGrantRecord(byEmail);
}

async function getGrant(db: Database, id: number): Promise<GrantRecord | undefined> {
  const row = await db.kysely.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toGrantRecord(row);
}

/** @throws PosternError RESOURCE_NOT_FOUND */
export async function requireGrant(db: Database, id: number): Promise<GrantRecord> {
  const grant = await getGrant(db, id);
  if (grant === undefined) throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no grant ${id}.` });
  return grant;
}

/**
 * Reads a grant and, on PostgreSQL, locks its row until the transaction ends: the cross-process
 * single flight of token refresh. On SQLite (one process) it is a plain read.
 */
export async function lockGrant(db: Database, id: number): Promise<GrantRecord> {
  if (db.engine !== 'postgres') return requireGrant(db, id);
  const row = await db.kysely.selectFrom('grants').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  if (row === undefined) throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no grant ${id}.` });
  return toGrantRecord(row);
}

/**
 * The token keeper's claim on a grant: like {@link lockGrant}, but on PostgreSQL a row another
 * transaction holds is skipped (`SKIP LOCKED`) and undefined returned at once — that node is
 * refreshing it. On SQLite (one process, whose single flight guards it) a plain read; undefined
 * when the grant is gone.
 */
export async function tryLockGrant(db: Database, id: number): Promise<GrantRecord | undefined> {
  if (db.engine !== 'postgres') return getGrant(db, id);
  const row = await db.kysely
    .selectFrom('grants')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
  return row === undefined ? undefined : toGrantRecord(row);
}

export async function listGrants(
  db: Database,
  filter: { providerId?: number; state?: GrantState } = {},
): Promise<GrantRecord[]> {
  let query = db.kysely.selectFrom('grants').selectAll().orderBy('id');
  if (filter.providerId !== undefined) query = query.where('provider_id', '=', filter.providerId);
  if (filter.state !== undefined) query = query.where('state', '=', filter.state);
  return (await query.execute()).map(toGrantRecord);
}

export async function deleteGrant(db: Database, id: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.kysely.deleteFrom('grant_access_tokens').where('grant_id', '=', id).execute();
    await tx.kysely.deleteFrom('grants').where('id', '=', id).execute();
  });
}

/** The refresh token and password of a grant, opened, for the token endpoint alone. */
export function openGrantCredentials(box: SecretBox, grant: GrantRecord): GrantCredentials {
  return {
    refreshToken: box.openOrNull(grant.sealedRefreshToken, REFRESH_TOKEN, grant.id),
    password: box.openOrNull(grant.sealedPassword, PASSWORD, grant.id),
  };
}

/**
 * The cached access token of a grant for a resource, opened, when it stays valid at least
 * `minValidityMs` longer; undefined when there is none or it expires sooner (it is then not opened).
 */
export async function findUsableAccessToken(
  db: Database,
  box: SecretBox,
  grantId: number,
  resource: string,
  minValidityMs: number,
): Promise<CachedAccessToken | undefined> {
  const row = await db.kysely
    .selectFrom('grant_access_tokens')
    .selectAll()
    .where('grant_id', '=', grantId)
    .where('resource', '=', resource)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const expiresAt = new Date(row.expires_at);
  if (expiresAt.getTime() - db.now().getTime() < minValidityMs) return undefined;
  return {
    token: box.open(row.access_token_enc, ACCESS_TOKEN, row.id),
    scopes: fromJsonText(row.scopes_json, scopesSchema, 'grant_access_tokens.scopes_json'),
    expiresAt,
  };
}

/**
 * Stores the outcome of a refresh in one transaction: the rotated refresh token (when Microsoft
 * returned one — it must be kept before the new access token is used), the access token for the
 * resource, and `active` with the error cleared.
 */
export async function storeRefreshedTokens(
  db: Database,
  box: SecretBox,
  grantId: number,
  tokens: {
    /** null: Microsoft did not rotate it, the stored one stays. */
    refreshToken: string | null;
    resource: string;
    accessToken: string;
    scopes: readonly string[];
    expiresAt: Date;
  },
): Promise<void> {
  await db.transaction(async (tx) => {
    const now = toDbTime(tx.now());
    await tx.kysely
      .updateTable('grants')
      .set({
        ...(tokens.refreshToken === null
          ? {}
          : { refresh_token_enc: box.seal(tokens.refreshToken, REFRESH_TOKEN, grantId) }),
        state: 'active',
        last_refresh_at: now,
        last_error_code: null,
        last_error_message: null,
        last_error_remedy: null,
        last_error_aadsts: null,
        last_error_at: null,
        updated_at: now,
      })
      .where('id', '=', grantId)
      .execute();
    const values = {
      scopes_json: toJsonText(tokens.scopes),
      expires_at: toDbTime(tokens.expiresAt),
      obtained_at: now,
    };
    // The access token is sealed for its row's id: the cached row's, or a new row's once inserted.
    const cached = await tx.kysely
      .selectFrom('grant_access_tokens')
      .select('id')
      .where('grant_id', '=', grantId)
      .where('resource', '=', tokens.resource)
      .executeTakeFirst();
    const id =
      cached?.id ??
      (
        await tx.kysely
          .insertInto('grant_access_tokens')
          .values({ ...values, access_token_enc: SEALED_LATER, grant_id: grantId, resource: tokens.resource })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    await tx.kysely
      .updateTable('grant_access_tokens')
      .set({ ...values, access_token_enc: box.seal(tokens.accessToken, ACCESS_TOKEN, id) })
      .where('id', '=', id)
      .execute();
  });
}

/**
 * Records a failure. A state other than `active` (re-authentication required) also drops the
 * cached access tokens: they must not outlive a revoked grant.
 */
export async function recordGrantError(
  db: Database,
  grantId: number,
  state: GrantState,
  error: { code: string; message: string; remedy: string | null; aadsts: string | null },
): Promise<void> {
  await db.transaction(async (tx) => {
    const now = toDbTime(tx.now());
    await tx.kysely
      .updateTable('grants')
      .set({
        state,
        last_error_code: error.code,
        last_error_message: error.message,
        last_error_remedy: error.remedy,
        last_error_aadsts: error.aadsts,
        last_error_at: now,
        updated_at: now,
      })
      .where('id', '=', grantId)
      .execute();
    if (state !== 'active') await tx.kysely.deleteFrom('grant_access_tokens').where('grant_id', '=', grantId).execute();
  });
}

/**
 * Active grants that may need a refresh: those with an access token expiring before
 * `expiringBefore` (worth renewing if the grant is in use), and those not refreshed since
 * `idleSince` (kept alive against the 90-day inactivity limit).
 */
export async function grantsDueForRefresh(
  db: Database,
  options: { expiringBefore: Date; idleSince: Date },
): Promise<{ expiring: Array<{ grantId: number; resource: string }>; idle: number[] }> {
  const expiring = await db.kysely
    .selectFrom('grant_access_tokens')
    .innerJoin('grants', 'grants.id', 'grant_access_tokens.grant_id')
    .select(['grants.id as grantId', 'grant_access_tokens.resource as resource'])
    .where('grants.state', '=', 'active')
    .where('grant_access_tokens.expires_at', '<', toDbTime(options.expiringBefore))
    .execute();
  const idle = await db.kysely
    .selectFrom('grants')
    .select('id')
    .where('state', '=', 'active')
    .where((eb) => eb.or([eb('last_refresh_at', 'is', null), eb('last_refresh_at', '<', toDbTime(options.idleSince))]))
    .execute();
  return { expiring, idle: idle.map((row) => row.id) };
}

/** Counts grants by state for a provider: what its status is computed from. */
export async function grantStatesOf(db: Database, providerId: number): Promise<Record<GrantState, number>> {
  const rows = await db.kysely
    .selectFrom('grants')
    .select(['state', sql<number>`count(*)`.as('n')])
    .where('provider_id', '=', providerId)
    .groupBy('state')
    .execute();
  const counts: Record<GrantState, number> = { active: 0, reauth_required: 0, revoked: 0 };
  for (const row of rows) counts[row.state] = Number(row.n);
  return counts;
}

function toGrantRecord(row: Row<'grants'>): GrantRecord {
  return {
    id: row.id,
    providerId: row.provider_id,
    upn: row.upn,
    email: row.email,
    objectId: row.object_id,
    tenantId: row.tenant_id,
    displayName: row.display_name,
    scopes: fromJsonText(row.scopes_json, scopesSchema, 'grants.scopes_json'),
    sealedRefreshToken: row.refresh_token_enc,
    sealedPassword: row.password_enc,
    state: row.state,
    lastInteractiveAt: row.last_interactive_at,
    lastRefreshAt: row.last_refresh_at,
    lastError:
      row.last_error_code === null
        ? null
        : {
            code: row.last_error_code,
            message: row.last_error_message ?? '',
            remedy: row.last_error_remedy,
            aadsts: row.last_error_aadsts,
            at: row.last_error_at,
          },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
