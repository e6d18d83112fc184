/**
 * Issue 13, "what held": taking access away takes it away at once, over the real API. Disabling a
 * user ends its sessions and stops its API tokens; an administrator's password reset ends every
 * session of the user; an agent cannot revoke another user's token (404, as for a missing one),
 * and that token keeps working.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

let postern: TestPostern;
let app: FastifyInstance;
let admin: string;
const PASSWORD = 'Correct-Horse-Battery-7';
let signIns = 0;

async function createUser(username: string): Promise<number> {
  const created = await app.inject({
    method: 'POST',
    url: '/api/users',
    headers: { authorization: admin },
    payload: { username, role: 'agent', password: PASSWORD },
  });
  expect(created.statusCode).toBe(201);
  return created.json().id;
}

async function signIn(username: string, password = PASSWORD) {
  signIns += 1;
  return app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password },
    remoteAddress: `10.2.0.${signIns}`,
  });
}

async function session(username: string): Promise<Record<string, string>> {
  const response = await signIn(username);
  expect(response.statusCode).toBe(200);
  return Object.fromEntries(response.cookies.map((c) => [c.name, c.value]));
}

async function apiToken(cookies: Record<string, string>): Promise<{ id: number; authorization: string }> {
  const created = await app.inject({
    method: 'POST',
    url: '/api/tokens',
    cookies,
    headers: { 'x-csrf-token': cookies.postern_csrf ?? '' },
    payload: { name: 'integration' },
  });
  expect(created.statusCode).toBe(201);
  return { id: created.json().id, authorization: `Bearer ${created.json().token}` };
}

const meWithCookies = (cookies: Record<string, string>) => app.inject({ method: 'GET', url: '/api/auth/me', cookies });
const meWithToken = (authorization: string) =>
  app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization } });

const patchUser = (id: number, payload: object) =>
  app.inject({ method: 'PATCH', url: `/api/users/${id}`, headers: { authorization: admin }, payload });

beforeAll(async () => {
  postern = await startTestPostern();
  app = postern.app;
  admin = (await postern.bearer('admin')).authorization;
});
afterAll(async () => postern.close());

describe('disabling a user', () => {
  it('ends its sessions and stops its API tokens, and it cannot sign in again', async () => {
    const id = await createUser('leaver');
    const first = await session('leaver');
    const second = await session('leaver');
    const token = await apiToken(first);
    expect((await meWithToken(token.authorization)).statusCode).toBe(200);

    expect((await patchUser(id, { disabled: true })).json()).toMatchObject({ disabled: true });

    for (const cookies of [first, second]) {
      const me = await meWithCookies(cookies);
      expect(me.statusCode).toBe(401);
      expect(me.json().error.code).toBe('AUTH_SESSION_EXPIRED');
    }
    const byToken = await meWithToken(token.authorization);
    expect(byToken.statusCode).toBe(401);
    expect(byToken.json().error.code).toBe('AUTH_TOKEN_INVALID');
    const again = await signIn('leaver');
    expect(again.statusCode).toBe(401);
    expect(again.json().error.code).toBe('AUTH_INVALID_CREDENTIALS');
    // The sessions are gone for good: enabling the user again does not bring them back.
    await patchUser(id, { disabled: false });
    expect((await meWithCookies(first)).statusCode).toBe(401);
  });
});

describe("an administrator's password reset", () => {
  it('ends every session of the user, and only the new password signs in', async () => {
    const id = await createUser('forgetful');
    const first = await session('forgetful');
    const second = await session('forgetful');
    const bystander = await createUser('bystander');
    const other = await session('bystander');
    expect(bystander).not.toBe(id);

    const reset = await patchUser(id, { password: 'a brand new long password' });
    expect(reset.statusCode).toBe(200);

    for (const cookies of [first, second]) {
      const me = await meWithCookies(cookies);
      expect(me.statusCode).toBe(401);
      expect(me.json().error.code).toBe('AUTH_SESSION_EXPIRED');
    }
    expect((await meWithCookies(other)).statusCode).toBe(200);
    expect((await signIn('forgetful')).statusCode).toBe(401);
    expect((await signIn('forgetful', 'a brand new long password')).statusCode).toBe(200);
  });
});

describe("another user's API token", () => {
  it('cannot be revoked by an agent: 404 as for a missing token, and it keeps working', async () => {
    await createUser('owner');
    await createUser('meddler');
    const owners = await apiToken(await session('owner'));
    const meddler = await session('meddler');
    const headers = { 'x-csrf-token': meddler.postern_csrf ?? '' };

    const foreign = await app.inject({
      method: 'DELETE',
      url: `/api/tokens/${owners.id}`,
      cookies: meddler,
      headers,
    });
    const missing = await app.inject({ method: 'DELETE', url: '/api/tokens/987654', cookies: meddler, headers });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('RESOURCE_NOT_FOUND');
    expect(foreign.body.replaceAll(String(owners.id), '<id>')).toBe(missing.body.replaceAll('987654', '<id>'));
    expect((await meWithToken(owners.authorization)).statusCode).toBe(200);

    // The meddler's token list does not show it either.
    const listed = await app.inject({ method: 'GET', url: '/api/tokens', cookies: meddler });
    expect(listed.json().items.map((t: { id: number }) => t.id)).not.toContain(owners.id);
  });
});
