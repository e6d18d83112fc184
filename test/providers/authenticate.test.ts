import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormBrowser } from '../emulator/helpers/browser.js';
import { sqliteBytes } from '../helpers/postern.js';
import { CONTOSO, authenticate, createProvider, startPair, type Pair } from './helpers.js';

let pair: Pair;
beforeAll(async () => {
  pair = await startPair();
});
afterAll(async () => pair.close());

interface TimelineItem {
  type: string;
  message: string;
  data: Record<string, unknown> | null;
}

const get = (url: string) => pair.postern.app.inject({ method: 'GET', url, headers: { authorization: pair.admin } });

describe('Cloud Provider API', () => {
  it("creates a provider with the guide's fields; the secret is write-only", async () => {
    const id = await createProvider(pair, { name: 'Contoso Mail' });
    const provider = (await get(`/api/cloudProviders/${id}`)).json();
    expect(provider).toMatchObject({
      name: 'Contoso Mail',
      service: 'microsoft-azure',
      type: 'outlook365',
      applicationId: CONTOSO.web.appId,
      tenantId: CONTOSO.tenantId,
      redirectUri: 'http://localhost:8080/api/cloudProviders/oauth2/microsoft/callback',
      grantType: 'authorization_code',
      status: 'not_authenticated',
      clientSecret: { hint: '…789', expiresAt: '2099-12-31T00:00:00.000Z' },
    });
    expect(provider.scopes).toEqual(
      expect.arrayContaining(['https://outlook.office.com/IMAP.AccessAsUser.All', 'offline_access']),
    );
    expect(JSON.stringify(provider)).not.toContain(CONTOSO.web.secret);
  });

  it('explains invalid fields', async () => {
    const response = await pair.postern.app.inject({
      method: 'POST',
      url: '/api/cloudProviders',
      headers: { authorization: pair.admin },
      payload: {
        name: 'Bad',
        applicationId: 'secret-id-not-guid',
        tenantId: 'not a tenant',
        redirectUri: 'http://example.com/cb',
        clientSecret: 'x',
      },
    });
    expect(response.statusCode).toBe(400);
    const fields = response
      .json()
      .error.details.fields.map((f: { field: string }) => f.field)
      .sort();
    expect(fields).toEqual(['applicationId', 'redirectUri', 'tenantId']);
    expect(response.json().error.message).toMatch(/Application \(client\) ID/);
  });
});

describe('authorization code sign-in through the emulator', () => {
  it('signs andrea@ in, stores a grant, and obtains an Exchange access token; no secret in clear anywhere', async () => {
    const id = await createProvider(pair);
    const { response } = await authenticate(pair, id, {
      username: CONTOSO.andrea.upn,
      password: CONTOSO.andrea.password,
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(
      `http://localhost:8080/ui/cloud-providers/${id}?authentication=success&upn=andrea%40contoso.com`,
    );
    const provider = (await get(`/api/cloudProviders/${id}`)).json();
    expect(provider.status).toBe('authenticated');
    expect(provider.grants).toHaveLength(1);
    const grant = provider.grants[0];
    expect(grant).toMatchObject({
      upn: 'andrea@contoso.com',
      objectId: CONTOSO.andrea.id,
      tenantId: CONTOSO.tenantId,
      state: 'active',
    });
    expect(grant.scopes).toEqual(expect.arrayContaining(['https://outlook.office.com/IMAP.AccessAsUser.All']));
    expect(grant.lastInteractiveSignInAt).not.toBeNull();

    const token = await pair.postern.runtime.services.accessTokens.accessToken(grant.id, 'exchange');
    const seen = pair.emulator.handle.identity.introspectAccessToken(token.token);
    expect(seen).toMatchObject({ valid: true, audience: 'exchange', upn: 'andrea@contoso.com' });
    if (seen.valid) expect(seen.scopes).toEqual(expect.arrayContaining(['IMAP.AccessAsUser.All', 'SMTP.Send']));

    const row = await pair.postern.runtime.db.kysely
      .selectFrom('grants')
      .select('refresh_token_enc')
      .where('id', '=', grant.id)
      .executeTakeFirstOrThrow();
    const refreshToken = pair.postern.runtime.box.open(row.refresh_token_enc ?? '', 'grants.refresh_token', grant.id);
    const everything = `${sqliteBytes(pair.postern.dataDir)}\n${pair.postern.logText()}`;
    for (const secret of [CONTOSO.web.secret, refreshToken, token.token, CONTOSO.andrea.password]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(everything.includes(secret), 'a secret appears in clear').toBe(false);
    }
    const events = (await get(`/api/cloudProviders/${id}/events`)).json();
    expect(events.items.map((e: { type: string }) => e.type)).toContain('grant.authenticated');
  });

  it('refuses a replayed callback and a forged state, storing nothing', async () => {
    const id = await createProvider(pair);
    const { callback, response, browser } = await authenticate(pair, id, {
      username: CONTOSO.marco.upn,
      password: CONTOSO.marco.password,
    });
    expect(response.statusCode).toBe(303);
    const replay = await pair.postern.app.inject({
      method: 'GET',
      url: `${callback.pathname}${callback.search}`,
      cookies: browser.cookies,
    });
    expect(replay.statusCode).toBe(400);
    expect(replay.headers['content-type']).toMatch(/text\/html/);
    expect(replay.body).toContain('already used');
    expect(replay.body).toContain('AUTH_STATE_INVALID');

    const forged = await pair.postern.app.inject({
      method: 'GET',
      url: `${callback.pathname}?code=abc&state=forged-state`,
    });
    expect(forged.statusCode).toBe(400);
    expect(forged.body).toContain('does not match any sign-in started here');
    const missing = await pair.postern.app.inject({ method: 'GET', url: `${callback.pathname}?code=abc` });
    expect(missing.statusCode).toBe(400);
    expect((await get(`/api/cloudProviders/${id}`)).json().grants).toHaveLength(1);
  });

  it('reports a cancelled sign-in (access_denied) with its remedy and stores no grant', async () => {
    const id = await createProvider(pair);
    const { response } = await authenticate(pair, id, {
      username: CONTOSO.marco.upn,
      password: CONTOSO.marco.password,
      cancelSignIn: true,
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toContain(
      `/ui/cloud-providers/${id}?authentication=failed&code=AUTH_ACCESS_DENIED`,
    );
    const provider = (await get(`/api/cloudProviders/${id}`)).json();
    expect(provider.grants).toHaveLength(0);
    expect(provider.status).toBe('error');
    expect(provider.lastError.remedy).toMatch(/Authenticate again/);
  });

  it('binds the sign-in to the admin session that started it', async () => {
    await pair.postern.runtime.services.users.create({
      username: 'session-admin',
      role: 'admin',
      password: 'session admin password',
    });
    const login = await pair.postern.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'session-admin', password: 'session admin password' },
    });
    const cookies = Object.fromEntries(login.cookies.map((c) => [c.name, c.value]));
    const id = await createProvider(pair);
    const start = await pair.postern.app.inject({
      method: 'GET',
      url: `/api/cloudProviders/${id}/authenticate?loginHint=marco%40contoso.com`,
      cookies,
    });
    expect(start.statusCode).toBe(302);
    const walked = await new FormBrowser(pair.emulator.handle.fetch).walk(start.headers.location ?? '', {
      username: CONTOSO.marco.upn,
      password: CONTOSO.marco.password,
    });
    if (walked.kind !== 'redirect') throw new Error('no redirect');
    const url = `${walked.location.pathname}${walked.location.search}`;
    const stranger = await pair.postern.app.inject({ method: 'GET', url });
    expect(stranger.statusCode).toBe(400);
    expect(stranger.body).toContain('has no console session at http://localhost:8080');
    const events = (await get(`/api/cloudProviders/${id}/events`)).json<{ items: TimelineItem[] }>().items;
    expect(events.find((e) => e.type === 'provider.authentication_failed')?.data).toMatchObject({
      code: 'AUTH_STATE_INVALID',
      remedy: expect.stringContaining('Open the console at http://localhost:8080/ui/'),
    });
  });

  it('sends a browser whose provider names an unknown tenant to the console with AADSTS90002, on the timeline', async () => {
    const unknownTenant = '0b8f7e6d-5c4b-4a39-8271-605f4e3d2c1b';
    const id = await createProvider(pair, { tenantId: unknownTenant });
    await pair.postern.runtime.services.users.create({
      username: 'tenant-admin',
      role: 'admin',
      password: 'tenant admin password',
    });
    const login = await pair.postern.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'tenant-admin', password: 'tenant admin password' },
    });
    const cookies = Object.fromEntries(login.cookies.map((c) => [c.name, c.value]));
    const start = await pair.postern.app.inject({
      method: 'GET',
      url: `/api/cloudProviders/${id}/authenticate`,
      cookies,
      headers: { accept: 'text/html' },
    });
    expect(start.statusCode).toBe(303);
    expect(start.headers.location).toBe(
      `http://localhost:8080/ui/cloud-providers/${id}?authentication=failed&code=AUTH_TENANT_NOT_FOUND`,
    );
    const provider = (await get(`/api/cloudProviders/${id}`)).json();
    expect(provider.status).toBe('error');
    expect(provider.lastError).toMatchObject({
      code: 'AUTH_TENANT_NOT_FOUND',
      remedy: expect.stringContaining('tenant'),
    });
    const events = (await get(`/api/cloudProviders/${id}/events`)).json<{ items: TimelineItem[] }>().items;
    const failure = events.find((e) => e.type === 'provider.authentication_failed');
    expect(failure?.message).toContain('AADSTS90002');
    expect(failure?.data).toMatchObject({
      code: 'AUTH_TENANT_NOT_FOUND',
      aadsts: 'AADSTS90002',
      microsoftMessage: expect.stringContaining(`AADSTS90002: Tenant '${unknownTenant}' not found`),
    });

    // The console's own request (POST from the session) answers the catalogue error, with Microsoft's code.
    const viaApi = await pair.postern.app.inject({
      method: 'POST',
      url: `/api/cloudProviders/${id}/authenticate`,
      cookies,
      headers: { 'x-csrf-token': login.json<{ csrfToken: string }>().csrfToken },
      payload: {},
    });
    expect(viaApi.statusCode).toBe(409);
    expect(viaApi.json().error).toMatchObject({ code: 'AUTH_TENANT_NOT_FOUND', details: { aadsts: 'AADSTS90002' } });
  });

  it('refuses to delete a provider an account uses, naming the account', async () => {
    const id = await createProvider(pair);
    const now = new Date().toISOString();
    await pair.postern.runtime.db.kysely
      .insertInto('email_accounts')
      .values({
        name: 'Developers',
        key: 'DEV',
        email_address: 'developers@contoso.com',
        service: 'outlook365',
        username: 'developers@contoso.com',
        provider_id: id,
        transport: 'imap_smtp',
        created_at: now,
        updated_at: now,
      })
      .execute();
    const refused = await pair.postern.app.inject({
      method: 'DELETE',
      url: `/api/cloudProviders/${id}`,
      headers: { authorization: pair.admin },
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.message).toContain('Developers (DEV)');
  });
});
