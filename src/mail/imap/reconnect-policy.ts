/**
 * When to connect again: exponential backoff with jitter after failures, the server's own
 * back-off when it throttles, and a renewal of the session before its access token expires
 * (Exchange ends a session whose token expired with `* BYE Session invalidated -
 * AccessTokenExpired`).
 *
 * @see ../../../../shared/reference/microsoft-protocols.md §4 ("IMAP session dies with the token")
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/ (equal jitter)
 */

/** Backoff bounds. */
export interface BackoffPolicy {
  /** First delay. */
  readonly baseMs: number;
  /** Largest delay. */
  readonly maxMs: number;
  /** Smallest delay after an error a person must fix (nothing changes by itself sooner). */
  readonly needsAdminMinMs: number;
}

/** Defaults: 1 s, doubling to 5 minutes; at least 1 minute when an administrator must act. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 5 * 60_000, needsAdminMinMs: 60_000 };

/**
 * The delay before attempt `attempt` (0 for the first retry): half of the exponential step fixed,
 * half random, so that many mailboxes failing together do not reconnect together.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number, needsAdmin = false): number {
  const exponent = Math.min(Math.max(Math.trunc(attempt), 0), 30);
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const jittered = Math.round(step / 2 + random() * (step / 2));
  return needsAdmin ? Math.max(jittered, Math.min(policy.needsAdminMinMs, policy.maxMs)) : jittered;
}

/**
 * The expiry written in a JWT access token (`exp`), or undefined for an opaque token. The token
 * is only decoded, never trusted: it decides when to reconnect, nothing else.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4
 */
export function jwtExpiry(token: string): Date | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof claims !== 'object' || claims === null || !('exp' in claims) || typeof claims.exp !== 'number')
      return undefined;
    return new Date(claims.exp * 1000);
  } catch {
    return undefined;
  }
}

/**
 * When to renew a session: `renewBeforeMs` before the token expires, or after
 * `fallbackLifetimeMs` when the expiry is unknown — never sooner than `minimumMs` from now, so
 * that a token already near its end does not cause a reconnect storm.
 */
export function renewalTime(
  expiresAt: Date | undefined,
  now: Date,
  options: { renewBeforeMs: number; fallbackLifetimeMs: number; minimumMs: number },
): Date {
  const target =
    expiresAt === undefined ? now.getTime() + options.fallbackLifetimeMs : expiresAt.getTime() - options.renewBeforeMs;
  return new Date(Math.max(target, now.getTime() + options.minimumMs));
}
