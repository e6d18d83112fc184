/**
 * Admin consent for a Cloud Provider (issue 14, point 5): Postern hands out the admin-consent URL,
 * a tenant administrator accepts it on the emulator's pages, and the return on the provider's
 * redirect URI records the outcome and refreshes the app token, which then carries the roles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormBrowser } from '../emulator/helpers/browser.js';
import { CONTOSO, createProvider, startPair, type Pair } from './helpers.js';

const APP_ID = '9b0c1d2e-3f40-4152-8637-48596a7b8c01';
const SECRET = 'Ac18Q~admin.consent.secret.value.0001';
const REDIRECT_URI = 'http://localhost:8080/api/cloudProviders/oauth2/microsoft/callback';

let pair: Pair;
let providerId: number;
beforeAll(async () => {
  pair = await startPair();
  await pair.emulator.control('POST', `/tenants/${CONTOSO.domain}/apps`, {
    appId: APP_ID,
    displayName: 'Postern app-only',
    redirectUris: { web: [REDIRECT_URI] },
    secrets: [{ id: '0e0e0e0e-0000-4000-8000-0000000000a1', value: SECRET, expiresAt: '2099-01-01T00:00:00Z' }],
    permissions: {
      application: ['https://outlook.office365.com/IMAP.AccessAsApp', 'https://outlook.office365.com/SMTP.SendAsApp'],
    },
  });
  providerId = await createProvider(pair, {
    applicationId: APP_ID,
    clientSecret: SECRET,
    grantType: 'client_credentials',
    redirectUri: REDIRECT_URI,
  });
});
afterAll(async () => pair.close());

const api = (method: 'GET' | 'POST', url: string) =>
  pair.postern.app.inject({
    method,
    url,
    headers: { authorization: pair.admin },
    ...(method === 'POST' ? { payload: {} } : {}),
  });

/** The roles of the provider's app-only Exchange token, fetched now. */
async function appRoles(): Promise<string[]> {
  const view = (await api('GET', `/api/cloudProviders/${providerId}`)).json<{ grants: Array<{ id: number }> }>();
  const grantId = view.grants[0]?.id;
  if (grantId === undefined) throw new Error('no app grant');
  const services = pair.postern.runtime.services;
  await services.accessTokens.refreshNow(grantId, 'exchange');
  const token = await services.accessTokens.accessToken(grantId, 'exchange');
  const facts = pair.emulator.handle.identity.introspectAccessToken(token.token);
  return facts.valid ? [...facts.roles].sort() : [];
}

describe('admin consent', () => {
  it('links to the v2.0 adminconsent endpoint; the administrator’s acceptance comes back and the token gets its roles', async () => {
    expect((await api('POST', `/api/cloudProviders/${providerId}/authenticate`)).statusCode).toBe(200);
    expect(await appRoles()).toEqual([]);

    const link = await api('POST', `/api/cloudProviders/${providerId}/adminConsent`);
    expect(link.statusCode, link.body).toBe(200);
    const url = new URL(link.json<{ url: string }>().url);
    expect(`${url.origin}${url.pathname}`).toBe(`${pair.emulator.base}/${CONTOSO.tenantId}/v2.0/adminconsent`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: APP_ID,
      scope: 'https://graph.microsoft.com/.default',
      redirect_uri: REDIRECT_URI,
      state: expect.stringMatching(/^[\w-]{43}$/),
    });

    const walked = await new FormBrowser(pair.emulator.handle.fetch).walk(url.href, {
      username: CONTOSO.admin.upn,
      password: CONTOSO.admin.password,
    });
    if (walked.kind !== 'redirect') throw new Error(`admin consent did not redirect: ${walked.kind}`);
    expect(walked.location.searchParams.get('admin_consent')).toBe('True');
    // The administrator's browser has no Postern session: the return is accepted all the same.
    const back = await pair.postern.app.inject({
      method: 'GET',
      url: `${walked.location.pathname}${walked.location.search}`,
    });
    expect(back.statusCode).toBe(303);
    expect(back.headers.location).toBe(`http://localhost:8080/ui/cloud-providers/${providerId}?adminConsent=granted`);
    expect(await appRoles()).toEqual(['IMAP.AccessAsApp', 'SMTP.SendAsApp']);
    const events = (await api('GET', `/api/cloudProviders/${providerId}/events`)).json<{
      items: Array<{ type: string }>;
    }>();
    expect(events.items.map((e) => e.type)).toContain('provider.admin_consent_granted');

    // The state is used once.
    const replay = await pair.postern.app.inject({
      method: 'GET',
      url: `${walked.location.pathname}${walked.location.search}`,
    });
    expect(replay.statusCode).toBe(400);
    expect(replay.body).toContain('already used');
  });

  it('records a refusal (permission_denied) with its remedy', async () => {
    const link = (await api('POST', `/api/cloudProviders/${providerId}/adminConsent`)).json<{ url: string }>();
    const walked = await new FormBrowser(pair.emulator.handle.fetch).walk(link.url, {
      username: CONTOSO.admin.upn,
      password: CONTOSO.admin.password,
      consent: 'cancel',
    });
    if (walked.kind !== 'redirect') throw new Error(`admin consent did not redirect: ${walked.kind}`);
    expect(walked.location.searchParams.get('error')).toBe('permission_denied');
    const back = await pair.postern.app.inject({
      method: 'GET',
      url: `${walked.location.pathname}${walked.location.search}`,
    });
    expect(back.statusCode).toBe(303);
    expect(back.headers.location).toBe(
      `http://localhost:8080/ui/cloud-providers/${providerId}?adminConsent=failed&code=AUTH_ACCESS_DENIED`,
    );
    const events = (await api('GET', `/api/cloudProviders/${providerId}/events`)).json<{
      items: Array<{ type: string; message: string }>;
    }>();
    expect(events.items[0]).toMatchObject({
      type: 'provider.admin_consent_failed',
      message: expect.stringContaining('The admin canceled the request'),
    });
  });

  it('a sign-in state is not an admin-consent state, and an unknown state changes nothing', async () => {
    const back = await pair.postern.app.inject({
      method: 'GET',
      url: '/api/cloudProviders/oauth2/microsoft/callback?admin_consent=True&tenant=x&state=forged-state-value',
    });
    expect(back.statusCode).toBe(400);
    expect(back.body).toContain('AUTH_STATE_INVALID');
  });
});
