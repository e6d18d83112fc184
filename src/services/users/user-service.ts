import { randomBytes } from 'node:crypto';
import { LIMITS } from '../../config/index.js';
import { isPosternError, PosternError } from '../../errors/index.js';
import {
  createUser,
  deleteUserSessions,
  findUserById,
  findUserByUsername,
  hashToken,
  listUsers,
  setUserDisabled,
  setUserPassword,
  updateUser,
  type Database,
  type UserRecord,
  type UserRole,
} from '../../store/index.js';
import { hashPassword, verifyPassword } from './passwords.js';

export interface NewUserInput {
  username: string;
  displayName?: string | undefined;
  role: UserRole;
  password: string;
}

export interface UserUpdate {
  displayName?: string | undefined;
  role?: UserRole | undefined;
  disabled?: boolean | undefined;
  password?: string | undefined;
}

/** Administrators and agents. */
export class UserService {
  constructor(private readonly db: Database) {}

  async get(id: number): Promise<UserRecord> {
    const user = await findUserById(this.db, id);
    if (user === undefined) throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no user ${id}.` });
    return user;
  }

  async getByUsername(username: string): Promise<UserRecord> {
    const user = await findUserByUsername(this.db, username);
    if (user === undefined) {
      throw new PosternError('RESOURCE_NOT_FOUND', {
        message: `There is no user "${username}".`,
        remedy: 'List users with "postern users list".',
      });
    }
    return user;
  }

  list(): Promise<UserRecord[]> {
    return listUsers(this.db);
  }

  async create(input: NewUserInput): Promise<UserRecord> {
    checkPassword(input.password);
    return createUser(this.db, {
      username: input.username.trim(),
      displayName: input.displayName?.trim() || input.username.trim(),
      role: input.role,
      passwordHash: await hashPassword(input.password),
    });
  }

  /**
   * Changes a user. A new password or disabling ends the user's sessions. The last active
   * administrator can be neither demoted nor disabled.
   */
  async update(id: number, changes: UserUpdate): Promise<UserRecord> {
    if (changes.password !== undefined) checkPassword(changes.password);
    const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);
    return this.db.transaction(async (tx) => {
      const user = await findUserById(tx, id);
      if (user === undefined) throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no user ${id}.` });
      const losesAdmin =
        user.role === 'admin' && !user.disabled && (changes.role === 'agent' || changes.disabled === true);
      if (losesAdmin && (await countActiveAdmins(tx)) <= 1) {
        throw new PosternError('RESOURCE_CONFLICT', {
          message: `"${user.username}" is the last active administrator and must stay one.`,
          remedy: 'Make another user an administrator first.',
        });
      }
      let updated = user;
      if (changes.displayName !== undefined || changes.role !== undefined) {
        updated = await updateUser(tx, id, { displayName: changes.displayName, role: changes.role });
      }
      if (changes.disabled !== undefined) updated = await setUserDisabled(tx, id, changes.disabled);
      if (passwordHash !== undefined) updated = await setUserPassword(tx, id, passwordHash);
      if (passwordHash !== undefined || changes.disabled === true) await deleteUserSessions(tx, id);
      return updated;
    });
  }

  /**
   * Changes one's own password, given the current one, and ends the user's other sessions (as an
   * administrator's change ends them all): whoever holds a stolen session loses it. The session
   * that made the change, when it was made with one, stays signed in.
   */
  async changeOwnPassword(
    id: number,
    currentPassword: string,
    newPassword: string,
    keepSessionId?: string,
  ): Promise<void> {
    const user = await this.get(id);
    if (!(await verifyPassword(currentPassword, user.passwordHash))) {
      throw new PosternError('AUTH_INVALID_CREDENTIALS', { message: 'The current password is wrong.' });
    }
    checkPassword(newPassword);
    const passwordHash = await hashPassword(newPassword);
    await this.db.transaction(async (tx) => {
      await setUserPassword(tx, id, passwordHash);
      await deleteUserSessions(tx, id, keepSessionId === undefined ? undefined : hashToken(keepSessionId));
    });
  }

  /**
   * When the database has no administrator (the first start), creates the administrator `admin`
   * with a random password and returns it (to be shown once); otherwise returns null. Agents added
   * with "postern users add" before or during the first start do not count. Two processes starting
   * together both find none: the unique username lets one create it, and the other returns null.
   */
  async ensureFirstAdmin(): Promise<{ username: string; password: string } | null> {
    if ((await listUsers(this.db, { role: 'admin' })).length > 0) return null;
    const password = this.generatePassword();
    try {
      await this.create({ username: 'admin', displayName: 'Administrator', role: 'admin', password });
    } catch (error) {
      if (isPosternError(error, 'RESOURCE_CONFLICT')) return null;
      throw error;
    }
    return { username: 'admin', password };
  }

  /** A random password of 20 characters from an unambiguous alphabet. */
  generatePassword(): string {
    const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
    return Array.from(randomBytes(20), (byte) => alphabet[byte % alphabet.length]).join('');
  }
}

function checkPassword(password: string): void {
  if (password.length < LIMITS.passwordMinLength) {
    throw new PosternError('VALIDATION_FAILED', {
      message: `The password must be at least ${LIMITS.passwordMinLength} characters.`,
      details: { fields: [{ field: 'password', problem: `must be at least ${LIMITS.passwordMinLength} characters` }] },
    });
  }
}

async function countActiveAdmins(db: Database): Promise<number> {
  return (await listUsers(db, { role: 'admin' })).filter((u) => !u.disabled).length;
}
