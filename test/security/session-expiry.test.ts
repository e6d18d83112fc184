/**
 * Issue 13, "what held": a session ends by itself. Idle for longer than LIMITS.sessionIdleMs it is
 * refused; kept busy, it slides, but never past LIMITS.sessionMaxMs from its sign-in. Both over the
 * real API, with the clock moved instead of waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/config/index.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

let postern: TestPostern;
let now = new Date('2026-03-01T08:00:00Z');
const PASSWORD = 'Correct-Horse-Battery-7';
let signIns = 0;

beforeAll(async () => {
  postern = await startTestPostern({}, { clock: () => now });
  await postern.runtime.services.users.create({ username: 'andrea', role: 'agent', password: PASSWORD });
});
afterAll(async () => postern.close());

async function signIn(): Promise<Record<string, string>> {
  signIns += 1;
  const response = await postern.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username: 'andrea', password: PASSWORD },
    remoteAddress: `10.4.0.${signIns}`,
  });
  expect(response.statusCode).toBe(200);
  return Object.fromEntries(response.cookies.map((c) => [c.name, c.value]));
}

const me = (cookies: Record<string, string>) => postern.app.inject({ method: 'GET', url: '/api/auth/me', cookies });
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

describe('a session', () => {
  it('is refused once idle for longer than the idle limit, and accepted just before', async () => {
    const cookies = await signIn();
    advance(LIMITS.sessionIdleMs - 60_000);
    expect((await me(cookies)).statusCode).toBe(200);
    // That request slid the expiry: another idle limit from now.
    advance(LIMITS.sessionIdleMs - 60_000);
    expect((await me(cookies)).statusCode).toBe(200);
    advance(LIMITS.sessionIdleMs + 60_000);
    const expired = await me(cookies);
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.code).toBe('AUTH_SESSION_EXPIRED');
  });

  it('kept busy, still ends at the absolute limit from its sign-in', async () => {
    const cookies = await signIn();
    const step = LIMITS.sessionIdleMs / 2;
    let elapsed = 0;
    while (elapsed + step < LIMITS.sessionMaxMs - 60_000) {
      advance(step);
      elapsed += step;
      expect((await me(cookies)).statusCode, `after ${elapsed / 3_600_000} h`).toBe(200);
    }
    advance(LIMITS.sessionMaxMs - elapsed + 60_000);
    const expired = await me(cookies);
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.code).toBe('AUTH_SESSION_EXPIRED');
    // A fresh sign-in works: only the old session ended.
    expect((await me(await signIn())).statusCode).toBe(200);
  });
});
