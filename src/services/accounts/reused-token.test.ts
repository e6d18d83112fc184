import { describe, expect, it } from 'vitest';
import { TOKEN_REUSE_MIN_VALIDITY_MS, TOKEN_REUSE_MS, reusedToken, type ExpiringToken } from './reused-token.js';

const HOUR = 3_600_000;

/** A token source that counts its reads and hands out `t1`, `t2`, …, each valid `validForMs`. */
function source(clock: { now: number }, validForMs = HOUR) {
  const reads: Array<{ resolve: (token: ExpiringToken) => void; reject: (error: Error) => void }> = [];
  let count = 0;
  const read = (): Promise<ExpiringToken> => {
    count += 1;
    const token = { token: `t${count}`, expiresAt: new Date(clock.now + validForMs) };
    return Promise.resolve(token);
  };
  const manual = (): Promise<ExpiringToken> =>
    new Promise((resolve, reject) => {
      count += 1;
      reads.push({ resolve, reject });
    });
  return { read, manual, reads, count: () => count };
}

describe('reusedToken', () => {
  it('reads once, reuses for TOKEN_REUSE_MS, then reads again', async () => {
    const clock = { now: 1_000_000 };
    const tokens = source(clock);
    const reused = reusedToken(tokens.read, () => clock.now);
    expect(await reused.get()).toBe('t1');
    clock.now += TOKEN_REUSE_MS - 1;
    expect(await reused.get()).toBe('t1');
    expect(tokens.count()).toBe(1);
    clock.now += 1;
    expect(await reused.get()).toBe('t2');
    expect(tokens.count()).toBe(2);
  });

  it('reads again when the token held is about to expire', async () => {
    const clock = { now: 1_000_000 };
    const tokens = source(clock, TOKEN_REUSE_MIN_VALIDITY_MS + 5_000);
    const reused = reusedToken(tokens.read, () => clock.now);
    expect(await reused.get()).toBe('t1');
    clock.now += 4_999;
    expect(await reused.get()).toBe('t1');
    clock.now += 1;
    expect(await reused.get()).toBe('t2');
  });

  it('drops the token on forget(), so that a refused token is never used again', async () => {
    const clock = { now: 1_000_000 };
    const tokens = source(clock);
    const reused = reusedToken(tokens.read, () => clock.now);
    expect(await reused.get()).toBe('t1');
    reused.forget();
    expect(await reused.get()).toBe('t2');
    expect(await reused.get()).toBe('t2');
  });

  it('shares one read between callers asking at once', async () => {
    const clock = { now: 1_000_000 };
    const tokens = source(clock);
    const reused = reusedToken(tokens.manual, () => clock.now);
    const asked = [reused.get(), reused.get(), reused.get(), reused.get()];
    expect(tokens.count()).toBe(1);
    tokens.reads[0]?.resolve({ token: 'only', expiresAt: new Date(clock.now + HOUR) });
    expect(await Promise.all(asked)).toEqual(['only', 'only', 'only', 'only']);
    expect(await reused.get()).toBe('only');
    expect(tokens.count()).toBe(1);
  });

  it('keeps no failed read: the next caller reads again', async () => {
    const clock = { now: 1_000_000 };
    const tokens = source(clock);
    const reused = reusedToken(tokens.manual, () => clock.now);
    const first = reused.get();
    tokens.reads[0]?.reject(new Error('the store is unavailable'));
    await expect(first).rejects.toThrow('the store is unavailable');
    const second = reused.get();
    expect(tokens.count()).toBe(2);
    tokens.reads[1]?.resolve({ token: 'after', expiresAt: new Date(clock.now + HOUR) });
    expect(await second).toBe('after');
  });

  it('does not keep a read that was under way when the token was refused', async () => {
    const clock = { now: 1_000_000 };
    const tokens = source(clock);
    const reused = reusedToken(tokens.manual, () => clock.now);
    const before = reused.get();
    reused.forget();
    const after = reused.get();
    expect(tokens.count()).toBe(2);
    tokens.reads[0]?.resolve({ token: 'refused', expiresAt: new Date(clock.now + HOUR) });
    tokens.reads[1]?.resolve({ token: 'renewed', expiresAt: new Date(clock.now + HOUR) });
    expect(await before).toBe('refused');
    expect(await after).toBe('renewed');
    expect(await reused.get()).toBe('renewed');
    expect(tokens.count()).toBe(2);
  });
});
