/**
 * Refresh tokens: rotation with openid-client, the 90-day inactivity window on the emulator
 * clock (AADSTS700082; daily use keeps a chain alive), revocation (50173), password change for
 * public clients (50133), Conditional Access sign-in frequency (70043), one resource per token
 * (28000), withdrawn consent (65001), SPA lifetime (700084) and cross-origin redemption (9002327).
 */
import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../emulator/clock.js';
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
let config: client.Configuration;
let initialSeed: unknown;

beforeAll(async () => {
  emu = await startTestEmulator();
  config = await discover(emu, CONTOSO.web.appId, client.ClientSecretPost(CONTOSO.web.secret));
  initialSeed = await emu.control('GET', '/seed');
});
afterAll(async () => {
  await emu.stop();
});
afterEach(async () => {
  emu.handle.clock.reset();
  await emu.control('PUT', '/seed', initialSeed);
});

/** Signs `who` in through the web app and returns the first token response. */
async function signIn(who: { upn: string; password: string } = CONTOSO.andrea, scope = EXCHANGE_SCOPES) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CONTOSO.web.redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const result = await new FormBrowser(emu.handle.fetch).walk(url.href, { username: who.upn, password: who.password });
  if (result.kind !== 'redirect') throw new Error(`sign-in did not redirect: ${result.kind}`);
  return client.authorizationCodeGrant(config, result.location, { pkceCodeVerifier: verifier, expectedState: state });
}

/** A refresh without `openid` in scope: no ID token, so openid-client's own clock does not matter. */
const exchangeOnly = { scope: 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access' };

function refreshRaw(refreshToken: string, extra: Record<string, string> = {}) {
  return postToken(emu, {
    grant_type: 'refresh_token',
    client_id: CONTOSO.web.appId,
    client_secret: CONTOSO.web.secret,
    refresh_token: refreshToken,
    ...extra,
  });
}

describe('refresh tokens', () => {
  it('rotate: every refresh returns a new refresh token and the old one keeps working', async () => {
    const first = await signIn();
    const rt1 = first.refresh_token ?? '';
    const second = await client.refreshTokenGrant(config, rt1);
    expect(second.refresh_token).toBeDefined();
    expect(second.refresh_token).not.toBe(rt1);
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.claims()?.oid).toBe(CONTOSO.andrea.id);
    const third = await client.refreshTokenGrant(config, rt1, exchangeOnly);
    expect(third.refresh_token).not.toBe(second.refresh_token);
    expect(third.id_token).toBeUndefined();
  });

  it('count redemptions per chain: each sign-in a chain, kept through rotation, a second refresh of it counted', async () => {
    await emu.control('DELETE', '/refresh-redemptions');
    const summary = () => emu.control('GET', '/refresh-redemptions');
    const one = await signIn();
    const two = await signIn();
    const rotated = await client.refreshTokenGrant(config, one.refresh_token ?? '', exchangeOnly);
    await client.refreshTokenGrant(config, two.refresh_token ?? '', exchangeOnly);
    expect(await summary()).toEqual({
      chains: 2,
      redemptions: 2,
      repeatedChains: 0,
      extraRedemptions: 0,
      maxPerChain: 1,
    });
    // The rotated token continues the first sign-in's chain: refreshing it again is a second redemption.
    await client.refreshTokenGrant(config, rotated.refresh_token ?? '', exchangeOnly);
    expect(await summary()).toMatchObject({ chains: 2, redemptions: 3, repeatedChains: 1, extraRedemptions: 1 });
    // A refused redemption is not counted.
    expect((await refreshRaw('1.AVEAgarbage', exchangeOnly)).status).toBe(400);
    expect(await summary()).toMatchObject({ redemptions: 3 });
  });

  it('mint a Graph token from the same refresh token, with the Graph audience', async () => {
    const first = await signIn(CONTOSO.andrea, `${EXCHANGE_SCOPES} https://graph.microsoft.com/Mail.ReadWrite`);
    const graph = await client.refreshTokenGrant(config, first.refresh_token ?? '', {
      scope: 'https://graph.microsoft.com/Mail.ReadWrite offline_access',
    });
    const facts = emu.handle.identity.introspectAccessToken(graph.access_token);
    expect(facts).toMatchObject({ valid: true, audience: 'graph', aud: 'https://graph.microsoft.com' });
    expect(facts.valid && facts.scopes).toEqual(['Mail.ReadWrite']);
    const exchange = emu.handle.identity.introspectAccessToken(first.access_token);
    expect(exchange).toMatchObject({ valid: true, audience: 'exchange' });
  });

  it('AADSTS28000 when the scope names two resources', async () => {
    const first = await signIn(CONTOSO.andrea, `${EXCHANGE_SCOPES} https://graph.microsoft.com/Mail.ReadWrite`);
    const both = await refreshRaw(first.refresh_token ?? '', {
      scope: 'https://outlook.office.com/IMAP.AccessAsUser.All https://graph.microsoft.com/Mail.ReadWrite',
    });
    expect(both.status).toBe(400);
    expectAadError(both.body, 28000, 'invalid_scope');
  });

  it('AADSTS700082 after 91 days without use', async () => {
    const first = await signIn();
    emu.handle.clock.advance(91 * DAY_MS);
    const late = await refreshRaw(first.refresh_token ?? '', exchangeOnly);
    expect(late.status).toBe(400);
    const body = expectAadError(late.body, 700082, 'invalid_grant');
    expect(body.error_description).toMatch(
      /The refresh token has expired due to inactivity\. The token was issued on \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z and was inactive for 90\.00:00:00\./,
    );
    await expect(client.refreshTokenGrant(config, first.refresh_token ?? '', exchangeOnly)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('stays alive for 120 days when used (and rotated) every day; the first token dies at day 90', async () => {
    const first = await signIn();
    let current = first.refresh_token ?? '';
    for (let day = 1; day <= 120; day += 1) {
      emu.handle.clock.advance(DAY_MS);
      const next = await client.refreshTokenGrant(config, current, exchangeOnly);
      current = next.refresh_token ?? '';
      expect(current).not.toBe('');
    }
    expectAadError((await refreshRaw(first.refresh_token ?? '', exchangeOnly)).body, 700082, 'invalid_grant');
  });

  it('AADSTS50173 after the user’s sessions are revoked; a new sign-in works again', async () => {
    const first = await signIn();
    emu.handle.clock.advance(1000);
    await emu.control('POST', `/users/${CONTOSO.andrea.upn}/revoke-sessions`);
    const revoked = await refreshRaw(first.refresh_token ?? '', exchangeOnly);
    const body = expectAadError(revoked.body, 50173, 'invalid_grant');
    expect(body.error_description).toMatch(
      /The grant was issued on '.+' and the TokensValidFrom date \(before which tokens are not valid\) for this user is '.+'\./,
    );
    // The access token already issued lives on until it expires (no continuous access evaluation).
    expect(emu.handle.identity.introspectAccessToken(first.access_token)).toMatchObject({ valid: true });
    emu.handle.clock.advance(1000);
    const again = await signIn();
    expect((await refreshRaw(again.refresh_token ?? '', exchangeOnly)).status).toBe(200);
  });

  it('AADSTS50133 for a public client after a password change; a confidential client survives it', async () => {
    const ropc = await postToken(emu, {
      grant_type: 'password',
      client_id: CONTOSO.publicClient.appId,
      username: CONTOSO.andrea.upn,
      password: CONTOSO.andrea.password,
      scope: EXCHANGE_SCOPES,
    });
    const web = await signIn();
    emu.handle.clock.advance(1000);
    await emu.control('POST', `/users/${CONTOSO.andrea.upn}/password`, { password: 'New#Passw0rd' });
    const publicRefresh = await postToken(emu, {
      grant_type: 'refresh_token',
      client_id: CONTOSO.publicClient.appId,
      refresh_token: String(ropc.body.refresh_token),
    });
    expectAadError(publicRefresh.body, 50133, 'invalid_grant');
    expect((await refreshRaw(web.refresh_token ?? '', exchangeOnly)).status).toBe(200);
    await emu.control('POST', `/users/${CONTOSO.andrea.upn}/password`, {
      password: 'Newer#Passw0rd',
      revokeAllSessions: true,
    });
    expectAadError((await refreshRaw(web.refresh_token ?? '', exchangeOnly)).body, 50173, 'invalid_grant');
  });

  it('AADSTS70043 when the sign-in frequency policy is exceeded', async () => {
    await emu.control('PATCH', `/tenants/${CONTOSO.domain}`, { signInFrequencySeconds: 86_400 });
    const first = await signIn();
    emu.handle.clock.advance(86_401_000);
    const body = expectAadError(
      (await refreshRaw(first.refresh_token ?? '', exchangeOnly)).body,
      70043,
      'invalid_grant',
    );
    expect(body.suberror).toBe('token_expired');
    expect(body.error_description).toMatch(/the maximum allowed lifetime for this request is 86400\./);
  });

  it('AADSTS65001 (consent_required) once consent is revoked', async () => {
    const first = await signIn();
    await emu.control('POST', '/consents/revoke', { tenant: CONTOSO.domain, appId: CONTOSO.web.appId, user: 'all' });
    const body = expectAadError(
      (await refreshRaw(first.refresh_token ?? '', exchangeOnly)).body,
      65001,
      'invalid_grant',
    );
    expect(body.suberror).toBe('consent_required');
  });

  it('AADSTS50057 for a disabled user, 9002313 for a truncated token, 70000 for another client’s token', async () => {
    const first = await signIn();
    const rt = first.refresh_token ?? '';
    expectAadError((await refreshRaw(rt.slice(0, 60), exchangeOnly)).body, 9002313, 'invalid_grant');
    const other = await postToken(emu, {
      grant_type: 'refresh_token',
      client_id: CONTOSO.publicClient.appId,
      refresh_token: rt,
    });
    expectAadError(other.body, 70000, 'invalid_grant');
    await emu.control('PATCH', `/users/${CONTOSO.andrea.upn}`, { disabled: true });
    expectAadError((await refreshRaw(rt, exchangeOnly)).body, 50057, 'invalid_grant');
  });

  it('AADSTS50076 when MFA becomes required after the refresh token was issued', async () => {
    const first = await signIn(CONTOSO.marco);
    await emu.control('PATCH', `/users/${CONTOSO.marco.upn}`, { mfaRequired: true });
    const body = expectAadError(
      (await refreshRaw(first.refresh_token ?? '', exchangeOnly)).body,
      50076,
      'invalid_grant',
    );
    expect(body.suberror).toBe('basic_action');
    expect(body.error_description).toContain("to access '00000002-0000-0ff1-ce00-000000000000'");
  });

  it('SPA redirect URIs: AADSTS9002327 without Origin, AADSTS700084 after 24 hours', async () => {
    await emu.control('PATCH', `/apps/${CONTOSO.publicClient.appId}`, {
      redirectUris: { spa: ['https://localhost:3000/spa'] },
    });
    const spa = await discover(emu, CONTOSO.publicClient.appId, client.None());
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(spa, {
      redirect_uri: 'https://localhost:3000/spa',
      scope: EXCHANGE_SCOPES,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const result = await new FormBrowser(emu.handle.fetch).walk(url.href, {
      username: CONTOSO.andrea.upn,
      password: CONTOSO.andrea.password,
    });
    if (result.kind !== 'redirect') throw new Error('no redirect');
    const code = result.location.searchParams.get('code') ?? '';
    const params = {
      grant_type: 'authorization_code',
      client_id: CONTOSO.publicClient.appId,
      code,
      redirect_uri: 'https://localhost:3000/spa',
      code_verifier: verifier,
    };
    expectAadError((await postToken(emu, params)).body, 9002327, 'invalid_request');
    const origin = { origin: 'https://localhost:3000' };
    const tokens = await postToken(emu, params, { headers: origin });
    expect(tokens.status).toBe(200);
    emu.handle.clock.advance(DAY_MS + 1000);
    const late = await postToken(
      emu,
      {
        grant_type: 'refresh_token',
        client_id: CONTOSO.publicClient.appId,
        refresh_token: String(tokens.body.refresh_token),
      },
      { headers: origin },
    );
    expectAadError(late.body, 700084, 'invalid_grant');
  });
});
