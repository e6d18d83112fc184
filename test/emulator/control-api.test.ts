/**
 * The control API: authentication, fault injection on the token endpoint (consumed in order,
 * openid-client sees them as a real client would), the redacted request log, seed replacement,
 * directory changes, the clock, and introspection over HTTP.
 */
import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTOSO,
  discover,
  EXCHANGE_SCOPES,
  expectAadError,
  postToken,
  startTestEmulator,
  type TestEmulator,
} from './helpers/emulator.js';

let emu: TestEmulator;
let initialSeed: unknown;

beforeAll(async () => {
  emu = await startTestEmulator();
  initialSeed = await emu.control('GET', '/seed');
});
afterAll(async () => {
  await emu.stop();
});
afterEach(async () => {
  expect(await emu.control('GET', '/faults')).toEqual([]);
  emu.handle.clock.reset();
  await emu.control('PUT', '/seed', initialSeed);
});

const daemonGrant = {
  grant_type: 'client_credentials',
  client_id: CONTOSO.daemon.appId,
  client_secret: CONTOSO.daemon.secret,
  scope: 'https://outlook.office365.com/.default',
};

async function ropcRefreshToken(): Promise<string> {
  const first = await postToken(emu, {
    grant_type: 'password',
    client_id: CONTOSO.publicClient.appId,
    username: CONTOSO.andrea.upn,
    password: CONTOSO.andrea.password,
    scope: EXCHANGE_SCOPES,
  });
  return String(first.body.refresh_token);
}

describe('control API', () => {
  it('refuses requests without the control token', async () => {
    const none = await emu.handle.fetch(`${emu.handle.urls.control}/health`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: { code: 'unauthorized', message: 'missing or wrong control token' } });
    const wrong = await emu.handle.fetch(`${emu.handle.urls.control}/health`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    expect(await emu.control('GET', '/health')).toMatchObject({ ok: true });
  });

  it('validates bodies with zod and names the problem', async () => {
    const response = await emu.handle.control('POST', '/clock', { advanceDays: 'soon' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'invalid' } });
    const unknownUser = await emu.handle.control('PATCH', '/users/nobody@contoso.com', { disabled: true });
    expect(unknownUser.status).toBe(404);
  });

  it('moves the clock', async () => {
    const moved = await emu.control('POST', '/clock', { advanceDays: 91 });
    expect(moved).toMatchObject({ offsetMs: 91 * 86_400_000 });
    expect(emu.handle.clock.offsetMs).toBe(91 * 86_400_000);
    await emu.control('POST', '/clock', { reset: true });
    expect(emu.handle.clock.offsetMs).toBe(0);
  });

  it('injects faults on the token endpoint for the next N requests, then recovers', async () => {
    await emu.control('POST', '/faults', { target: 'token', kind: 'http-500', count: 1 });
    await emu.control('POST', '/faults', { target: 'token', kind: 'temporarily_unavailable', count: 1 });
    await emu.control('POST', '/faults', { target: 'token', kind: 'http-503', retryAfterSeconds: 7 });
    expect(await emu.control('GET', '/faults')).toHaveLength(3);

    const first = await postToken(emu, daemonGrant);
    expect(first.status).toBe(500);
    expectAadError(first.body, 50000, 'server_error');
    const second = await postToken(emu, daemonGrant);
    expect(second.status).toBe(503);
    expectAadError(second.body, 90033, 'temporarily_unavailable');
    const third = await emu.handle.fetch(`${emu.authority}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams(daemonGrant),
    });
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('7');
    expect((await postToken(emu, daemonGrant)).status).toBe(200);
    expect(
      emu.handle.requestLog
        .list({ endpoint: 'token' })
        .slice(-4)
        .map((e) => e.fault),
    ).toEqual(['http-500', 'temporarily_unavailable', 'http-503', undefined]);
  });

  it('drops the connection and delays requests; openid-client reports what a real client would see', async () => {
    const config = await discover(emu, CONTOSO.daemon.appId, client.ClientSecretPost(CONTOSO.daemon.secret));
    await emu.control('POST', '/faults', { target: 'token', kind: 'drop' });
    await expect(
      client.clientCredentialsGrant(config, { scope: 'https://outlook.office365.com/.default' }),
    ).rejects.toThrow();
    await emu.control('POST', '/faults', { target: 'token', kind: 'delay', delayMs: 120 });
    const started = Date.now();
    await client.clientCredentialsGrant(config, { scope: 'https://outlook.office365.com/.default' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    await emu.control('POST', '/faults', { target: 'token', kind: 'http-500', count: 5 });
    expect(await emu.control('DELETE', '/faults?target=token')).toEqual({ cleared: 1 });
  });

  it('keeps a redacted request log that counts refresh_token requests', async () => {
    const refreshToken = await ropcRefreshToken();
    const since = emu.handle.requestLog.lastSeq;
    for (let i = 0; i < 3; i += 1) {
      await postToken(emu, {
        grant_type: 'refresh_token',
        client_id: CONTOSO.publicClient.appId,
        refresh_token: refreshToken,
      });
    }
    const response = await emu.handle.control('GET', `/requests?grantType=refresh_token&sinceSeq=${since}`);
    const entries: unknown = await response.json();
    expect(entries).toHaveLength(3);
    expect(entries).toEqual(
      Array(3).fill(
        expect.objectContaining({
          endpoint: 'token',
          grantType: 'refresh_token',
          clientId: CONTOSO.publicClient.appId,
          status: 200,
          params: expect.objectContaining({ refresh_token: '[redacted]', client_id: CONTOSO.publicClient.appId }),
        }),
      ),
    );
    const everything = JSON.stringify(emu.handle.requestLog.list());
    expect(everything).not.toContain(refreshToken);
    expect(everything).not.toContain(CONTOSO.andrea.password);
    expect(everything).not.toContain(CONTOSO.daemon.secret);

    await postToken(
      emu,
      { ...daemonGrant },
      {
        headers: {
          authorization: `Basic ${Buffer.from(`${CONTOSO.daemon.appId}:${CONTOSO.daemon.secret}`).toString('base64')}`,
        },
      },
    );
    expect(emu.handle.requestLog.list({ endpoint: 'token' }).at(-1)?.authorization).toBe('Basic [redacted]');
    await emu.control('DELETE', '/requests');
    expect(emu.handle.requestLog.list()).toEqual([]);
  });

  it('records AADSTS codes of failed requests in the log', async () => {
    await postToken(emu, { ...daemonGrant, client_secret: 'wrong-secret-value' });
    expect(emu.handle.requestLog.list({ endpoint: 'token' }).at(-1)).toMatchObject({
      status: 401,
      error: 'invalid_client',
      aadsts: 7000215,
    });
  });

  it('replaces the seed, and changes mailboxes and delegations', async () => {
    await emu.control('PUT', '/seed', {
      tenants: [
        {
          id: '11111111-2222-4333-8444-555555555555',
          displayName: 'Fabrikam',
          domains: ['fabrikam.com'],
          users: [
            {
              id: '11111111-2222-4333-8444-000000000001',
              userPrincipalName: 'kim@fabrikam.com',
              displayName: 'Kim',
              password: 'Kim#2025',
            },
          ],
        },
      ],
    });
    expect(emu.handle.directory.findTenant(CONTOSO.tenantId)).toBeUndefined();
    await emu.control('POST', '/tenants/fabrikam.com/mailboxes', {
      address: 'support@fabrikam.com',
      displayName: 'Support',
    });
    await emu.control('POST', '/mailboxes/support@fabrikam.com/delegates', {
      user: 'kim@fabrikam.com',
      rights: ['FullAccess'],
    });
    await emu.control('PATCH', '/mailboxes/support@fabrikam.com', {
      smtpAuthEnabled: false,
      aliases: ['help@fabrikam.com'],
    });
    const mailbox = emu.handle.directory.findMailbox('HELP@fabrikam.com');
    expect(mailbox).toMatchObject({
      address: 'support@fabrikam.com',
      fullAccess: ['11111111-2222-4333-8444-000000000001'],
      sendAs: [],
      smtpAuthEnabled: false,
    });
    await emu.control('DELETE', '/mailboxes/support@fabrikam.com/delegates/kim@fabrikam.com?rights=FullAccess');
    expect(emu.handle.directory.findMailbox('support@fabrikam.com')?.fullAccess).toEqual([]);
  });

  it('introspects a token over HTTP', async () => {
    const tokens = await postToken(emu, daemonGrant);
    const facts = await emu.control('POST', '/introspect', { token: String(tokens.body.access_token) });
    expect(facts).toMatchObject({
      valid: true,
      audience: 'exchange',
      roles: expect.arrayContaining(['IMAP.AccessAsApp']),
    });
    expect(await emu.control('POST', '/introspect', { token: 'not.a.jwt' })).toEqual({
      valid: false,
      reason: 'malformed',
    });
  });

  it('revoking consent makes the next refresh fail with AADSTS65001', async () => {
    const refreshToken = await ropcRefreshToken();
    expect(
      await emu.control('POST', '/consents/revoke', {
        tenant: CONTOSO.tenantId,
        appId: CONTOSO.publicClient.appId,
        user: 'admin',
      }),
    ).toEqual({ revoked: 1 });
    expectAadError(
      (
        await postToken(emu, {
          grant_type: 'refresh_token',
          client_id: CONTOSO.publicClient.appId,
          refresh_token: refreshToken,
        })
      ).body,
      65001,
      'invalid_grant',
    );
  });
});

describe('token endpoint input', () => {
  it('reads only form-urlencoded bodies: a JSON body lacks grant_type (AADSTS900144)', async () => {
    const response = await emu.handle.fetch(`${emu.authority}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(daemonGrant),
    });
    expect(response.status).toBe(400);
    expectAadError(await response.json(), 900144, 'invalid_request');
  });

  it('ignores the extra fields MSAL sends', async () => {
    const response = await postToken(emu, {
      ...daemonGrant,
      'x-client-SKU': 'msal.js.node',
      'x-client-VER': '2.0.0',
      'x-ms-lib-capability': 'retry-after, h429',
      'client-request-id': '0f8fad5b-d9cb-469f-a165-70867728950e',
      claims: '{"access_token":{"xms_cc":{"values":["CP1"]}}}',
    });
    expect(response.status).toBe(200);
  });
});
