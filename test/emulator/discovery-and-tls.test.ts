/**
 * Discovery for every tenant form, the JWKS (verified independently with jose), instance
 * discovery, admin consent and logout, and TLS: the emulator is trusted only through its CA, and
 * a restart reuses the CA and the signing keys.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FormBrowser } from './helpers/browser.js';
import {
  CONTOSO,
  discover,
  expectAadError,
  postToken,
  startTestEmulator,
  type TestEmulator,
} from './helpers/emulator.js';

let emu: TestEmulator;

beforeAll(async () => {
  emu = await startTestEmulator();
});
afterAll(async () => {
  await emu.stop();
});

async function getJson(url: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await emu.handle.fetch(url);
  return { status: response.status, body: await response.json(), headers: response.headers };
}

describe('discovery', () => {
  it('serves the tenant document by GUID and by domain, with Microsoft’s fields and headers', async () => {
    const byId = await getJson(`${emu.authority}/v2.0/.well-known/openid-configuration`);
    expect(byId.status).toBe(200);
    expect(byId.headers.get('cache-control')).toBe('max-age=86400, private');
    expect(byId.body).toMatchObject({
      issuer: `${emu.base}/${CONTOSO.tenantId}/v2.0`,
      token_endpoint: `${emu.base}/${CONTOSO.tenantId}/oauth2/v2.0/token`,
      authorization_endpoint: `${emu.base}/${CONTOSO.tenantId}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${emu.base}/${CONTOSO.tenantId}/oauth2/v2.0/devicecode`,
      jwks_uri: `${emu.base}/${CONTOSO.tenantId}/discovery/v2.0/keys`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      id_token_signing_alg_values_supported: ['RS256'],
      request_uri_parameter_supported: false,
    });
    const byDomain = await getJson(`${emu.base}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration`);
    expect(byDomain.body).toMatchObject({ issuer: `${emu.base}/${CONTOSO.tenantId}/v2.0` });
  });

  it('serves /common and /organizations with the {tenantid} issuer template', async () => {
    for (const segment of ['common', 'organizations']) {
      const doc = await getJson(`${emu.base}/${segment}/v2.0/.well-known/openid-configuration`);
      expect(doc.body).toMatchObject({
        issuer: `${emu.base}/{tenantid}/v2.0`,
        token_endpoint: `${emu.base}/${segment}/oauth2/v2.0/token`,
      });
    }
  });

  it('answers AADSTS90002 for an unknown tenant', async () => {
    const doc = await getJson(`${emu.base}/fabrikam.com/v2.0/.well-known/openid-configuration`);
    expect(doc.status).toBe(400);
    expectAadError(doc.body, 90002, 'invalid_request');
  });

  it('serves instance discovery as MSAL calls it', async () => {
    const doc = await getJson(
      `${emu.base}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${emu.authority}/oauth2/v2.0/authorize`)}`,
    );
    expect(doc.body).toMatchObject({
      'api-version': '1.1',
      tenant_discovery_endpoint: `${emu.base}/{tenant}/v2.0/.well-known/openid-configuration`,
    });
  });

  it('signs ID tokens with a key of the JWKS (checked with jose) and keeps old keys published after rotation', async () => {
    const tokens = await postToken(emu, {
      grant_type: 'password',
      client_id: CONTOSO.publicClient.appId,
      username: CONTOSO.andrea.upn,
      password: CONTOSO.andrea.password,
      scope: 'openid profile offline_access https://outlook.office.com/IMAP.AccessAsUser.All',
    });
    const idToken = String(tokens.body.id_token);
    const jwks = await getJson(`${emu.authority}/discovery/v2.0/keys`);
    const keySet = createLocalJWKSet(parseJwks(jwks.body));
    const verified = await jwtVerify(idToken, keySet, {
      issuer: `${emu.base}/${CONTOSO.tenantId}/v2.0`,
      audience: CONTOSO.publicClient.appId,
    });
    expect(verified.payload).toMatchObject({ ver: '2.0', tid: CONTOSO.tenantId, oid: CONTOSO.andrea.id });

    const rotated = await emu.control('POST', '/keys/rotate', {});
    expect(rotated).toMatchObject({ published: expect.arrayContaining([verified.protectedHeader.kid]) });
    const after = await getJson(`${emu.authority}/discovery/v2.0/keys`);
    await jwtVerify(idToken, createLocalJWKSet(parseJwks(after.body)));
    expect(emu.handle.identity.introspectAccessToken(String(tokens.body.access_token)).valid).toBe(true);
  });
});

const jwksSchema = z.object({
  keys: z.array(
    z.object({
      kty: z.literal('RSA'),
      use: z.literal('sig'),
      kid: z.string(),
      x5t: z.string(),
      n: z.string(),
      e: z.string(),
      issuer: z.string(),
    }),
  ),
});

function parseJwks(body: unknown): z.infer<typeof jwksSchema> {
  return jwksSchema.parse(body);
}

describe('admin consent and logout', () => {
  it('an administrator grants tenant-wide consent through /adminconsent; the app then gets roles', async () => {
    const appId = '9b0c1d2e-3f40-4152-8637-48596a7b8c9d';
    await emu.control('POST', `/tenants/${CONTOSO.domain}/apps`, {
      appId,
      displayName: 'Late daemon',
      redirectUris: { web: ['https://localhost/admin-done'] },
      secrets: [
        {
          id: '0e0e0e0e-0000-4000-8000-000000000009',
          value: 'Lt18Q~late.daemon.secret.value',
          expiresAt: '2099-01-01T00:00:00Z',
        },
      ],
      permissions: { application: ['https://outlook.office365.com/IMAP.AccessAsApp'] },
    });
    const url = `${emu.authority}/adminconsent?client_id=${appId}&redirect_uri=${encodeURIComponent('https://localhost/admin-done')}&state=xyz`;
    const denied = await new FormBrowser(emu.handle.fetch).walk(url, {
      username: CONTOSO.marco.upn,
      password: CONTOSO.marco.password,
    });
    expect(denied.kind === 'page' && denied.error?.code).toBe(90094);
    const browser = new FormBrowser(emu.handle.fetch);
    const done = await browser.walk(url, { username: CONTOSO.admin.upn, password: CONTOSO.admin.password });
    expect(browser.trail).toEqual(['credentials', 'consent']);
    expect(done.kind === 'redirect' && Object.fromEntries(done.location.searchParams)).toEqual({
      admin_consent: 'True',
      tenant: CONTOSO.tenantId,
      state: 'xyz',
    });
    const tokens = await postToken(emu, {
      grant_type: 'client_credentials',
      client_id: appId,
      client_secret: 'Lt18Q~late.daemon.secret.value',
      scope: 'https://outlook.office365.com/.default',
    });
    const facts = emu.handle.identity.introspectAccessToken(String(tokens.body.access_token));
    expect(facts.valid && facts.roles).toEqual(['IMAP.AccessAsApp']);
  });

  it('logout ends the SSO session and redirects to post_logout_redirect_uri', async () => {
    const config = await discover(emu, CONTOSO.web.appId, client.ClientSecretPost(CONTOSO.web.secret));
    const browser = new FormBrowser(emu.handle.fetch);
    const authorize = () =>
      client.buildAuthorizationUrl(config, {
        redirect_uri: CONTOSO.web.redirectUri,
        scope: 'openid offline_access https://outlook.office.com/IMAP.AccessAsUser.All',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      }).href;
    await browser.walk(authorize(), { username: CONTOSO.andrea.upn, password: CONTOSO.andrea.password });
    expect((await browser.open(authorize())).kind).toBe('redirect');
    const out = await browser.open(
      client.buildEndSessionUrl(config, { post_logout_redirect_uri: 'http://localhost:8080/signed-out' }).href,
    );
    expect(out.kind === 'redirect' && out.location.href).toBe('http://localhost:8080/signed-out');
    const after = await browser.open(authorize());
    expect(after.kind === 'page' && after.form?.id).toBe('credentials');
  });
});

describe('TLS', () => {
  it('is refused by a client that does not trust the emulator CA', async () => {
    await expect(fetch(`${emu.authority}/v2.0/.well-known/openid-configuration`)).rejects.toThrow();
  });

  it('writes the CA into the data directory and reuses it, and the signing keys, on the next start', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postern-emulator-reuse-'));
    try {
      const first = await startTestEmulator({ dataDir });
      const ca = await readFile(first.handle.caFile, 'utf8');
      expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
      const token = await postToken(first, {
        grant_type: 'client_credentials',
        client_id: CONTOSO.daemon.appId,
        client_secret: CONTOSO.daemon.secret,
        scope: 'https://outlook.office365.com/.default',
      });
      await first.stop();
      const second = await startTestEmulator({ dataDir });
      try {
        expect(await readFile(second.handle.caFile, 'utf8')).toBe(ca);
        expect(second.handle.identity.introspectAccessToken(String(token.body.access_token)).valid).toBe(true);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
