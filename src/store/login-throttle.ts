/**
 * Failed sign-ins per username, in the database so that every node sharing it refuses the same
 * username (the per-address limit lives in each process's memory). The policy — how many
 * failures are free and how long each later one locks — is the caller's; this module counts
 * atomically: an attempt is counted before its password is checked, and the count and the lock
 * it brings are written in one transaction, so that concurrent attempts on several nodes cannot
 * all slip through before the first failure is recorded.
 */
import type { Database } from './database.js';
import { fromDbTime, toDbTime } from './time.js';

/** What counting an attempt decided. */
export type LoginAttemptClaim =
  { readonly allowed: true; readonly failures: number } | { readonly allowed: false; readonly retryAt: Date };

/** Options of {@link claimLoginAttempt}. */
export interface LoginAttemptPolicy {
  /** Counted failures older than this are forgotten: the next attempt counts as the first. */
  readonly forgetBefore: Date;
  /** When the username must next be refused until, given the count including this attempt; null: not refused. */
  readonly lockUntil: (failures: number) => Date | null;
}

/**
 * Counts a sign-in attempt for `usernameKey` (trimmed, lower-cased) as a failure, unless the
 * username is locked, in which case the attempt is refused and not counted. A successful sign-in
 * then calls {@link clearLoginFailures}.
 */
export async function claimLoginAttempt(
  db: Database,
  usernameKey: string,
  policy: LoginAttemptPolicy,
): Promise<LoginAttemptClaim> {
  return db.transaction(async (tx) => {
    const now = toDbTime(tx.now());
    const forget = toDbTime(policy.forgetBefore);
    const counted = await tx.kysely
      .insertInto('login_throttle')
      .values({ username_key: usernameKey, failures: 1, locked_until: null, updated_at: now })
      .onConflict((conflict) =>
        conflict
          .column('username_key')
          .doUpdateSet((eb) => ({
            failures: eb
              .case()
              .when('login_throttle.updated_at', '<', forget)
              .then(1)
              .else(eb('login_throttle.failures', '+', 1))
              .end(),
            updated_at: now,
          }))
          .where((eb) =>
            eb.or([eb('login_throttle.locked_until', 'is', null), eb('login_throttle.locked_until', '<=', now)]),
          ),
      )
      .returning('failures')
      .executeTakeFirst();
    if (counted === undefined) {
      const row = await tx.kysely
        .selectFrom('login_throttle')
        .select('locked_until')
        .where('username_key', '=', usernameKey)
        .executeTakeFirstOrThrow();
      return { allowed: false, retryAt: fromDbTime(row.locked_until ?? now) };
    }
    const lockUntil = policy.lockUntil(counted.failures);
    if (lockUntil !== null) {
      await tx.kysely
        .updateTable('login_throttle')
        .set({ locked_until: toDbTime(lockUntil) })
        .where('username_key', '=', usernameKey)
        .execute();
    }
    return { allowed: true, failures: counted.failures };
  });
}

/** Forgets the failures of a username (after a successful sign-in). */
export async function clearLoginFailures(db: Database, usernameKey: string): Promise<void> {
  await db.kysely.deleteFrom('login_throttle').where('username_key', '=', usernameKey).execute();
}

/** Deletes the rows of usernames neither locked nor failing since `before`. Returns how many. */
export async function pruneLoginFailures(db: Database, before: Date): Promise<number> {
  const cutoff = toDbTime(before);
  const now = toDbTime(db.now());
  const result = await db.kysely
    .deleteFrom('login_throttle')
    .where('updated_at', '<', cutoff)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
