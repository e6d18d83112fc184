/**
 * API tokens for integrators. A token is `pst_<43 base64url characters>` (32 random bytes). It is
 * shown once, at creation; the table keeps its sha256 and a short display prefix.
 */
import type { Database } from './database.js';
import type { Row, Timestamp } from './schema.js';
import { hashToken, randomToken } from './token-hash.js';
import { toDbTime, toDbTimeOrNull } from './time.js';

/** The marker that starts every Postern API token (and lets secret scanners find leaked ones). */
const API_TOKEN_PREFIX = 'pst_';
const DISPLAY_PREFIX_LENGTH = API_TOKEN_PREFIX.length + 6;
/** Last-used times closer together than this are not written again (one write per minute). */
const TOUCH_GRANULARITY_MS = 60_000;

/** A token as stored: never the token itself. */
export interface ApiTokenRecord {
  readonly id: number;
  readonly name: string;
  readonly userId: number;
  /** The first characters of the token, e.g. `pst_3fQ9xA`, to recognise it in a list. */
  readonly prefix: string;
  readonly createdAt: Timestamp;
  readonly lastUsedAt: Timestamp | null;
  readonly expiresAt: Timestamp | null;
  readonly revokedAt: Timestamp | null;
}

/** A new token: the record, and the plain token to show once. */
export interface CreatedApiToken {
  readonly record: ApiTokenRecord;
  readonly plainToken: string;
}

/** Creates a token for a user; the plain token is returned here and never again. */
export async function createApiToken(
  db: Database,
  input: { name: string; userId: number; expiresAt?: Date | null },
): Promise<CreatedApiToken> {
  const plainToken = `${API_TOKEN_PREFIX}${randomToken(32)}`;
  const row = await db.kysely
    .insertInto('api_tokens')
    .values({
      name: input.name,
      user_id: input.userId,
      token_hash: hashToken(plainToken),
      prefix: plainToken.slice(0, DISPLAY_PREFIX_LENGTH),
      created_at: toDbTime(db.now()),
      expires_at: toDbTimeOrNull(input.expiresAt),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { record: toApiTokenRecord(row), plainToken };
}

/**
 * The usable token matching a plain token: not revoked, not expired. Undefined otherwise, and for
 * anything that does not even look like a Postern token.
 */
export async function findApiTokenByPlain(db: Database, plainToken: string): Promise<ApiTokenRecord | undefined> {
  if (!plainToken.startsWith(API_TOKEN_PREFIX)) return undefined;
  const now = toDbTime(db.now());
  const row = await db.kysely
    .selectFrom('api_tokens')
    .selectAll()
    .where('token_hash', '=', hashToken(plainToken))
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  return row === undefined ? undefined : toApiTokenRecord(row);
}

/** The token with this id, revoked or not. */
export async function findApiTokenById(db: Database, id: number): Promise<ApiTokenRecord | undefined> {
  const row = await db.kysely.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toApiTokenRecord(row);
}

/** Tokens, newest first; of one user when `userId` is given; revoked ones only when asked. */
export async function listApiTokens(
  db: Database,
  filter: { userId?: number; includeRevoked?: boolean } = {},
): Promise<ApiTokenRecord[]> {
  let query = db.kysely.selectFrom('api_tokens').selectAll().orderBy('id', 'desc');
  if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
  if (filter.includeRevoked !== true) query = query.where('revoked_at', 'is', null);
  return (await query.execute()).map(toApiTokenRecord);
}

/**
 * Revokes a token (idempotent: a revoked token keeps its first revocation time). Returns the
 * record, or undefined when there is no such token.
 */
export async function revokeApiToken(db: Database, id: number): Promise<ApiTokenRecord | undefined> {
  await db.kysely
    .updateTable('api_tokens')
    .set({ revoked_at: toDbTime(db.now()) })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
  return findApiTokenById(db, id);
}

/**
 * Records that a token was used now. Skips the write when the last recorded use is less than a
 * minute old, so that a busy integrator does not turn every request into a write.
 */
export async function touchApiToken(db: Database, id: number): Promise<void> {
  const now = db.now();
  const threshold = toDbTime(new Date(now.getTime() - TOUCH_GRANULARITY_MS));
  await db.kysely
    .updateTable('api_tokens')
    .set({ last_used_at: toDbTime(now) })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', threshold)]))
    .execute();
}

function toApiTokenRecord(row: Row<'api_tokens'>): ApiTokenRecord {
  return {
    id: row.id,
    name: row.name,
    userId: row.user_id,
    prefix: row.prefix,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}
