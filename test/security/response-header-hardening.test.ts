/**
 * JSON answers (the login answer with the CSRF token, message bodies) carried no
 * `X-Content-Type-Options: nosniff` and no `Cache-Control: no-store`, and nothing asked browsers
 * to keep to https (issue 13, Low): a shared cache or a sniffing browser could keep or reinterpret
 * them. Every answer under /api now carries both; HSTS when the public URL is https.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

const PASSWORD = 'Correct-Horse-Battery-7';

function expectHardened(response: LightMyRequestResponse): void {
  expect(response.headers['x-content-type-options']).toBe('nosniff');
  expect(response.headers['cache-control']).toBe('no-store');
}

describe('over http', () => {
  let postern: TestPostern;
  beforeAll(async () => {
    postern = await startTestPostern();
    await postern.runtime.services.users.create({ username: 'andrea', role: 'agent', password: PASSWORD });
  });
  afterAll(async () => postern.close());

  it('marks the login answer, which carries the CSRF token, nosniff and no-store', async () => {
    const response = await postern.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'andrea', password: PASSWORD },
    });
    expect(response.statusCode).toBe(200);
    expectHardened(response);
    expect(response.headers['strict-transport-security']).toBeUndefined();
  });

  it('marks reads, errors and unknown API routes too', async () => {
    const { authorization } = await postern.bearer('admin');
    for (const [url, status] of [
      ['/api/auth/me', 200],
      ['/api/users', 200],
      ['/api/contacts/424242', 404],
      ['/api/no-such-route', 404],
    ] as const) {
      const response = await postern.app.inject({ method: 'GET', url, headers: { authorization } });
      expect(response.statusCode, url).toBe(status);
      expectHardened(response);
    }
    expectHardened(await postern.app.inject({ method: 'GET', url: '/api/auth/me' }));
  });
});

describe('behind an https public URL', () => {
  let postern: TestPostern;
  beforeAll(async () => {
    postern = await startTestPostern({ POSTERN_PUBLIC_URL: 'https://postern.example.com' });
  });
  afterAll(async () => postern.close());

  it('asks browsers to keep to https for a year', async () => {
    const response = await postern.app.inject({ method: 'GET', url: '/api/auth/me' });
    expect(response.statusCode).toBe(401);
    expectHardened(response);
    expect(response.headers['strict-transport-security']).toBe('max-age=31536000');
    const page = await postern.app.inject({ method: 'GET', url: '/health' });
    expect(page.headers['strict-transport-security']).toBe('max-age=31536000');
  });
});
