/**
 * The store half of issue 13's point 9, on each engine: an OAuth state is spent only when it is
 * unused, in time and presented by its session, and a sign-in ticket only when it is unused and in
 * time — each by one conditional update, so that of concurrent claims (several connections, as
 * several nodes on PostgreSQL) exactly one wins.
 */
import crypto from 'node:crypto';
import { expect, it } from 'vitest';
import {
  SecretBox,
  claimSignInTicket,
  consumeOAuthState,
  createOAuthState,
  createSignInTicket,
  createUser,
  deleteStaleOAuthStates,
  findSignInTicket,
  openDatabase,
  type Database,
} from '../../src/store/index.js';
import { insertProvider } from '../helpers/store-factories.js';
import { forEachEngine } from '../helpers/store.js';

const T0 = new Date('2026-03-01T12:00:00.000Z');
const MINUTE = 60_000;
const box = new SecretBox(crypto.randomBytes(32));

async function seed(db: Database): Promise<{ providerId: number; userId: number }> {
  const providerId = await insertProvider(db, box, { clientSecret: 'client-secret-value' });
  const user = await createUser(db, {
    username: `admin-${crypto.randomUUID().slice(0, 8)}`,
    displayName: 'Admin',
    role: 'admin',
    passwordHash: 'not-a-real-hash',
  });
  return { providerId, userId: user.id };
}

async function newState(db: Database, providerId: number, userId: number, sessionHash: string): Promise<string> {
  const state = crypto.randomBytes(16).toString('base64url');
  await createOAuthState(db, box, {
    state,
    providerId,
    codeVerifier: 'the-pkce-verifier-of-this-sign-in',
    nonce: 'nonce',
    userId,
    sessionHash,
    redirectTo: null,
    loginHint: null,
    expiresAt: new Date(db.now().getTime() + 10 * MINUTE),
  });
  return state;
}

forEachEngine((engine, openFresh) => {
  it('refuses a state from another session or none without spending it, then spends it once for its own', async () => {
    let now = T0;
    const db = await openFresh({ clock: () => now });
    const { providerId, userId } = await seed(db);
    const state = await newState(db, providerId, userId, 'session-a');

    expect((await consumeOAuthState(db, box, state, 'session-b')).outcome).toBe('other-session');
    expect((await consumeOAuthState(db, box, state, null)).outcome).toBe('other-session');
    expect((await consumeOAuthState(db, box, 'never-issued', 'session-a')).outcome).toBe('unknown');
    const mine = await consumeOAuthState(db, box, state, 'session-a');
    expect(mine.outcome).toBe('ok');
    if (mine.outcome === 'ok') expect(mine.codeVerifier).toBe('the-pkce-verifier-of-this-sign-in');
    expect((await consumeOAuthState(db, box, state, 'session-a')).outcome).toBe('used');

    const late = await newState(db, providerId, userId, 'session-a');
    now = new Date(T0.getTime() + 10 * MINUTE);
    expect((await consumeOAuthState(db, box, late, 'session-a')).outcome).toBe('expired');
  });

  it('spends a state for exactly one of twenty concurrent callbacks', async () => {
    const db = await openFresh({ clock: () => T0 });
    const second: Database = engine === 'postgres' ? await openDatabase(db.url, { clock: () => T0 }) : db;
    try {
      const { providerId, userId } = await seed(db);
      const state = await newState(db, providerId, userId, 'session-a');
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) => consumeOAuthState(i % 2 === 0 ? db : second, box, state, 'session-a')),
      );
      expect(outcomes.filter((o) => o.outcome === 'ok')).toHaveLength(1);
      expect(outcomes.filter((o) => o.outcome === 'used')).toHaveLength(19);
    } finally {
      if (second !== db) await second.close();
    }
  });

  it('keeps a ticket as its sha256, claims it once among concurrent claims, never after its expiry', async () => {
    let now = T0;
    const db = await openFresh({ clock: () => now });
    const second: Database = engine === 'postgres' ? await openDatabase(db.url, { clock: () => now }) : db;
    try {
      const { providerId, userId } = await seed(db);
      const ticket = 'psi_the-plain-ticket-value-0123456789';
      await createSignInTicket(db, {
        ticket,
        providerId,
        userId,
        loginHint: 'andrea@contoso.com',
        expiresAt: new Date(T0.getTime() + 10 * MINUTE),
      });
      const stored = await db.kysely.selectFrom('sign_in_tickets').selectAll().executeTakeFirstOrThrow();
      expect(stored.ticket_hash).toBe(crypto.createHash('sha256').update(ticket).digest('hex'));
      expect(JSON.stringify(stored)).not.toContain(ticket);

      const found = await findSignInTicket(db, ticket);
      expect(found).toMatchObject({ providerId, userId, loginHint: 'andrea@contoso.com', usedAt: null });
      expect(await findSignInTicket(db, 'psi_unknown')).toBeUndefined();
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, i) => claimSignInTicket(i % 2 === 0 ? db : second, found?.id ?? 0)),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect((await findSignInTicket(db, ticket))?.usedAt).not.toBeNull();

      const late = 'psi_another-plain-ticket-value-0123';
      await createSignInTicket(db, {
        ticket: late,
        providerId,
        userId,
        loginHint: null,
        expiresAt: new Date(T0.getTime() + 10 * MINUTE),
      });
      now = new Date(T0.getTime() + 10 * MINUTE);
      expect(await claimSignInTicket(db, (await findSignInTicket(db, late))?.id ?? 0)).toBe(false);

      // Swept with the stale states a day after expiry.
      now = new Date(T0.getTime() + 10 * MINUTE + 86_400_000 + 1000);
      await deleteStaleOAuthStates(db);
      expect(await db.kysely.selectFrom('sign_in_tickets').select('id').execute()).toEqual([]);
    } finally {
      if (second !== db) await second.close();
    }
  });
});
