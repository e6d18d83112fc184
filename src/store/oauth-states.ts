/**
 * Pending sign-ins: the `state` of an authorization request (stored as its sha256), its PKCE
 * verifier (sealed here, opened only for a state consumed in time), nonce, the session that started it and a 10-minute life. `consumeOAuthState`
 * marks it used in the same statement that finds it, so a replayed callback finds nothing.
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
    sessionHash: string | null;
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
  | { outcome: 'unknown' | 'used' | 'expired'; state?: OAuthStateRecord };

/** Finds a state by its plain value and marks it used, once; a state in time comes with its PKCE verifier. */
export async function consumeOAuthState(db: Database, box: SecretBox, state: string): Promise<ConsumedState> {
  const consumed = await db.transaction(async (tx) => {
    const row = await tx.kysely
      .selectFrom('oauth_states')
      .selectAll()
      .where('state_hash', '=', hashToken(state))
      .executeTakeFirst();
    if (row === undefined) return { outcome: 'unknown' } as const;
    const record = toRecord(row);
    if (row.used_at !== null) return { outcome: 'used', state: record } as const;
    const now = toDbTime(tx.now());
    const claimed = await tx.kysely
      .updateTable('oauth_states')
      .set({ used_at: now })
      .where('id', '=', row.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) return { outcome: 'used', state: record } as const;
    if (row.expires_at <= now) return { outcome: 'expired', state: record } as const;
    return { outcome: 'ok', state: record, sealedVerifier: row.pkce_verifier_enc } as const;
  });
  // Opened after the commit: a state that cannot be opened is used up all the same.
  if (consumed.outcome !== 'ok') return consumed;
  return {
    outcome: 'ok',
    state: consumed.state,
    codeVerifier: box.open(consumed.sealedVerifier, PKCE_VERIFIER, consumed.state.id),
  };
}

/** Removes states that expired more than a day ago (used ones are kept that long to recognise replays). */
export async function deleteStaleOAuthStates(db: Database): Promise<number> {
  const cutoff = toDbTime(new Date(db.now().getTime() - 86_400_000));
  const result = await db.kysely.deleteFrom('oauth_states').where('expires_at', '<', cutoff).executeTakeFirst();
  return Number(result.numDeletedRows);
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
