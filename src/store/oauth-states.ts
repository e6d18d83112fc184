/**
 * Pending sign-ins: the `state` of an authorization request (stored as its sha256), its PKCE
 * verifier (sealed here, opened only for a state consumed in time), nonce, the session that
 * started it and a 10-minute life. `consumeOAuthState` checks all of that first and only then
 * marks the state used, with a conditional update, so a replayed callback finds nothing and a
 * callback from the wrong browser spends nothing.
 */
import type { Database } from './database.js';
import type { Row, Timestamp } from './schema.js';
import type { SecretBox } from './secret-box.js';
import { SEALED_LATER } from './encrypted-columns.js';
import { hashToken } from './token-hash.js';
import { toDbTime } from './time.js';

export interface OAuthStateRecord {
  readonly id: number;
  readonly providerId: number;
  readonly nonce: string | null;
  readonly userId: number | null;
  readonly sessionHash: string | null;
  readonly redirectTo: string | null;
  readonly loginHint: string | null;
  readonly createdAt: Timestamp;
  readonly expiresAt: Timestamp;
}

const PKCE_VERIFIER = 'oauth_states.pkce_verifier';

export async function createOAuthState(
  db: Database,
  box: SecretBox,
  input: {
    state: string;
    providerId: number;
    codeVerifier: string;
    nonce: string;
    userId: number | null;
    /** sha256 of the browser session that started the sign-in: only that session may finish it. */
    sessionHash: string;
    redirectTo: string | null;
    loginHint: string | null;
    expiresAt: Date;
  },
): Promise<void> {
  // The verifier is sealed for the row's id, known once inserted. No transaction is needed: nobody
  // holds the state before this returns, and a row left with SEALED_LATER never opens.
  const { id } = await db.kysely
    .insertInto('oauth_states')
    .values({
      state_hash: hashToken(input.state),
      provider_id: input.providerId,
      pkce_verifier_enc: SEALED_LATER,
      nonce: input.nonce,
      user_id: input.userId,
      session_hash: input.sessionHash,
      redirect_to: input.redirectTo,
      login_hint: input.loginHint,
      created_at: toDbTime(db.now()),
      expires_at: toDbTime(input.expiresAt),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.kysely
    .updateTable('oauth_states')
    .set({ pkce_verifier_enc: box.seal(input.codeVerifier, PKCE_VERIFIER, id) })
    .where('id', '=', id)
    .execute();
}

export type ConsumedState =
  | { outcome: 'ok'; state: OAuthStateRecord; codeVerifier: string }
  | { outcome: 'unknown' }
  | { outcome: 'used' | 'expired' | 'other-session'; state: OAuthStateRecord };

/**
 * Finds a state by its plain value and, only when it is unused, in time and bound to the
 * presenting session, marks it used — once: the conditional update lets one of two concurrent
 * callbacks win. A state refused here (another browser, no session, expired) stays as it was, so
 * a stranger presenting it cannot spend it for the browser that started the sign-in. A state with
 * no session binding matches no one.
 */
export async function consumeOAuthState(
  db: Database,
  box: SecretBox,
  state: string,
  sessionHash: string | null,
): Promise<ConsumedState> {
  const row = await db.kysely
    .selectFrom('oauth_states')
    .selectAll()
    .where('state_hash', '=', hashToken(state))
    .executeTakeFirst();
  if (row === undefined) return { outcome: 'unknown' };
  const record = toRecord(row);
  if (row.used_at !== null) return { outcome: 'used', state: record };
  const now = toDbTime(db.now());
  if (row.expires_at <= now) return { outcome: 'expired', state: record };
  if (row.session_hash === null || sessionHash === null || row.session_hash !== sessionHash)
    return { outcome: 'other-session', state: record };
  const claimed = await db.kysely
    .updateTable('oauth_states')
    .set({ used_at: now })
    .where('id', '=', row.id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) === 0) return { outcome: 'used', state: record };
  // Opened after the claim: a state that cannot be opened is used up all the same.
  return { outcome: 'ok', state: record, codeVerifier: box.open(row.pkce_verifier_enc, PKCE_VERIFIER, row.id) };
}

/** What an admin-consent request remembers: its provider and who asked for it. */
export interface AdminConsentStateRecord {
  readonly id: number;
  readonly providerId: number;
  readonly userId: number | null;
  readonly expiresAt: Timestamp;
}

/**
 * Stores the `state` of an admin-consent request (purpose `admin_consent`, migration 0014) by its
 * sha256. It is bound to no browser session: the link is often handed to a tenant administrator
 * who never signs in to Postern, and its return only records an outcome. The PKCE column, which
 * admin consent does not use, holds a sealed random value so that rotation treats it as any other.
 */
export async function createAdminConsentState(
  db: Database,
  box: SecretBox,
  input: { state: string; providerId: number; userId: number | null; expiresAt: Date; filler: string },
): Promise<void> {
  const { id } = await db.kysely
    .insertInto('oauth_states')
    .values({
      state_hash: hashToken(input.state),
      provider_id: input.providerId,
      pkce_verifier_enc: SEALED_LATER,
      nonce: null,
      user_id: input.userId,
      session_hash: null,
      redirect_to: null,
      login_hint: null,
      created_at: toDbTime(db.now()),
      expires_at: toDbTime(input.expiresAt),
      purpose: 'admin_consent',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.kysely
    .updateTable('oauth_states')
    .set({ pkce_verifier_enc: box.seal(input.filler, PKCE_VERIFIER, id) })
    .where('id', '=', id)
    .execute();
}

/**
 * An admin-consent state by its plain value, used once: `ok` marks it used (a conditional update,
 * so a replay finds `used`); `unknown` when no admin-consent state has this value.
 */
export async function consumeAdminConsentState(
  db: Database,
  state: string,
): Promise<{ outcome: 'ok' | 'used' | 'expired'; state: AdminConsentStateRecord } | { outcome: 'unknown' }> {
  const row = await db.kysely
    .selectFrom('oauth_states')
    .selectAll()
    .where('state_hash', '=', hashToken(state))
    .where('purpose', '=', 'admin_consent')
    .executeTakeFirst();
  if (row === undefined) return { outcome: 'unknown' };
  const record = { id: row.id, providerId: row.provider_id, userId: row.user_id, expiresAt: row.expires_at };
  if (row.used_at !== null) return { outcome: 'used', state: record };
  const now = toDbTime(db.now());
  if (row.expires_at <= now) return { outcome: 'expired', state: record };
  const claimed = await db.kysely
    .updateTable('oauth_states')
    .set({ used_at: now })
    .where('id', '=', row.id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return { outcome: Number(claimed.numUpdatedRows) === 0 ? 'used' : 'ok', state: record };
}

/** A one-time console link to a sign-in started without a browser (see migration 0012). */
export interface SignInTicketRecord {
  readonly id: number;
  readonly providerId: number;
  readonly userId: number;
  readonly loginHint: string | null;
  readonly expiresAt: Timestamp;
  readonly usedAt: Timestamp | null;
}

/** Stores a ticket by its sha256, for one user and provider. */
export async function createSignInTicket(
  db: Database,
  input: { ticket: string; providerId: number; userId: number; loginHint: string | null; expiresAt: Date },
): Promise<void> {
  await db.kysely
    .insertInto('sign_in_tickets')
    .values({
      ticket_hash: hashToken(input.ticket),
      provider_id: input.providerId,
      user_id: input.userId,
      login_hint: input.loginHint,
      created_at: toDbTime(db.now()),
      expires_at: toDbTime(input.expiresAt),
    })
    .execute();
}

/** A ticket by its plain value, used or not, in time or not; undefined when unknown. */
export async function findSignInTicket(db: Database, ticket: string): Promise<SignInTicketRecord | undefined> {
  const row = await db.kysely
    .selectFrom('sign_in_tickets')
    .selectAll()
    .where('ticket_hash', '=', hashToken(ticket))
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    id: row.id,
    providerId: row.provider_id,
    userId: row.user_id,
    loginHint: row.login_hint,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
  };
}

/**
 * Marks a ticket used if it still is unused and in time, in one conditional update: of two
 * concurrent openings, one wins. False when it was not (any more) claimable.
 */
export async function claimSignInTicket(db: Database, id: number): Promise<boolean> {
  const now = toDbTime(db.now());
  const claimed = await db.kysely
    .updateTable('sign_in_tickets')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(claimed.numUpdatedRows) === 1;
}

/**
 * Removes states and sign-in tickets that expired more than a day ago (used ones are kept that long
 * to recognise replays).
 */
export async function deleteStaleOAuthStates(db: Database): Promise<number> {
  const cutoff = toDbTime(new Date(db.now().getTime() - 86_400_000));
  const result = await db.kysely.deleteFrom('oauth_states').where('expires_at', '<', cutoff).executeTakeFirst();
  const tickets = await db.kysely.deleteFrom('sign_in_tickets').where('expires_at', '<', cutoff).executeTakeFirst();
  return Number(result.numDeletedRows) + Number(tickets.numDeletedRows);
}

function toRecord(row: Row<'oauth_states'>): OAuthStateRecord {
  return {
    id: row.id,
    providerId: row.provider_id,
    nonce: row.nonce,
    userId: row.user_id,
    sessionHash: row.session_hash,
    redirectTo: row.redirect_to,
    loginHint: row.login_hint,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}
