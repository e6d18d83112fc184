/**
 * Issue 13, "what held": the two cookies of a session as the browser receives them. The session
 * cookie is HttpOnly (no script reads it), the CSRF cookie is readable by the page (it sends it
 * back in a header); both are SameSite=Lax, Path=/, bounded by the session's absolute lifetime,
 * and Secure whenever Postern is reached over https (or POSTERN_COOKIE_SECURE says so). Sign-out
 * clears both.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/config/index.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

const PASSWORD = 'Correct-Horse-Battery-7';
const NAMES = ['postern_session', 'postern_csrf'] as const;

/** The raw Set-Cookie line of one cookie. */
function setCookieLine(response: LightMyRequestResponse, name: string): string {
  const header = response.headers['set-cookie'];
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const line = lines.find((l) => l.startsWith(`${name}=`));
  if (line === undefined) throw new Error(`no Set-Cookie for ${name}`);
  return line;
}

/** The attributes of a Set-Cookie line, names lower-cased, values as written. */
function attributes(line: string): Map<string, string> {
  const [, ...parts] = line.split(';').map((part) => part.trim());
  return new Map(
    parts.map((part) => {
      const at = part.indexOf('=');
      return at === -1 ? [part.toLowerCase(), ''] : [part.slice(0, at).toLowerCase(), part.slice(at + 1)];
    }),
  );
}

async function start(env: Record<string, string>): Promise<TestPostern> {
  const postern = await startTestPostern(env);
  await postern.runtime.services.users.create({ username: 'andrea', role: 'agent', password: PASSWORD });
  return postern;
}

const signIn = (postern: TestPostern) =>
  postern.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'andrea', password: PASSWORD } });

for (const [title, env, secure] of [
  ['over http', {}, false],
  ['behind an https public URL', { POSTERN_PUBLIC_URL: 'https://postern.example.com' }, true],
  ['over http with POSTERN_COOKIE_SECURE=true', { POSTERN_COOKIE_SECURE: 'true' }, true],
  [
    'behind an https public URL with POSTERN_COOKIE_SECURE=false',
    { POSTERN_PUBLIC_URL: 'https://postern.example.com', POSTERN_COOKIE_SECURE: 'false' },
    false,
  ],
] as const) {
  describe(title, () => {
    let postern: TestPostern;
    beforeAll(async () => {
      postern = await start(env);
    });
    afterAll(async () => postern.close());

    it(`sets both cookies ${secure ? 'with' : 'without'} Secure, SameSite=Lax, Path=/ and the session's lifetime`, async () => {
      const response = await signIn(postern);
      expect(response.statusCode).toBe(200);
      for (const name of NAMES) {
        const flags = attributes(setCookieLine(response, name));
        expect(flags.has('secure'), name).toBe(secure);
        expect(flags.get('samesite'), name).toBe('Lax');
        expect(flags.get('path'), name).toBe('/');
        expect(flags.get('max-age'), name).toBe(String(Math.floor(LIMITS.sessionMaxMs / 1000)));
        expect(flags.has('domain'), name).toBe(false);
      }
      expect(attributes(setCookieLine(response, 'postern_session')).has('httponly')).toBe(true);
      expect(attributes(setCookieLine(response, 'postern_csrf')).has('httponly')).toBe(false);
      // The CSRF cookie holds the token the answer gives the page.
      const csrf = response.cookies.find((c) => c.name === 'postern_csrf');
      expect(csrf?.value).toBe(response.json().csrfToken);
    });
  });
}

describe('sign-out', () => {
  let postern: TestPostern;
  beforeAll(async () => {
    postern = await start({ POSTERN_PUBLIC_URL: 'https://postern.example.com' });
  });
  afterAll(async () => postern.close());

  it('clears both cookies at the path they were set for', async () => {
    const signedIn = await signIn(postern);
    const cookies = Object.fromEntries(signedIn.cookies.map((c) => [c.name, c.value]));
    const out = await postern.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      cookies,
      headers: { 'x-csrf-token': cookies.postern_csrf ?? '' },
    });
    expect(out.statusCode).toBe(204);
    for (const name of NAMES) {
      const line = setCookieLine(out, name);
      expect(line.startsWith(`${name}=;`), line).toBe(true);
      const flags = attributes(line);
      expect(flags.get('path'), name).toBe('/');
      const expires = flags.get('expires');
      const maxAge = flags.get('max-age');
      // Either an expiry in the past or a zero lifetime makes the browser drop the cookie.
      expect((expires !== undefined && Date.parse(expires) < Date.now()) || maxAge === '0', `${name}: ${line}`).toBe(
        true,
      );
    }
    const after = await postern.app.inject({ method: 'GET', url: '/api/auth/me', cookies });
    expect(after.statusCode).toBe(401);
  });
});
