import { beforeAll, expect, it } from 'vitest';
import { isPosternError } from '../../src/errors/index.js';
import {
  createApiToken,
  findApiTokenById,
  findApiTokenByPlain,
  listApiTokens,
  revokeApiToken,
  touchApiToken,
} from '../../src/store/api-tokens.js';
import type { Database } from '../../src/store/database.js';
import {
  createSession,
  deleteExpiredSessions,
  deleteSession,
  deleteUserSessions,
  findSession,
  touchSession,
} from '../../src/store/sessions.js';
import { hashToken } from '../../src/store/token-hash.js';
import {
  createUser,
  findUserById,
  findUserByUsername,
  listUsers,
  recordUserLogin,
  setUserDisabled,
  setUserPassword,
  updateUser,
  type NewUser,
} from '../../src/store/users.js';
import { forEachEngine } from '../helpers/store.js';

/** A user factory: unique names unless told otherwise. */
let serial = 0;
function buildUser(overrides: Partial<NewUser> = {}): NewUser {
  serial += 1;
  return {
    username: `agent${serial}`,
    displayName: `Agent ${serial}`,
    role: 'agent',
    passwordHash: `scrypt$${serial}`,
    ...overrides,
  };
}

forEachEngine((_engine, openFresh) => {
  let db: Database;
  let now = new Date('2026-05-01T08:00:00.000Z');
  const advance = (ms: number): void => {
    now = new Date(now.getTime() + ms);
  };
  beforeAll(async () => {
    db = await openFresh({ clock: () => now });
  });

  it('creates a user and finds it by id and by username in any case', async () => {
    const user = await createUser(db, buildUser({ username: 'Alice.Admin', role: 'admin' }));
    expect(user).toMatchObject({ username: 'Alice.Admin', role: 'admin', disabled: false, lastLoginAt: null });
    expect(user.createdAt).toBe(now.toISOString());
    expect((await findUserById(db, user.id))?.username).toBe('Alice.Admin');
    expect((await findUserByUsername(db, 'alice.admin'))?.id).toBe(user.id);
    expect((await findUserByUsername(db, 'ALICE.ADMIN'))?.id).toBe(user.id);
    expect(await findUserByUsername(db, 'alice')).toBeUndefined();
  });

  it('refuses a username that differs only in case with RESOURCE_CONFLICT', async () => {
    await createUser(db, buildUser({ username: 'bob' }));
    const error = await createUser(db, buildUser({ username: 'BOB' })).catch((e: unknown) => e);
    expect(isPosternError(error, 'RESOURCE_CONFLICT')).toBe(true);
    expect(isPosternError(error) && error.message).toContain('BOB');
  });

  it('changes password hash, disabled flag, display name, role and last login', async () => {
    const user = await createUser(db, buildUser());
    advance(1000);
    expect((await setUserPassword(db, user.id, 'scrypt$new')).passwordHash).toBe('scrypt$new');
    expect((await setUserDisabled(db, user.id, true)).disabled).toBe(true);
    expect((await setUserDisabled(db, user.id, false)).disabled).toBe(false);
    const updated = await updateUser(db, user.id, { displayName: 'Renamed', role: 'admin' });
    expect(updated).toMatchObject({ displayName: 'Renamed', role: 'admin', updatedAt: now.toISOString() });
    expect((await recordUserLogin(db, user.id)).lastLoginAt).toBe(now.toISOString());
  });

  it('says RESOURCE_NOT_FOUND when changing a user that does not exist', async () => {
    const error = await setUserDisabled(db, 987_654, true).catch((e: unknown) => e);
    expect(isPosternError(error, 'RESOURCE_NOT_FOUND')).toBe(true);
  });

  it('lists users by username regardless of case, optionally by role', async () => {
    await createUser(db, buildUser({ username: 'zed' }));
    await createUser(db, buildUser({ username: 'Yves' }));
    const all = (await listUsers(db)).map((u) => u.username);
    expect(all.indexOf('Yves')).toBe(all.indexOf('zed') - 1);
    expect(all).toEqual([...all].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)));
    const admins = await listUsers(db, { role: 'admin' });
    expect(admins.length).toBeGreaterThan(0);
    expect(admins.every((u) => u.role === 'admin')).toBe(true);
  });

  it('creates, finds, touches and deletes sessions by id hash', async () => {
    const user = await createUser(db, buildUser());
    const idHash = hashToken('session-id-1');
    const session = await createSession(db, {
      idHash,
      userId: user.id,
      csrfToken: 'csrf-1',
      expiresAt: new Date(now.getTime() + 3_600_000),
      userAgent: 'vitest',
      ip: '127.0.0.1',
    });
    expect(session).toMatchObject({ userId: user.id, csrfToken: 'csrf-1', lastSeenAt: now.toISOString() });
    advance(60_000);
    expect(await touchSession(db, idHash, new Date(now.getTime() + 7_200_000))).toBe(true);
    const touched = await findSession(db, idHash);
    expect(touched?.lastSeenAt).toBe(now.toISOString());
    expect(touched?.expiresAt).toBe(new Date(now.getTime() + 7_200_000).toISOString());
    expect(await deleteSession(db, idHash)).toBe(true);
    expect(await findSession(db, idHash)).toBeUndefined();
    expect(await touchSession(db, idHash)).toBe(false);
  });

  it('hides expired sessions unless asked, and deletes them', async () => {
    const user = await createUser(db, buildUser());
    const idHash = hashToken('session-id-expiring');
    await createSession(db, { idHash, userId: user.id, csrfToken: 'c', expiresAt: new Date(now.getTime() + 1000) });
    advance(1000);
    expect(await findSession(db, idHash)).toBeUndefined();
    expect(await findSession(db, idHash, { includeExpired: true })).toBeDefined();
    expect(await deleteExpiredSessions(db)).toBeGreaterThanOrEqual(1);
    expect(await findSession(db, idHash, { includeExpired: true })).toBeUndefined();
  });

  it("ends all of a user's sessions, and cascades them with the user's deletion", async () => {
    const user = await createUser(db, buildUser());
    for (const id of ['a', 'b']) {
      await createSession(db, {
        idHash: hashToken(`u-${id}`),
        userId: user.id,
        csrfToken: id,
        expiresAt: new Date(now.getTime() + 60_000),
      });
    }
    expect(await deleteUserSessions(db, user.id)).toBe(2);
  });

  it('creates an API token shown once, stored only as its sha256', async () => {
    const user = await createUser(db, buildUser());
    const { record, plainToken } = await createApiToken(db, { name: 'CRM', userId: user.id });
    expect(plainToken).toMatch(/^pst_[A-Za-z0-9_-]{43}$/);
    expect(record.prefix).toBe(plainToken.slice(0, 10));
    const stored = await db.kysely
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', record.id)
      .executeTakeFirstOrThrow();
    expect(stored.token_hash).toBe(hashToken(plainToken));
    expect(Object.values(stored)).not.toContain(plainToken);
    expect((await findApiTokenByPlain(db, plainToken))?.id).toBe(record.id);
    expect(await findApiTokenByPlain(db, `${plainToken}x`)).toBeUndefined();
    expect(await findApiTokenByPlain(db, 'not-a-token')).toBeUndefined();
  });

  it('stops finding a revoked or expired token; revoking twice keeps the first time', async () => {
    const user = await createUser(db, buildUser());
    const revoked = await createApiToken(db, { name: 'old', userId: user.id });
    const revokedAt = now.toISOString();
    expect((await revokeApiToken(db, revoked.record.id))?.revokedAt).toBe(revokedAt);
    advance(5000);
    expect((await revokeApiToken(db, revoked.record.id))?.revokedAt).toBe(revokedAt);
    expect(await findApiTokenByPlain(db, revoked.plainToken)).toBeUndefined();
    expect(await revokeApiToken(db, 999_999)).toBeUndefined();

    const expiring = await createApiToken(db, {
      name: 'short',
      userId: user.id,
      expiresAt: new Date(now.getTime() + 1000),
    });
    expect(await findApiTokenByPlain(db, expiring.plainToken)).toBeDefined();
    advance(1000);
    expect(await findApiTokenByPlain(db, expiring.plainToken)).toBeUndefined();

    const listed = await listApiTokens(db, { userId: user.id });
    expect(listed.map((t) => t.name)).toEqual(['short']);
    const everything = await listApiTokens(db, { userId: user.id, includeRevoked: true });
    expect(everything.map((t) => t.name)).toEqual(['short', 'old']);
  });

  it('records last use at most once a minute', async () => {
    const user = await createUser(db, buildUser());
    const { record } = await createApiToken(db, { name: 'busy', userId: user.id });
    await touchApiToken(db, record.id);
    const first = now.toISOString();
    expect((await findApiTokenById(db, record.id))?.lastUsedAt).toBe(first);
    advance(30_000);
    await touchApiToken(db, record.id);
    expect((await findApiTokenById(db, record.id))?.lastUsedAt).toBe(first);
    advance(30_000);
    await touchApiToken(db, record.id);
    expect((await findApiTokenById(db, record.id))?.lastUsedAt).toBe(now.toISOString());
  });
});
