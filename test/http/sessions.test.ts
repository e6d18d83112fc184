import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { startTestPostern, sqliteBytes, type TestPostern } from '../helpers/postern.js';

let postern: TestPostern;
const PASSWORD = 'Correct-Horse-Battery-7';

beforeAll(async () => {
  postern = await startTestPostern();
  await postern.runtime.services.users.create({ username: 'Andrea', role: 'agent', password: PASSWORD });
});
afterAll(async () => postern.close());

function cookiesOf(response: LightMyRequestResponse): Record<string, string> {
  return Object.fromEntries(response.cookies.map((c) => [c.name, c.value]));
}

async function login(username: string, password: string) {
  return postern.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password },
    remoteAddress: `10.0.0.${username.length}`,
  });
}

describe('cookie sessions', () => {
  it('signs in case-insensitively, sets HttpOnly session and readable CSRF cookies', async () => {
    const response = await login('andrea', PASSWORD);
    expect(response.statusCode).toBe(200);
    const session = response.cookies.find((c) => c.name === 'postern_session');
    const csrf = response.cookies.find((c) => c.name === 'postern_csrf');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Lax');
    expect(csrf?.httpOnly).toBeFalsy();
    expect(response.json().user).toMatchObject({ username: 'Andrea', role: 'agent' });
    expect(JSON.stringify(response.json())).not.toMatch(/scrypt|passwordHash/);
  });

  it('refuses a wrong password and an unknown user with the same answer', async () => {
    const wrong = await login('andrea', 'wrong password!!');
    const unknown = await login('nobody', 'wrong password!!');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json().error.code).toBe('AUTH_INVALID_CREDENTIALS');
  });

  it('requires the CSRF header for changes made with a cookie, and accepts reads without it', async () => {
    const cookies = cookiesOf(await login('andrea', PASSWORD));
    const me = await postern.app.inject({ method: 'GET', url: '/api/auth/me', cookies });
    expect(me.statusCode).toBe(200);
    expect(me.json().username).toBe('Andrea');

    const forged = await postern.app.inject({ method: 'POST', url: '/api/tokens', cookies, payload: { name: 'x' } });
    expect(forged.statusCode).toBe(403);
    expect(forged.json().error.code).toBe('AUTH_CSRF_FAILED');

    const wrong = await postern.app.inject({
      method: 'POST',
      url: '/api/tokens',
      cookies,
      headers: { 'x-csrf-token': 'guess' },
      payload: { name: 'x' },
    });
    expect(wrong.statusCode).toBe(403);

    const good = await postern.app.inject({
      method: 'POST',
      url: '/api/tokens',
      cookies,
      headers: { 'x-csrf-token': cookies.postern_csrf ?? '' },
      payload: { name: 'mine' },
    });
    expect(good.statusCode).toBe(201);
  });

  it('ends the session on sign-out', async () => {
    const cookies = cookiesOf(await login('andrea', PASSWORD));
    const out = await postern.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      cookies,
      headers: { 'x-csrf-token': cookies.postern_csrf ?? '' },
    });
    expect(out.statusCode).toBe(204);
    const after = await postern.app.inject({ method: 'GET', url: '/api/auth/me', cookies });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('AUTH_SESSION_EXPIRED');
  });

  it('changes the own password only with the current one', async () => {
    await postern.runtime.services.users.create({ username: 'sam', role: 'agent', password: PASSWORD });
    const cookies = cookiesOf(await login('sam', PASSWORD));
    const headers = { 'x-csrf-token': cookies.postern_csrf ?? '' };
    const wrong = await postern.app.inject({
      method: 'POST',
      url: '/api/auth/password',
      cookies,
      headers,
      payload: { currentPassword: 'nope', newPassword: 'another long password' },
    });
    expect(wrong.statusCode).toBe(401);
    const short = await postern.app.inject({
      method: 'POST',
      url: '/api/auth/password',
      cookies,
      headers,
      payload: { currentPassword: PASSWORD, newPassword: 'short' },
    });
    expect(short.statusCode).toBe(400);
    expect(short.json().error.details.fields[0].field).toBe('newPassword');
    const ok = await postern.app.inject({
      method: 'POST',
      url: '/api/auth/password',
      cookies,
      headers,
      payload: { currentPassword: PASSWORD, newPassword: 'another long password' },
    });
    expect(ok.statusCode).toBe(204);
    expect((await login('sam', 'another long password')).statusCode).toBe(200);
  });

  it('rate-limits sign-in attempts from one address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      const response = await postern.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        // A new username each time: this is the per-address limit, not the per-username backoff.
        payload: { username: `guess-${i}`, password: 'wrong password!!' },
        remoteAddress: '10.9.9.9',
      });
      statuses.push(response.statusCode);
      if (response.statusCode === 429) {
        expect(response.json().error.code).toBe('AUTH_RATE_LIMITED');
        expect(response.headers['retry-after']).toBeDefined();
      }
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });
});

describe('users administration', () => {
  it('creates users with hashed passwords that appear nowhere in clear', async () => {
    const { authorization } = await postern.bearer('admin', 'root');
    const secretPassword = 'Known-Secret-Password-4471';
    const created = await postern.app.inject({
      method: 'POST',
      url: '/api/users',
      headers: { authorization },
      payload: { username: 'lee', role: 'agent', password: secretPassword },
    });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toContain(secretPassword);
    postern.runtime.log.logger.flush();
    expect(sqliteBytes(postern.dataDir)).not.toContain(secretPassword);
    expect(postern.logText()).not.toContain(secretPassword);
  });

  it('refuses to demote or disable the last administrator', async () => {
    const { authorization, userId } = await postern.bearer('admin', 'solo-check');
    const users = (await postern.app.inject({ method: 'GET', url: '/api/users', headers: { authorization } })).json<{
      items: Array<{ id: number; role: string }>;
    }>();
    const admins = users.items.filter((u) => u.role === 'admin');
    for (const other of admins.filter((u) => u.id !== userId)) {
      const r = await postern.app.inject({
        method: 'PATCH',
        url: `/api/users/${other.id}`,
        headers: { authorization },
        payload: { disabled: true },
      });
      expect(r.statusCode).toBe(200);
    }
    const last = await postern.app.inject({
      method: 'PATCH',
      url: `/api/users/${userId}`,
      headers: { authorization },
      payload: { role: 'agent' },
    });
    expect(last.statusCode).toBe(409);
    expect(last.json().error.message).toMatch(/last active administrator/);
  });
});
