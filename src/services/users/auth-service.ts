import { LIMITS } from '../../config/index.js';
import { PosternError } from '../../errors/index.js';
import {
  claimLoginAttempt,
  clearLoginFailures,
  createSession,
  deleteSession,
  findApiTokenById,
  findApiTokenByPlain,
  findSession,
  findUserById,
  findUserByUsername,
  hashToken,
  pruneLoginFailures,
  randomToken,
  recordUserLogin,
  touchApiToken,
  touchSession,
  type Database,
  type UserRecord,
  type UserRole,
} from '../../store/index.js';
import { decoyHash, verifyPassword } from './passwords.js';

/** The caller of a request, resolved from an API token or a session cookie. */
export interface Principal {
  readonly userId: number;
  readonly username: string;
  readonly displayName: string;
  readonly role: UserRole;
  readonly via: 'session' | 'token';
  /** The plain session id (from the cookie), for sign-out. */
  readonly sessionId?: string;
  readonly csrfToken?: string;
  readonly tokenId?: number;
}

export interface SignedIn {
  readonly sessionId: string;
  readonly csrfToken: string;
  readonly user: UserRecord;
}

/** Sign-in, sessions and API token resolution. */
export class AuthService {
  constructor(private readonly db: Database) {}

  /**
   * Checks a username and password and opens a session. The same error, after the same work,
   * for an unknown user, a wrong password and a disabled account: nothing tells them apart.
   *
   * A username that failed too often is refused before its password is checked, for a delay
   * that doubles with each further failure (LIMITS.loginFreeFailures and after), known or not;
   * the count is in the database, so every node refuses it, and a success clears it.
   *
   * @throws PosternError AUTH_RATE_LIMITED with `details.retryAfterSeconds`; AUTH_INVALID_CREDENTIALS
   */
  async signIn(
    username: string,
    password: string,
    meta: { ip: string | null; userAgent: string | null },
  ): Promise<SignedIn> {
    const usernameKey = username.trim().toLowerCase();
    const claim = await claimLoginAttempt(this.db, usernameKey, loginBackoffPolicy(this.db.now()));
    if (!claim.allowed) throw usernameLocked(claim.retryAt, this.db.now());
    const user = await findUserByUsername(this.db, username);
    const valid = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
    if (user === undefined || !valid || user.disabled) throw new PosternError('AUTH_INVALID_CREDENTIALS');
    const sessionId = randomToken(32);
    const csrfToken = randomToken(24);
    const now = this.db.now().getTime();
    await this.db.transaction(async (tx) => {
      await createSession(tx, {
        idHash: hashToken(sessionId),
        userId: user.id,
        csrfToken,
        expiresAt: new Date(now + LIMITS.sessionIdleMs),
        ip: meta.ip,
        userAgent: meta.userAgent?.slice(0, 300) ?? null,
      });
      await recordUserLogin(tx, user.id);
      await clearLoginFailures(tx, usernameKey);
    });
    // Rows of usernames quiet for a day count for nothing any more (see loginBackoffPolicy).
    await pruneLoginFailures(this.db, new Date(now - LIMITS.loginFailureMemoryMs));
    return { sessionId, csrfToken, user };
  }

  async signOut(sessionId: string): Promise<void> {
    await deleteSession(this.db, hashToken(sessionId));
  }

  /** The session's user, sliding the idle expiry up to the absolute lifetime; null when expired. */
  async fromSession(sessionId: string): Promise<Principal | null> {
    const idHash = hashToken(sessionId);
    const session = await findSession(this.db, idHash);
    if (session === undefined) return null;
    const user = await findUserById(this.db, session.userId);
    if (user === undefined || user.disabled) return null;
    const now = this.db.now().getTime();
    const hardLimit = Date.parse(session.createdAt) + LIMITS.sessionMaxMs;
    if (now >= hardLimit) {
      await deleteSession(this.db, idHash);
      return null;
    }
    await this.bestEffort(() =>
      touchSession(this.db, idHash, new Date(Math.min(now + LIMITS.sessionIdleMs, hardLimit))),
    );
    return { ...principalOf(user, 'session'), sessionId, csrfToken: session.csrfToken };
  }

  /**
   * Runs a bookkeeping write of a request (a session's idle expiry, a token's last use) that must
   * not turn away a reader when the store cannot write (a full disk, a read-only file system): the
   * API keeps answering reads, and the failure goes to the store's health.
   */
  private async bestEffort(write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (this.db.health.failed(error, 'requests') === undefined) throw error;
      return;
    }
    this.db.health.succeeded('requests');
  }

  /**
   * Whether a principal found earlier still holds — its session not ended or expired, its token
   * not revoked or expired, its user enabled and of the same role — without sliding the session's
   * idle expiry (a long-lived stream asks this now and then; it is not a person's activity).
   */
  async stillValid(principal: Principal): Promise<boolean> {
    const user = await findUserById(this.db, principal.userId);
    if (user === undefined || user.disabled || user.role !== principal.role) return false;
    if (principal.via === 'session') {
      if (principal.sessionId === undefined) return false;
      const session = await findSession(this.db, hashToken(principal.sessionId));
      return (
        session !== undefined &&
        session.userId === user.id &&
        this.db.now().getTime() < Date.parse(session.createdAt) + LIMITS.sessionMaxMs
      );
    }
    if (principal.tokenId === undefined) return false;
    const token = await findApiTokenById(this.db, principal.tokenId);
    if (token === undefined || token.revokedAt !== null || token.userId !== user.id) return false;
    return token.expiresAt === null || Date.parse(token.expiresAt) > this.db.now().getTime();
  }

  async fromApiToken(token: string): Promise<Principal | null> {
    const record = await findApiTokenByPlain(this.db, token);
    if (record === undefined) return null;
    const user = await findUserById(this.db, record.userId);
    if (user === undefined || user.disabled) return null;
    await this.bestEffort(() => touchApiToken(this.db, record.id));
    return { ...principalOf(user, 'token'), tokenId: record.id };
  }
}

/** The backoff of LIMITS: free failures, then a lock doubling from the base to the maximum. */
function loginBackoffPolicy(now: Date): { forgetBefore: Date; lockUntil: (failures: number) => Date | null } {
  return {
    forgetBefore: new Date(now.getTime() - LIMITS.loginFailureMemoryMs),
    lockUntil: (failures) => {
      if (failures < LIMITS.loginFreeFailures) return null;
      const exponent = Math.min(failures - LIMITS.loginFreeFailures, 30);
      return new Date(now.getTime() + Math.min(LIMITS.loginBackoffBaseMs * 2 ** exponent, LIMITS.loginBackoffMaxMs));
    },
  };
}

function usernameLocked(retryAt: Date, now: Date): PosternError {
  const seconds = Math.max(1, Math.ceil((retryAt.getTime() - now.getTime()) / 1000));
  return new PosternError('AUTH_RATE_LIMITED', {
    message: `Too many failed sign-ins with this username: try again in ${seconds} seconds.`,
    details: { retryAfterSeconds: seconds },
  });
}

function principalOf(user: UserRecord, via: Principal['via']): Principal {
  return { userId: user.id, username: user.username, displayName: user.displayName, role: user.role, via };
}
