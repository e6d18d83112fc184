/**
 * Users: administrators and agents. Usernames are unique regardless of case. The password hash
 * is produced elsewhere (services/passwords); this module only stores the string.
 */
import { PosternError } from '../errors/index.js';
import type { Database } from './database.js';
import type { Row, Timestamp, UserRole } from './schema.js';
import { readConstraintViolation } from './sql-errors.js';
import { toDbTime } from './time.js';

/** A user as the rest of Postern sees it. */
export interface UserRecord {
  readonly id: number;
  readonly username: string;
  readonly displayName: string;
  readonly role: UserRole;
  readonly passwordHash: string;
  readonly disabled: boolean;
  readonly lastLoginAt: Timestamp | null;
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
}

/** What creating a user needs. */
export interface NewUser {
  readonly username: string;
  readonly displayName: string;
  readonly role: UserRole;
  readonly passwordHash: string;
  readonly disabled?: boolean;
}

/** Fields of a user that can change (the password has its own function). */
export interface UserChanges {
  readonly displayName?: string;
  readonly role?: UserRole;
}

/**
 * Creates a user.
 *
 * @throws PosternError RESOURCE_CONFLICT when the username exists in any case.
 */
export async function createUser(db: Database, user: NewUser): Promise<UserRecord> {
  const now = toDbTime(db.now());
  try {
    const row = await db.kysely
      .insertInto('users')
      .values({
        username: user.username,
        display_name: user.displayName,
        role: user.role,
        password_hash: user.passwordHash,
        disabled: user.disabled === true ? 1 : 0,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toUserRecord(row);
  } catch (error) {
    if (readConstraintViolation(error)?.kind === 'unique') {
      throw new PosternError('RESOURCE_CONFLICT', {
        message: `A user named "${user.username}" already exists.`,
        remedy: 'Choose another username; usernames are compared regardless of case.',
        details: { field: 'username', username: user.username },
        cause: error,
      });
    }
    throw error;
  }
}

/** The user with this username, compared regardless of case. */
export async function findUserByUsername(db: Database, username: string): Promise<UserRecord | undefined> {
  const row = await db.kysely
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb(eb.fn('lower', ['username']), '=', eb.fn('lower', [eb.val(username)])))
    .executeTakeFirst();
  return row === undefined ? undefined : toUserRecord(row);
}

/** The user with this id. */
export async function findUserById(db: Database, id: number): Promise<UserRecord | undefined> {
  const row = await db.kysely.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toUserRecord(row);
}

/** The display names of these users, by id; a deleted user is left out. */
export async function userNames(db: Database, ids: readonly number[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await db.kysely.selectFrom('users').select(['id', 'display_name']).where('id', 'in', unique).execute();
  return new Map(rows.map((row) => [row.id, row.display_name]));
}

/** Every user, by username regardless of case. There are few: no paging. */
export async function listUsers(db: Database, filter: { role?: UserRole } = {}): Promise<UserRecord[]> {
  let query = db.kysely
    .selectFrom('users')
    .selectAll()
    .orderBy((eb) => eb.fn('lower', ['username']))
    .orderBy('id');
  if (filter.role !== undefined) query = query.where('role', '=', filter.role);
  return (await query.execute()).map(toUserRecord);
}

/**
 * Changes display name and/or role.
 *
 * @throws PosternError RESOURCE_NOT_FOUND when there is no such user.
 */
export async function updateUser(db: Database, id: number, changes: UserChanges): Promise<UserRecord> {
  return updateUserRow(db, id, {
    ...(changes.displayName === undefined ? {} : { display_name: changes.displayName }),
    ...(changes.role === undefined ? {} : { role: changes.role }),
  });
}

/** Stores a new password hash. @throws PosternError RESOURCE_NOT_FOUND */
export async function setUserPassword(db: Database, id: number, passwordHash: string): Promise<UserRecord> {
  return updateUserRow(db, id, { password_hash: passwordHash });
}

/** Disables or enables a user. @throws PosternError RESOURCE_NOT_FOUND */
export async function setUserDisabled(db: Database, id: number, disabled: boolean): Promise<UserRecord> {
  return updateUserRow(db, id, { disabled: disabled ? 1 : 0 });
}

/** Records a successful sign-in. @throws PosternError RESOURCE_NOT_FOUND */
export async function recordUserLogin(db: Database, id: number): Promise<UserRecord> {
  return updateUserRow(db, id, { last_login_at: toDbTime(db.now()) });
}

type UserColumns = Partial<
  Pick<Row<'users'>, 'display_name' | 'role' | 'password_hash' | 'disabled' | 'last_login_at'>
>;

async function updateUserRow(db: Database, id: number, columns: UserColumns): Promise<UserRecord> {
  const row = await db.kysely
    .updateTable('users')
    .set({ ...columns, updated_at: toDbTime(db.now()) })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) throw userNotFound(id);
  return toUserRecord(row);
}

function userNotFound(id: number): PosternError {
  return new PosternError('RESOURCE_NOT_FOUND', {
    message: `There is no user ${id}.`,
    details: { resource: 'user', id },
  });
}

function toUserRecord(row: Row<'users'>): UserRecord {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    role: row.role,
    passwordHash: row.password_hash,
    disabled: row.disabled === 1,
    lastLoginAt: row.last_login_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
