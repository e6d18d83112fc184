/**
 * Browser sessions. The cookie carries a random id; the table keeps only its sha256 (`idHash`,
 * see `hashToken`), the CSRF token bound to the session, and its expiry.
 */
import type { Database } from './database.js';
import type { Row, Timestamp } from './schema.js';
import { toDbTime } from './time.js';

/** A session as stored. */
export interface SessionRecord {
  readonly idHash: string;
  readonly userId: number;
  readonly csrfToken: string;
  readonly userAgent: string | null;
  readonly ip: string | null;
  readonly createdAt: Timestamp;
  readonly lastSeenAt: Timestamp;
  readonly expiresAt: Timestamp;
}

/** What creating a session needs. */
export interface NewSession {
  readonly idHash: string;
  readonly userId: number;
  readonly csrfToken: string;
  readonly expiresAt: Date;
  readonly userAgent?: string | null;
  readonly ip?: string | null;
}

/** Stores a new session. */
export async function createSession(db: Database, session: NewSession): Promise<SessionRecord> {
  const now = toDbTime(db.now());
  const row = await db.kysely
    .insertInto('sessions')
    .values({
      id_hash: session.idHash,
      user_id: session.userId,
      csrf_token: session.csrfToken,
      user_agent: session.userAgent ?? null,
      ip: session.ip ?? null,
      created_at: now,
      last_seen_at: now,
      expires_at: toDbTime(session.expiresAt),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSessionRecord(row);
}

/**
 * The session with this id hash, if it exists and has not expired (by the injected clock).
 * `includeExpired` also returns an expired one, so that the caller can say "session expired"
 * rather than "sign in".
 */
export async function findSession(
  db: Database,
  idHash: string,
  options: { includeExpired?: boolean } = {},
): Promise<SessionRecord | undefined> {
  let query = db.kysely.selectFrom('sessions').selectAll().where('id_hash', '=', idHash);
  if (options.includeExpired !== true) query = query.where('expires_at', '>', toDbTime(db.now()));
  const row = await query.executeTakeFirst();
  return row === undefined ? undefined : toSessionRecord(row);
}

/**
 * Marks the session as seen now and, when given, slides its expiry. Returns false when the
 * session no longer exists.
 */
export async function touchSession(db: Database, idHash: string, expiresAt?: Date): Promise<boolean> {
  const result = await db.kysely
    .updateTable('sessions')
    .set({
      last_seen_at: toDbTime(db.now()),
      ...(expiresAt === undefined ? {} : { expires_at: toDbTime(expiresAt) }),
    })
    .where('id_hash', '=', idHash)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Ends one session (sign out). Returns false when it did not exist. */
export async function deleteSession(db: Database, idHash: string): Promise<boolean> {
  const result = await db.kysely.deleteFrom('sessions').where('id_hash', '=', idHash).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * Ends every session of a user (password changed, user disabled) but the one whose id hash is
 * `exceptIdHash`, when given (the session that changed its own password). Returns how many.
 */
export async function deleteUserSessions(db: Database, userId: number, exceptIdHash?: string): Promise<number> {
  let query = db.kysely.deleteFrom('sessions').where('user_id', '=', userId);
  if (exceptIdHash !== undefined) query = query.where('id_hash', '!=', exceptIdHash);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Removes sessions whose expiry has passed. Returns how many. */
export async function deleteExpiredSessions(db: Database): Promise<number> {
  const result = await db.kysely
    .deleteFrom('sessions')
    .where('expires_at', '<=', toDbTime(db.now()))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function toSessionRecord(row: Row<'sessions'>): SessionRecord {
  return {
    idHash: row.id_hash,
    userId: row.user_id,
    csrfToken: row.csrf_token,
    userAgent: row.user_agent,
    ip: row.ip,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
  };
}
