/**
 * Changing one's own password left the user's other sessions alive (issue 13, Medium 3): whoever
 * had stolen a session kept it after the victim changed the password. The admin path already ended
 * them all; the own path now ends every other session and keeps the one that made the change.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

let postern: TestPostern;
const PASSWORD = 'Correct-Horse-Battery-7';
const NEW_PASSWORD = 'Another-Long-Password-9';

beforeAll(async () => {
  postern = await startTestPostern();
  await postern.runtime.services.users.create({ username: 'victim', role: 'agent', password: PASSWORD });
});
afterAll(async () => postern.close());

function cookiesOf(response: LightMyRequestResponse): Record<string, string> {
  return Object.fromEntries(response.cookies.map((c) => [c.name, c.value]));
}

async function signIn(password: string, remoteAddress: string): Promise<Record<string, string>> {
  const response = await postern.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username: 'victim', password },
    remoteAddress,
  });
  expect(response.statusCode).toBe(200);
  return cookiesOf(response);
}

const me = (cookies: Record<string, string>) => postern.app.inject({ method: 'GET', url: '/api/auth/me', cookies });

describe('own password change', () => {
  it('ends the stolen session and keeps the one that changed the password', async () => {
    const stolen = await signIn(PASSWORD, '10.0.0.66');
    const own = await signIn(PASSWORD, '10.0.0.7');
    expect((await me(stolen)).statusCode).toBe(200);

    const changed = await postern.app.inject({
      method: 'POST',
      url: '/api/auth/password',
      cookies: own,
      headers: { 'x-csrf-token': own.postern_csrf ?? '' },
      payload: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    });
    expect(changed.statusCode).toBe(204);

    const after = await me(stolen);
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('AUTH_SESSION_EXPIRED');
    expect((await me(own)).statusCode).toBe(200);
    await signIn(NEW_PASSWORD, '10.0.0.8');
  });

  it('ends every session when the change is made with an API token', async () => {
    const user = await postern.runtime.services.users.getByUsername('victim');
    const session = await signIn(NEW_PASSWORD, '10.0.0.9');
    const { token } = await postern.runtime.services.tokens.create(user.id, 'script');
    const changed = await postern.app.inject({
      method: 'POST',
      url: '/api/auth/password',
      headers: { authorization: `Bearer ${token}` },
      payload: { currentPassword: NEW_PASSWORD, newPassword: PASSWORD },
    });
    expect(changed.statusCode).toBe(204);
    expect((await me(session)).statusCode).toBe(401);
  });
});
