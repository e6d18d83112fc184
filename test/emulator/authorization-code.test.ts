/**
 * Authorization code + PKCE with openid-client against the emulator over HTTPS (trusting its
 * CA), walking the HTML sign-in and consent pages with fetch; and every error of the flow.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormBrowser } from './helpers/browser.js';
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

beforeAll(async () => {
  emu = await startTestEmulator();
});
afterAll(async () => {
  await emu.stop();
});

async function webConfig(secret: string = CONTOSO.web.secret): Promise<client.Configuration> {
  return discover(emu, CONTOSO.web.appId, client.ClientSecretPost(secret));
}

/** Builds an authorize URL with PKCE and state; returns what the callback must check. */
async function authorizeUrl(config: client.Configuration, extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CONTOSO.web.redirectUri,
    scope: EXCHANGE_SCOPES,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

function redirectOf(result: Awaited<ReturnType<FormBrowser['walk']>>): URL {
  if (result.kind !== 'redirect')
    throw new Error(
      `expected a redirect, got ${result.kind}: ${result.kind === 'page' ? result.html.slice(0, 400) : ''}`,
    );
  return result.location;
}

describe('authorization code + PKCE (openid-client)', () => {
  it('signs in, consents, redirects with code and state, and redeems the code for Exchange tokens', async () => {
    const config = await webConfig();
    const { url, verifier, state, nonce } = await authorizeUrl(config);
    const browser = new FormBrowser(emu.handle.fetch);
    const callback = redirectOf(
      await browser.walk(url.href, { username: CONTOSO.andrea.upn, password: CONTOSO.andrea.password }),
    );
    expect(browser.trail).toEqual(['credentials', 'consent']);
    expect(callback.origin + callback.pathname).toBe(CONTOSO.web.redirectUri.replace(':8080', ':8080'));
    expect(callback.searchParams.get('state')).toBe(state);

    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toMatch(/^1\.AVEA/);
    expect(tokens.expires_in).toBeGreaterThanOrEqual(3600);
    expect(tokens.expires_in).toBeLessThanOrEqual(5400);
    expect(tokens.scope?.split(' ')).toEqual(
      expect.arrayContaining([
        'https://outlook.office.com/IMAP.AccessAsUser.All',
        'https://outlook.office.com/SMTP.Send',
        'offline_access',
      ]),
    );
    const claims = tokens.claims();
    expect(claims).toMatchObject({
      tid: CONTOSO.tenantId,
      oid: CONTOSO.andrea.id,
      preferred_username: CONTOSO.andrea.upn,
      email: CONTOSO.andrea.upn,
      name: 'Andrea Rossi',
    });

    const access = emu.handle.identity.introspectAccessToken(tokens.access_token);
    expect(access).toMatchObject({
      valid: true,
      audience: 'exchange',
      aud: 'https://outlook.office.com',
      userId: CONTOSO.andrea.id,
      appId: CONTOSO.web.appId,
    });
    expect(access.valid && access.scopes.sort()).toEqual(['IMAP.AccessAsUser.All', 'SMTP.Send']);
  });

  it('skips sign-in with the SSO cookie and consent once granted; the localhost port is ignored', async () => {
    const config = await webConfig();
    const browser = new FormBrowser(emu.handle.fetch);
    redirectOf(
      await browser.walk((await authorizeUrl(config)).url.href, {
        username: CONTOSO.andrea.upn,
        password: CONTOSO.andrea.password,
      }),
    );
    const { url, verifier, state } = await authorizeUrl(config, {
      redirect_uri: 'http://localhost:39999/api/cloudProviders/oauth2/microsoft/callback',
    });
    const again = redirectOf(await browser.walk(url.href, {}));
    expect(browser.trail).toEqual([]);
    expect(again.port).toBe('39999');
    const response = await postToken(emu, {
      grant_type: 'authorization_code',
      client_id: CONTOSO.web.appId,
      client_secret: CONTOSO.web.secret,
      code: again.searchParams.get('code') ?? '',
      redirect_uri: 'http://localhost:39999/api/cloudProviders/oauth2/microsoft/callback',
      code_verifier: verifier,
    });
    expect(response.status).toBe(200);
    expect(again.searchParams.get('state')).toBe(state);
    expect(response.headers.get('cache-control')).toBe('no-store, no-cache');
    expect(response.headers.get('pragma')).toBe('no-cache');
  });

  it('asks the MFA code of a user who requires MFA, and records mfa in amr', async () => {
    const config = await webConfig();
    const { url, verifier, state, nonce } = await authorizeUrl(config);
    const browser = new FormBrowser(emu.handle.fetch);
    const wrong = await browser.walk(url.href, {
      username: CONTOSO.giulia.upn,
      password: CONTOSO.giulia.password,
      mfaCode: '000000',
    });
    expect(wrong.kind === 'page' && wrong.form?.id).toBe('mfa');
    const callback = redirectOf(
      await browser.walk(url.href, {
        username: CONTOSO.giulia.upn,
        password: CONTOSO.giulia.password,
        mfaCode: CONTOSO.giulia.mfaCode,
      }),
    );
    expect(browser.trail).toEqual(['credentials', 'mfa', 'consent']);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    const access = emu.handle.identity.introspectAccessToken(tokens.access_token);
    expect(access.valid && access.claims.amr).toEqual(['pwd', 'mfa']);
  });

  it('answers response_mode=form_post with an auto-submitting form', async () => {
    const config = await webConfig();
    const { url, state } = await authorizeUrl(config, { response_mode: 'form_post' });
    const result = await new FormBrowser(emu.handle.fetch).walk(url.href, {
      username: CONTOSO.andrea.upn,
      password: CONTOSO.andrea.password,
    });
    expect(result.kind).toBe('form_post');
    if (result.kind !== 'form_post') return;
    expect(result.action).toBe(CONTOSO.web.redirectUri);
    expect(result.fields.state).toBe(state);
    expect(result.fields.code).toMatch(/^1\.A/);
  });

  it('re-renders the sign-in page with AADSTS50126 for a wrong password and 50034 for an unknown user', async () => {
    const config = await webConfig();
    const browser = new FormBrowser(emu.handle.fetch);
    const wrong = await browser.walk((await authorizeUrl(config)).url.href, {
      username: CONTOSO.andrea.upn,
      password: 'nope',
    });
    expect(wrong.kind === 'page' && wrong.error?.code).toBe(50126);
    const unknown = await browser.walk((await authorizeUrl(config)).url.href, {
      username: 'nobody@contoso.com',
      password: 'x',
    });
    expect(unknown.kind === 'page' && unknown.error?.code).toBe(50034);
  });

  it('shows AADSTS50057 on the page for a disabled user', async () => {
    const config = await webConfig();
    const result = await new FormBrowser(emu.handle.fetch).walk((await authorizeUrl(config)).url.href, {
      username: CONTOSO.luca.upn,
      password: CONTOSO.luca.password,
    });
    expect(result.kind === 'page' && result.error?.code).toBe(50057);
    expect(result.kind === 'page' && result.html).toMatch(
      /Request Id:[\s\S]*Correlation Id:[\s\S]*Timestamp:[\s\S]*Message:[\s\S]*AADSTS50057: The user account is disabled\./,
    );
  });

  it('redirects access_denied when the user cancels sign-in, and AADSTS65004 when consent is declined', async () => {
    const config = await webConfig();
    const { url, state } = await authorizeUrl(config);
    const cancelled = redirectOf(await new FormBrowser(emu.handle.fetch).walk(url.href, { cancelSignIn: true }));
    expect(Object.fromEntries(cancelled.searchParams)).toEqual({
      error: 'access_denied',
      error_description: 'the user canceled the authentication',
      state,
    });

    const second = await authorizeUrl(config);
    const declined = redirectOf(
      await new FormBrowser(emu.handle.fetch).walk(second.url.href, {
        username: CONTOSO.marco.upn,
        password: CONTOSO.marco.password,
        consent: 'cancel',
      }),
    );
    expect(declined.searchParams.get('error')).toBe('access_denied');
    expect(declined.searchParams.get('state')).toBe(second.state);
    expect(declined.searchParams.get('error_description')).toMatch(
      /^AADSTS65004: User declined to consent to access the app\.\r\nTrace ID: .+\r\nCorrelation ID: .+\r\nTimestamp: .+Z$/,
    );
    expect(declined.searchParams.get('error_uri')).toBe('https://login.microsoftonline.com/error?code=65004');
    await expect(
      client.authorizationCodeGrant(config, declined, {
        expectedState: second.state,
        pkceCodeVerifier: second.verifier,
      }),
    ).rejects.toMatchObject({
      error: 'access_denied',
    });
  });

  it('shows AADSTS50011 (redirect URI not registered) and AADSTS700016 (unknown app) on the page, never redirecting', async () => {
    const config = await webConfig();
    const bad = await authorizeUrl(config, { redirect_uri: 'https://evil.example/callback' });
    const page = await new FormBrowser(emu.handle.fetch).open(bad.url.href);
    expect(page.kind === 'page' && page.error?.code).toBe(50011);
    expect(page.kind === 'page' && page.error?.message).toMatch(
      /^AADSTS50011: The redirect URI 'https:\/\/evil\.example\/callback' specified in the request does not match/,
    );

    const unknown = new URL(bad.url);
    unknown.searchParams.set('client_id', '00000000-1111-4222-8333-444444444444');
    unknown.searchParams.set('redirect_uri', CONTOSO.web.redirectUri);
    const page2 = await new FormBrowser(emu.handle.fetch).open(unknown.href);
    expect(page2.kind === 'page' && page2.error?.code).toBe(700016);
  });

  it('redirects invalid_scope, AADSTS50194 for a single-tenant app on /common, and login_required for prompt=none', async () => {
    const config = await webConfig();
    const badScope = redirectOf(
      await new FormBrowser(emu.handle.fetch).open(
        (await authorizeUrl(config, { scope: 'https://outlook.office.com/Nope.Nothing' })).url.href,
      ),
    );
    expect(badScope.searchParams.get('error')).toBe('invalid_scope');
    expect(badScope.searchParams.get('error_description')).toMatch(/^AADSTS70011: /);

    const onCommon = new URL((await authorizeUrl(config)).url.href.replace(`/${CONTOSO.tenantId}/`, '/common/'));
    const common = redirectOf(await new FormBrowser(emu.handle.fetch).open(onCommon.href));
    expect(common.searchParams.get('error')).toBe('invalid_request');
    expect(common.searchParams.get('error_description')).toMatch(
      /^AADSTS50194: Application '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a01'\(Postern \(web\)\) is not configured as a multi-tenant application/,
    );

    const silent = redirectOf(
      await new FormBrowser(emu.handle.fetch).open((await authorizeUrl(config, { prompt: 'none' })).url.href),
    );
    expect(silent.searchParams.get('error')).toBe('login_required');
    expect(silent.searchParams.get('error_description')).toMatch(/^AADSTS50058: /);
  });
});

describe('authorization code redemption errors', () => {
  async function freshCode(extra: Record<string, string> = {}) {
    const config = await webConfig();
    const started = await authorizeUrl(config, extra);
    const callback = redirectOf(
      await new FormBrowser(emu.handle.fetch).walk(started.url.href, {
        username: CONTOSO.andrea.upn,
        password: CONTOSO.andrea.password,
      }),
    );
    return { ...started, code: callback.searchParams.get('code') ?? '' };
  }
  const redeem = (code: string, verifier: string, extra: Record<string, string> = {}) =>
    postToken(emu, {
      grant_type: 'authorization_code',
      client_id: CONTOSO.web.appId,
      client_secret: CONTOSO.web.secret,
      code,
      redirect_uri: CONTOSO.web.redirectUri,
      code_verifier: verifier,
      ...extra,
    });

  it('AADSTS54005: a code is single use', async () => {
    const { code, verifier } = await freshCode();
    expect((await redeem(code, verifier)).status).toBe(200);
    const second = await redeem(code, verifier);
    expect(second.status).toBe(400);
    expectAadError(second.body, 54005, 'invalid_grant');
  });

  it('AADSTS70008: a code expires after ten minutes of emulator time', async () => {
    const { code, verifier } = await freshCode();
    emu.handle.clock.advance(601_000);
    try {
      const late = await redeem(code, verifier);
      expectAadError(late.body, 70008, 'invalid_grant');
    } finally {
      emu.handle.clock.advance(-601_000);
    }
  });

  it('AADSTS501481: the PKCE verifier must match the challenge', async () => {
    const { code } = await freshCode();
    const wrong = await redeem(code, client.randomPKCECodeVerifier());
    expect(wrong.status).toBe(400);
    expectAadError(wrong.body, 501481, 'invalid_grant');
  });

  it('AADSTS500112: redirect_uri must be the one of the authorize request', async () => {
    const { code, verifier } = await freshCode();
    const wrong = await redeem(code, verifier, {
      redirect_uri: 'https://localhost/api/cloudProviders/oauth2/microsoft/callback',
    });
    expectAadError(wrong.body, 500112, 'invalid_grant');
  });

  it('AADSTS28003 for a scope sent empty, AADSTS28000 for a scope of two resources', async () => {
    const empty = await freshCode();
    const refused = await redeem(empty.code, empty.verifier, { scope: ' ' });
    expect(refused.status).toBe(400);
    expectAadError(refused.body, 28003, 'invalid_scope');
    const both = await freshCode();
    const mixed = await redeem(both.code, both.verifier, {
      scope: 'https://outlook.office.com/IMAP.AccessAsUser.All https://graph.microsoft.com/Mail.Read offline_access',
    });
    expect(mixed.status).toBe(400);
    expectAadError(mixed.body, 28000, 'invalid_scope');
  });

  it('AADSTS7000215 (wrong secret, 401), 7000222 (expired secret), 7000218 (no secret)', async () => {
    const a = await freshCode();
    const wrong = await redeem(a.code, a.verifier, { client_secret: 'c0ffee00-0000-4000-8000-000000000001' });
    expect(wrong.status).toBe(401);
    expectAadError(wrong.body, 7000215, 'invalid_client');
    const expired = await redeem(a.code, a.verifier, { client_secret: CONTOSO.web.expiredSecret });
    expect(expired.status).toBe(401);
    expectAadError(expired.body, 7000222, 'invalid_client');
    const none = await postToken(emu, {
      grant_type: 'authorization_code',
      client_id: CONTOSO.web.appId,
      code: a.code,
      redirect_uri: CONTOSO.web.redirectUri,
      code_verifier: a.verifier,
    });
    expect(none.status).toBe(401);
    expectAadError(none.body, 7000218, 'invalid_client');
  });

  it('accepts client_secret_basic (openid-client ClientSecretBasic)', async () => {
    const config = await discover(emu, CONTOSO.web.appId, client.ClientSecretBasic(CONTOSO.web.secret));
    const { url, verifier, state, nonce } = await authorizeUrl(config);
    const callback = redirectOf(
      await new FormBrowser(emu.handle.fetch).walk(url.href, {
        username: CONTOSO.andrea.upn,
        password: CONTOSO.andrea.password,
      }),
    );
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    expect(tokens.access_token.split('.')).toHaveLength(3);
  });

  it('AADSTS9002313 for a garbled code, AADSTS900144 for a missing parameter, AADSTS70003 for an unknown grant', async () => {
    const garbled = await redeem('1.Anot-a-real-code', 'x');
    expectAadError(garbled.body, 9002313, 'invalid_grant');
    const missing = await postToken(emu, {
      grant_type: 'authorization_code',
      client_id: CONTOSO.web.appId,
      client_secret: CONTOSO.web.secret,
    });
    expectAadError(missing.body, 900144, 'invalid_request');
    expect(missing.body.error_description).toMatch(/The request body must contain the following parameter: 'code'\./);
    const unknown = await postToken(emu, { grant_type: 'implicit', client_id: CONTOSO.web.appId });
    expectAadError(unknown.body, 70003, 'unsupported_grant_type');
  });

  it('AADSTS700016 for an unknown client and AADSTS90002 for an unknown tenant', async () => {
    const unknownApp = await postToken(emu, {
      grant_type: 'refresh_token',
      client_id: '00000000-1111-4222-8333-444444444444',
      refresh_token: 'x',
    });
    expectAadError(unknownApp.body, 700016, 'unauthorized_client');
    const unknownTenant = await postToken(
      emu,
      { grant_type: 'refresh_token', client_id: CONTOSO.web.appId, refresh_token: 'x' },
      { tenant: 'fabrikam.com' },
    );
    expectAadError(unknownTenant.body, 90002, 'invalid_request');
  });
});
