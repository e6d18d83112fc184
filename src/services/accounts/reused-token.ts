/**
 * An access token read once and reused by a Graph client for a short while. Each Graph request
 * used to ask the token service: the account, its grant (twice), the provider and the cached
 * token read from the store and the token decrypted — five statements for every `$value` of a
 * sync, about a fifth of the main thread's time in the Graph ingest benchmark
 * (docs/PERFORMANCE.md). The store stays the one source: a token refreshed or a grant changed
 * elsewhere (another node, the token keeper, an administrator) is picked up within
 * {@link TOKEN_REUSE_MS}, and a refusal (401) drops the token at once.
 */

/** A token as the token service gives it. */
export interface ExpiringToken {
  readonly token: string;
  readonly expiresAt: Date;
}

/** How long a token read is reused at most. */
export const TOKEN_REUSE_MS = 30_000;

/** A token is read again once it has less than this left (the token service's own margin is 5 minutes). */
export const TOKEN_REUSE_MIN_VALIDITY_MS = 60_000;

export interface ReusedToken {
  /** The token read at most {@link TOKEN_REUSE_MS} ago and valid a while longer, or a fresh read. */
  get(): Promise<string>;
  /** Drops the token held (it was refused): the next `get()` reads again. */
  forget(): void;
}

/**
 * Reuses what `read` gives. Callers asking at once share one read; a failed read is not kept;
 * a read that was under way when `forget()` was called is not kept either (it may carry the
 * refused token).
 */
export function reusedToken(read: () => Promise<ExpiringToken>, now: () => number = Date.now): ReusedToken {
  let held: { token: string; readAt: number; expiresAt: number } | undefined;
  let reading: Promise<string> | undefined;
  let generation = 0;
  const usable = (token: NonNullable<typeof held>, at: number): boolean =>
    at - token.readAt < TOKEN_REUSE_MS && token.expiresAt - at > TOKEN_REUSE_MIN_VALIDITY_MS;
  return {
    get: () => {
      if (held !== undefined && usable(held, now())) return Promise.resolve(held.token);
      if (reading !== undefined) return reading;
      const started = generation;
      const readAt = now();
      const current = read().then(
        (token) => {
          if (started === generation) held = { token: token.token, readAt, expiresAt: token.expiresAt.getTime() };
          if (reading === current) reading = undefined;
          return token.token;
        },
        (error: unknown) => {
          if (reading === current) reading = undefined;
          throw error;
        },
      );
      reading = current;
      return current;
    },
    forget: () => {
      generation += 1;
      held = undefined;
      reading = undefined;
    },
  };
}
