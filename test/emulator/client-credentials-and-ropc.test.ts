/**
 * App-only client credentials and ROPC (password) with openid-client, and their errors.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('client credentials', () => {
  it('issues an app-only Exchange token with the admin-consented roles and no refresh token', async () => {
    const config = await discover(emu, CONTOSO.daemon.appId, client.ClientSecretPost(CONTOSO.daemon.secret));
    const tokens = await client.clientCredentialsGrant(config, { scope: 'https://outlook.office365.com/.default' });
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.id_token).toBeUndefined();
    expect(tokens.scope).toBeUndefined();
    const facts = emu.handle.identity.introspectAccessToken(tokens.access_token);
    expect(facts).toMatchObject({ valid: true, audience: 'exchange', appId: CONTOSO.daemon.appId, scopes: [] });
    expect(facts.valid && facts.roles.sort()).toEqual(['IMAP.AccessAsApp', 'SMTP.SendAsApp']);
    expect(facts.valid && facts.userId).toBeUndefined();
    expect(facts.valid && facts.claims.idtyp).toBe('app');

    const graph = await client.clientCredentialsGrant(config, { scope: 'https://graph.microsoft.com/.default' });
    const graphFacts = emu.handle.identity.introspectAccessToken(graph.access_token);
    expect(graphFacts.valid && graphFacts.roles.sort()).toEqual(['Mail.ReadWrite', 'Mail.Send']);
  });

  it('gives the token the audience the scope named: outlook.office365.com, outlook.office.com, ps.outlook.com, Graph', async () => {
    const audOf = async (scope: string): Promise<unknown> => {
      const tokens = await postToken(emu, {
        grant_type: 'client_credentials',
        client_id: CONTOSO.daemon.appId,
        client_secret: CONTOSO.daemon.secret,
        scope,
      });
      expect(tokens.status).toBe(200);
      const facts = emu.handle.identity.introspectAccessToken(String(tokens.body.access_token));
      return facts.valid ? [facts.aud, facts.audience] : facts;
    };
    expect(await audOf('https://outlook.office365.com/.default')).toEqual([
      'https://outlook.office365.com',
      'exchange',
    ]);
    expect(await audOf('https://outlook.office.com/.default')).toEqual(['https://outlook.office.com', 'exchange']);
    expect(await audOf('https://ps.outlook.com/.default')).toEqual(['https://ps.outlook.com', 'exchange']);
    expect(await audOf('00000002-0000-0ff1-ce00-000000000000/.default')).toEqual([
      'https://outlook.office.com',
      'exchange',
    ]);
    expect(await audOf('https://graph.microsoft.com/.default')).toEqual(['https://graph.microsoft.com', 'graph']);
  });

  it('issues a token without roles when admin consent is missing', async () => {
    const tokens = await postToken(emu, {
      grant_type: 'client_credentials',
      client_id: CONTOSO.web.appId,
      client_secret: CONTOSO.web.secret,
      scope: 'https://outlook.office365.com/.default',
    });
    expect(tokens.status).toBe(200);
    const facts = emu.handle.identity.introspectAccessToken(String(tokens.body.access_token));
    expect(facts.valid && facts.roles).toEqual([]);
  });

  it('AADSTS1002012 without /.default, 28000 for two resources, 500011 for an unknown resource, 9001023 on /common', async () => {
    const base = {
      grant_type: 'client_credentials',
      client_id: CONTOSO.daemon.appId,
      client_secret: CONTOSO.daemon.secret,
    };
    expectAadError(
      (await postToken(emu, { ...base, scope: 'https://outlook.office.com/IMAP.AccessAsUser.All' })).body,
      70011,
      'invalid_scope',
    );
    expectAadError(
      (await postToken(emu, { ...base, scope: 'https://outlook.office.com/IMAP.AccessAsApp' })).body,
      1002012,
      'invalid_scope',
    );
    expectAadError(
      (
        await postToken(emu, {
          ...base,
          scope: 'https://outlook.office365.com/.default https://graph.microsoft.com/.default',
        })
      ).body,
      28000,
      'invalid_scope',
    );
    expectAadError(
      (await postToken(emu, { ...base, scope: 'https://example.org/.default' })).body,
      500011,
      'invalid_resource',
    );
    await emu.control('PATCH', `/apps/${CONTOSO.daemon.appId}`, { signInAudience: 'AzureADMultipleOrgs' });
    try {
      expectAadError(
        (await postToken(emu, { ...base, scope: 'https://outlook.office365.com/.default' }, { tenant: 'common' })).body,
        9001023,
        'invalid_request',
      );
    } finally {
      await emu.control('PATCH', `/apps/${CONTOSO.daemon.appId}`, { signInAudience: 'AzureADMyOrg' });
    }
  });

  it('AADSTS7000222 once the secret expires on the emulator clock, and works again with a new secret', async () => {
    const created = await emu.control('POST', `/apps/${CONTOSO.daemon.appId}/secrets`, {
      expiresAt: new Date(emu.handle.clock.nowMs() + 86_400_000).toISOString(),
    });
    const value = typeof created === 'object' && created !== null && 'value' in created ? String(created.value) : '';
    const params = {
      grant_type: 'client_credentials',
      client_id: CONTOSO.daemon.appId,
      client_secret: value,
      scope: 'https://outlook.office365.com/.default',
    };
    expect((await postToken(emu, params)).status).toBe(200);
    emu.handle.clock.advance(2 * 86_400_000);
    try {
      const expired = await postToken(emu, params);
      expect(expired.status).toBe(401);
      expectAadError(expired.body, 7000222, 'invalid_client');
      expect((await postToken(emu, { ...params, client_secret: CONTOSO.daemon.secret })).status).toBe(200);
    } finally {
      emu.handle.clock.reset();
    }
  });
});

describe('ROPC (password grant)', () => {
  const ropc = async (username: string, password: string) => {
    const config = await discover(emu, CONTOSO.publicClient.appId, client.None());
    return client.genericGrantRequest(config, 'password', { username, password, scope: EXCHANGE_SCOPES });
  };

  it('openid-client obtains Exchange tokens for a public client with "allow public client flows"', async () => {
    const tokens = await ropc(CONTOSO.andrea.upn, CONTOSO.andrea.password);
    expect(tokens.refresh_token).toBeDefined();
    expect(tokens.claims()?.oid).toBe(CONTOSO.andrea.id);
    const facts = emu.handle.identity.introspectAccessToken(tokens.access_token);
    expect(facts.valid && facts.scopes.sort()).toEqual(['IMAP.AccessAsUser.All', 'SMTP.Send']);
  });

  it('AADSTS50126 for a bad password, 50076 when MFA is required, 50057 for a disabled user, 50034 for an unknown user', async () => {
    const grant = (username: string, password: string) =>
      postToken(emu, {
        grant_type: 'password',
        client_id: CONTOSO.publicClient.appId,
        username,
        password,
        scope: EXCHANGE_SCOPES,
      });
    expectAadError((await grant(CONTOSO.andrea.upn, 'wrong')).body, 50126, 'invalid_grant');
    expectAadError((await grant(CONTOSO.andrea.upn, `${CONTOSO.andrea.password} `)).body, 50126, 'invalid_grant');
    const mfa = expectAadError((await grant(CONTOSO.giulia.upn, CONTOSO.giulia.password)).body, 50076, 'invalid_grant');
    expect(mfa.suberror).toBe('basic_action');
    expectAadError((await grant(CONTOSO.luca.upn, CONTOSO.luca.password)).body, 50057, 'invalid_grant');
    expectAadError((await grant('ghost@contoso.com', 'x')).body, 50034, 'invalid_grant');
    await expect(ropc(CONTOSO.andrea.upn, 'wrong')).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('AADSTS7000218 for a confidential app without secret, 700025 for a public client sending one', async () => {
    const confidential = await postToken(emu, {
      grant_type: 'password',
      client_id: CONTOSO.web.appId,
      username: CONTOSO.andrea.upn,
      password: CONTOSO.andrea.password,
      scope: EXCHANGE_SCOPES,
    });
    expect(confidential.status).toBe(401);
    expectAadError(confidential.body, 7000218, 'invalid_client');
    const publicWithSecret = await postToken(emu, {
      grant_type: 'password',
      client_id: CONTOSO.publicClient.appId,
      client_secret: 'anything-at-all',
      username: CONTOSO.andrea.upn,
      password: CONTOSO.andrea.password,
      scope: EXCHANGE_SCOPES,
    });
    expect(publicWithSecret.status).toBe(401);
    expectAadError(publicWithSecret.body, 700025, 'invalid_client');
  });

  it('AADSTS65001 without prior consent (no UI to ask); on /common 9001023 (multi-tenant app) or 50194 (single-tenant)', async () => {
    const noConsent = await postToken(emu, {
      grant_type: 'password',
      client_id: CONTOSO.web.appId,
      client_secret: CONTOSO.web.secret,
      username: CONTOSO.marco.upn,
      password: CONTOSO.marco.password,
      scope: EXCHANGE_SCOPES,
    });
    expectAadError(noConsent.body, 65001, 'invalid_grant');
    await emu.control('POST', '/consents', {
      tenant: CONTOSO.domain,
      appId: CONTOSO.web.appId,
      user: CONTOSO.marco.upn,
      scopes: EXCHANGE_SCOPES.split(' '),
    });
    const consented = await postToken(emu, {
      grant_type: 'password',
      client_id: CONTOSO.web.appId,
      client_secret: CONTOSO.web.secret,
      username: CONTOSO.marco.upn,
      password: CONTOSO.marco.password,
      scope: 'https://outlook.office365.com/IMAP.AccessAsUser.All offline_access',
    });
    expect(consented.status).toBe(200);
    // Entra echoes the identifier the scope used as the audience (issue 15, point 8).
    expect(emu.handle.identity.introspectAccessToken(String(consented.body.access_token))).toMatchObject({
      valid: true,
      aud: 'https://outlook.office365.com',
      audience: 'exchange',
    });
    const onCommon = () =>
      postToken(
        emu,
        {
          grant_type: 'password',
          client_id: CONTOSO.publicClient.appId,
          username: CONTOSO.andrea.upn,
          password: CONTOSO.andrea.password,
          scope: EXCHANGE_SCOPES,
        },
        { tenant: 'common' },
      );
    expectAadError((await onCommon()).body, 50194, 'invalid_request');
    await emu.control('PATCH', `/apps/${CONTOSO.publicClient.appId}`, { signInAudience: 'AzureADMultipleOrgs' });
    try {
      expectAadError((await onCommon()).body, 9001023, 'invalid_request');
    } finally {
      await emu.control('PATCH', `/apps/${CONTOSO.publicClient.appId}`, { signInAudience: 'AzureADMyOrg' });
    }
  });
});

describe('configuration', () => {
  it('draws delegated expires_in from the configured range, keeps app-only tokens at 3,599 s, and serves plain http when asked', async () => {
    const other = await startTestEmulator({
      identity: { accessTokenLifetimeSeconds: { min: 600, max: 600 } },
      httpPort: 0,
    });
    try {
      const delegated = await postToken(other, {
        grant_type: 'password',
        client_id: CONTOSO.publicClient.appId,
        username: CONTOSO.andrea.upn,
        password: CONTOSO.andrea.password,
        scope: EXCHANGE_SCOPES,
      });
      expect(delegated.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, ext_expires_in: 600 });
      // Entra's client-credentials answer is always 3599: a fixed lifetime, not drawn from a range.
      const appOnly = await postToken(other, {
        grant_type: 'client_credentials',
        client_id: CONTOSO.daemon.appId,
        client_secret: CONTOSO.daemon.secret,
        scope: 'https://graph.microsoft.com/.default',
      });
      expect(appOnly.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
      const facts = other.handle.identity.introspectAccessToken(String(appOnly.body.access_token));
      const secondsLeft = facts.valid
        ? Math.ceil((facts.expiresAt.getTime() - other.handle.clock.now().getTime()) / 1000)
        : 0;
      expect(secondsLeft).toBe(3599);
      const plain = await fetch(`${other.handle.urls.http}/${CONTOSO.tenantId}/v2.0/.well-known/openid-configuration`);
      expect(await plain.json()).toMatchObject({ issuer: `${other.handle.urls.http}/${CONTOSO.tenantId}/v2.0` });
    } finally {
      await other.stop();
    }
  });
});
