import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONTOSO, EXCHANGE_SCOPES, postToken, startTestEmulator, type TestEmulator } from './helpers/emulator.js';

/**
 * `POST /resource-server/introspect`: RFC 7662 answers for resource servers that are not the
 * emulator's own (Dovecot in `npm run test:interop`), under the rules of the emulator's IMAP.
 */
let emu: TestEmulator;

beforeAll(async () => {
  emu = await startTestEmulator();
});
afterAll(async () => {
  await emu?.stop();
});

const introspection = z.object({ active: z.boolean() }).passthrough();

async function introspect(token: string): Promise<z.infer<typeof introspection>> {
  const response = await emu.handle.fetch(`${emu.base}/resource-server/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('cache-control')).toBe('no-store');
  return introspection.parse(await response.json());
}

async function token(scope: string): Promise<string> {
  const reply = await postToken(emu, {
    grant_type: 'password',
    client_id: CONTOSO.publicClient.appId,
    username: CONTOSO.marco.upn,
    password: CONTOSO.marco.password,
    scope,
  });
  return z.object({ access_token: z.string() }).parse(reply.body).access_token;
}

describe('resource-server introspection', () => {
  it('names the user of a live Exchange token, and says inactive for anything else', async () => {
    const live = await token(EXCHANGE_SCOPES);
    expect(await introspect(live)).toMatchObject({
      active: true,
      username: CONTOSO.marco.upn,
      client_id: CONTOSO.publicClient.appId,
      scope: expect.stringContaining('IMAP.AccessAsUser.All'),
    });
    expect(await introspect('not.a.token')).toEqual({ active: false });
    expect(await introspect('')).toEqual({ active: false });
    // Expired on the emulator clock: inactive.
    emu.handle.clock.advance(2 * 60 * 60 * 1000);
    expect(await introspect(live)).toEqual({ active: false });
  });

  it('follows the revocation timeline: a token issued before revoke-sessions stays active until it expires, unless the tenant evaluates continuous access', async () => {
    const before = await token(EXCHANGE_SCOPES);
    emu.handle.clock.advance(2_000);
    await emu.control('POST', `/users/${CONTOSO.marco.id}/revoke-sessions`);
    expect(await introspect(before)).toMatchObject({ active: true, username: CONTOSO.marco.upn });

    await emu.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { continuousAccessEvaluation: true });
    try {
      expect(await introspect(before)).toEqual({ active: false });
      emu.handle.clock.advance(2_000);
      expect(await introspect(await token(EXCHANGE_SCOPES))).toMatchObject({ active: true });
    } finally {
      await emu.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { continuousAccessEvaluation: false });
    }
  });
});
