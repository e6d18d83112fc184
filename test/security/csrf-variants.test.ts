/**
 * Issue 13, "what held": a change made with a session cookie needs the session's own CSRF token in
 * the X-CSRF-Token header, whatever the method, the route or the body's content type. The check
 * runs when the request arrives, before its body is read: a refused request has no effect.
 *
 * Variants: the valid token of another session (of the same user and of another user), an empty
 * header, PATCH and DELETE without the header, sign-out and password change without it, and the
 * cookie-only form posts a cross-site page can make without asking (urlencoded, multipart, plain
 * text).
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

let postern: TestPostern;
let bearer: string;
const PASSWORD = 'Correct-Horse-Battery-7';
let signIns = 0;

interface Session {
  cookies: Record<string, string>;
  csrf: string;
}

async function signIn(username: string, password = PASSWORD): Promise<Session> {
  signIns += 1;
  const response = await postern.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password },
    remoteAddress: `10.1.0.${signIns}`,
  });
  expect(response.statusCode, response.body).toBe(200);
  const cookies = Object.fromEntries(response.cookies.map((c) => [c.name, c.value]));
  return { cookies, csrf: cookies.postern_csrf ?? '' };
}

function expectRefused(response: LightMyRequestResponse): void {
  expect(response.statusCode, response.body).toBe(403);
  expect(response.json().error.code).toBe('AUTH_CSRF_FAILED');
}

async function tokenNames(session: Session): Promise<string[]> {
  const listed = await postern.app.inject({ method: 'GET', url: '/api/tokens', cookies: session.cookies });
  return listed.json().items.map((t: { name: string }) => t.name);
}

beforeAll(async () => {
  postern = await startTestPostern();
  bearer = (await postern.bearer('admin')).authorization;
  await postern.runtime.services.users.create({ username: 'andrea', role: 'admin', password: PASSWORD });
  await postern.runtime.services.users.create({ username: 'sam', role: 'agent', password: PASSWORD });
});
afterAll(async () => postern.close());

describe('the CSRF token of another session', () => {
  it("is refused, whether the other session is the same user's or another user's", async () => {
    const mine = await signIn('andrea');
    const mySecond = await signIn('andrea');
    const sams = await signIn('sam');
    expect(new Set([mine.csrf, mySecond.csrf, sams.csrf]).size).toBe(3);
    for (const foreign of [mySecond.csrf, sams.csrf]) {
      expectRefused(
        await postern.app.inject({
          method: 'POST',
          url: '/api/tokens',
          cookies: mine.cookies,
          headers: { 'x-csrf-token': foreign },
          payload: { name: 'forged' },
        }),
      );
    }
    // A forged csrf cookie changes nothing either: the token is compared with the session's.
    expectRefused(
      await postern.app.inject({
        method: 'POST',
        url: '/api/tokens',
        cookies: { ...mine.cookies, postern_csrf: sams.csrf },
        headers: { 'x-csrf-token': sams.csrf },
        payload: { name: 'forged' },
      }),
    );
    expect(await tokenNames(mine)).not.toContain('forged');
  });

  it('is refused when empty', async () => {
    const mine = await signIn('andrea');
    expectRefused(
      await postern.app.inject({
        method: 'POST',
        url: '/api/tokens',
        cookies: mine.cookies,
        headers: { 'x-csrf-token': '' },
        payload: { name: 'empty' },
      }),
    );
    expect(await tokenNames(mine)).not.toContain('empty');
  });
});

describe('every changing method needs the header', () => {
  it('PATCH is refused without it, and changes nothing', async () => {
    const list = (
      await postern.app.inject({
        method: 'POST',
        url: '/api/lists',
        headers: { authorization: bearer },
        payload: { name: 'Customers' },
      })
    ).json();
    const session = await signIn('andrea');
    expectRefused(
      await postern.app.inject({
        method: 'PATCH',
        url: `/api/lists/${list.id}`,
        cookies: session.cookies,
        payload: { name: 'Renamed' },
      }),
    );
    const after = await postern.app.inject({
      method: 'GET',
      url: `/api/lists/${list.id}`,
      headers: { authorization: bearer },
    });
    expect(after.json().name).toBe('Customers');
    const allowed = await postern.app.inject({
      method: 'PATCH',
      url: `/api/lists/${list.id}`,
      cookies: session.cookies,
      headers: { 'x-csrf-token': session.csrf },
      payload: { name: 'Renamed' },
    });
    expect(allowed.statusCode).toBe(200);
  });

  it('DELETE is refused without it, and the token it aimed at keeps working', async () => {
    const session = await signIn('andrea');
    const created = await postern.app.inject({
      method: 'POST',
      url: '/api/tokens',
      cookies: session.cookies,
      headers: { 'x-csrf-token': session.csrf },
      payload: { name: 'kept' },
    });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json();
    expectRefused(await postern.app.inject({ method: 'DELETE', url: `/api/tokens/${id}`, cookies: session.cookies }));
    const still = await postern.app.inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(still.statusCode).toBe(200);
  });

  it('sign-out is refused without it, and the session stays', async () => {
    const session = await signIn('sam');
    expectRefused(await postern.app.inject({ method: 'POST', url: '/api/auth/logout', cookies: session.cookies }));
    const me = await postern.app.inject({ method: 'GET', url: '/api/auth/me', cookies: session.cookies });
    expect(me.statusCode).toBe(200);
  });

  it('a password change is refused without it, and the password stays', async () => {
    await postern.runtime.services.users.create({ username: 'kim', role: 'agent', password: PASSWORD });
    const session = await signIn('kim');
    expectRefused(
      await postern.app.inject({
        method: 'POST',
        url: '/api/auth/password',
        cookies: session.cookies,
        payload: { currentPassword: PASSWORD, newPassword: 'a password chosen by the attacker' },
      }),
    );
    await signIn('kim', PASSWORD);
    const me = await postern.app.inject({ method: 'GET', url: '/api/auth/me', cookies: session.cookies });
    expect(me.statusCode).toBe(200);
  });
});

describe('a form post a cross-site page can make with the cookie alone', () => {
  const boundary = '----postern-test-boundary';
  const FORMS = [
    ['application/x-www-form-urlencoded', 'username=mallory&role=admin&password=a+long+enough+password'],
    [
      `multipart/form-data; boundary=${boundary}`,
      [
        ['username', 'mallory'],
        ['role', 'admin'],
        ['password', 'a long enough password'],
      ]
        .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
        .join('')
        .concat(`--${boundary}--\r\n`),
    ],
    ['text/plain', '{"username":"mallory","role":"admin","password":"a long enough password"}'],
  ] as const;

  it.each(FORMS)('as %s is refused 403 before it has any effect', async (contentType, body) => {
    const session = await signIn('andrea');
    const forged = await postern.app.inject({
      method: 'POST',
      url: '/api/users',
      cookies: session.cookies,
      headers: { 'content-type': contentType },
      payload: body,
    });
    expectRefused(forged);
    const users = await postern.app.inject({ method: 'GET', url: '/api/users', headers: { authorization: bearer } });
    expect(users.json().items.map((u: { username: string }) => u.username)).not.toContain('mallory');

    const token = await postern.app.inject({
      method: 'POST',
      url: '/api/tokens',
      cookies: session.cookies,
      headers: { 'content-type': contentType },
      payload: contentType.startsWith('application/x-www') ? 'name=forged-form' : body,
    });
    expectRefused(token);
    expect(await tokenNames(session)).not.toContain('forged-form');
  });

  it('would be read as a form otherwise: only the CSRF check stands in its way', async () => {
    const session = await signIn('andrea');
    const withHeader = await postern.app.inject({
      method: 'POST',
      url: '/api/tokens',
      cookies: session.cookies,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': session.csrf },
      payload: 'name=parsed-form',
    });
    expect(withHeader.statusCode, withHeader.body).toBe(201);
    expect(await tokenNames(session)).toContain('parsed-form');
  });
});
