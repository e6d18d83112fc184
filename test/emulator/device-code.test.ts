/**
 * The device authorization grant with openid-client: the user code typed on the emulator's
 * `/devicelogin` page (fetch + form parsing), and the polling errors `authorization_pending`,
 * AADSTS50196 (Entra's loop detection, where RFC 8628 says `slow_down`), `authorization_declined`,
 * `expired_token`, `bad_verification_code`.
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
let config: client.Configuration;

beforeAll(async () => {
  emu = await startTestEmulator({ identity: { deviceCodeIntervalSeconds: 0.05 } });
  config = await discover(emu, CONTOSO.publicClient.appId, client.None());
});
afterAll(async () => {
  await emu.stop();
});

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

function poll(deviceCode: string, clientId: string = CONTOSO.publicClient.appId) {
  return postToken(emu, { grant_type: DEVICE_GRANT, client_id: clientId, device_code: deviceCode });
}

describe('device code flow', () => {
  it('openid-client polls while the user enters the code on /devicelogin and signs in', async () => {
    const start = await client.initiateDeviceAuthorization(config, { scope: EXCHANGE_SCOPES });
    expect(start.verification_uri).toBe(`${emu.base}/devicelogin`);
    expect(start.verification_uri_complete).toBeUndefined();
    expect(start.expires_in).toBe(900);
    expect(start.user_code).toMatch(/^[A-Z0-9]{9}$/);
    expect(start.message).toBe(
      `To sign in, use a web browser to open the page ${emu.base}/devicelogin and enter the code ${start.user_code} to authenticate.`,
    );

    const since = emu.handle.requestLog.lastSeq;
    const polling = client.pollDeviceAuthorizationGrant(config, start);
    // Let the client poll at least once before the user finishes (a few 50 ms intervals at most).
    while (
      !emu.handle.requestLog
        .list({ endpoint: 'token', sinceSeq: since })
        .some((e) => e.error === 'authorization_pending')
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const browser = new FormBrowser(emu.handle.fetch);
    const page = await browser.walk(start.verification_uri, {
      userCode: start.user_code.toLowerCase(),
      username: CONTOSO.marco.upn,
      password: CONTOSO.marco.password,
    });
    expect(page.kind === 'page' && page.html).toContain(
      'You have signed in to the Postern (public client) application on your device.',
    );
    const tokens = await polling;
    expect(tokens.refresh_token).toBeDefined();
    expect(tokens.claims()?.preferred_username).toBe(CONTOSO.marco.upn);
    const facts = emu.handle.identity.introspectAccessToken(tokens.access_token);
    expect(facts).toMatchObject({
      valid: true,
      audience: 'exchange',
      userId: CONTOSO.marco.id,
      appId: CONTOSO.publicClient.appId,
    });
    expect(facts.valid && facts.claims.appidacr).toBe('0');

    const pending = emu.handle.requestLog
      .list({ endpoint: 'token', grantType: DEVICE_GRANT })
      .filter((e) => e.error === 'authorization_pending');
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.every((e) => e.params.device_code === '[redacted]')).toBe(true);
  });

  it('authorization_pending (AADSTS70016), then a request loop (AADSTS50196) when polled faster than the interval', async () => {
    const start = await client.initiateDeviceAuthorization(config, { scope: EXCHANGE_SCOPES });
    const first = await poll(start.device_code);
    expect(first.status).toBe(400);
    expectAadError(first.body, 70016, 'authorization_pending');
    // Step the emulator clock back so that the next poll is "too soon" however slow the machine is.
    emu.handle.clock.advance(-1000);
    try {
      const second = await poll(start.device_code);
      expectAadError(second.body, 50196, 'invalid_request');
      expect(second.status).toBe(400);
    } finally {
      emu.handle.clock.advance(1000);
    }
  });

  it('authorization_declined when the user cancels on the page', async () => {
    const start = await client.initiateDeviceAuthorization(config, { scope: EXCHANGE_SCOPES });
    const page = await new FormBrowser(emu.handle.fetch).walk(start.verification_uri, {
      userCode: start.user_code,
      cancelSignIn: true,
    });
    expect(page.kind === 'page' && page.html).toContain('You have declined to sign in');
    expectAadError((await poll(start.device_code)).body, 70000, 'authorization_declined');
    await expect(client.pollDeviceAuthorizationGrant(config, start)).rejects.toMatchObject({
      error: 'authorization_declined',
    });
  });

  it('expired_token (AADSTS70019) after 15 minutes of emulator time', async () => {
    const start = await client.initiateDeviceAuthorization(config, { scope: EXCHANGE_SCOPES });
    emu.handle.clock.advance(901_000);
    try {
      expectAadError((await poll(start.device_code)).body, 70019, 'expired_token');
      const page = await new FormBrowser(emu.handle.fetch).walk(start.verification_uri, { userCode: start.user_code });
      expect(page.kind === 'page' && page.error?.code).toBe(70018);
    } finally {
      emu.handle.clock.advance(-901_000);
    }
  });

  it('bad_verification_code (AADSTS70018) for an unknown device code; a wrong user code is refused on the page', async () => {
    expectAadError((await poll('DAQABIQEAAABnot-a-device-code')).body, 70018, 'bad_verification_code');
    const page = await new FormBrowser(emu.handle.fetch).walk(`${emu.base}/devicelogin`, { userCode: 'WRONGCODE' });
    expect(page.kind === 'page' && page.error?.code).toBe(70018);
  });

  it('AADSTS7000218 when the app does not allow public client flows and sends no secret', async () => {
    const start = await postToken(
      emu,
      { client_id: CONTOSO.web.appId, scope: EXCHANGE_SCOPES },
      { path: 'devicecode' },
    );
    expect(start.status).toBe(200);
    const deviceCode = String(start.body.device_code);
    const browser = new FormBrowser(emu.handle.fetch);
    await browser.walk(String(start.body.verification_uri), {
      userCode: String(start.body.user_code),
      username: CONTOSO.andrea.upn,
      password: CONTOSO.andrea.password,
    });
    const polled = await poll(deviceCode, CONTOSO.web.appId);
    expect(polled.status).toBe(401);
    expectAadError(polled.body, 7000218, 'invalid_client');
  });

  it('AADSTS700022 at /devicecode when the scopes span two resources', async () => {
    const start = await postToken(
      emu,
      {
        client_id: CONTOSO.publicClient.appId,
        scope: 'https://outlook.office.com/IMAP.AccessAsUser.All https://graph.microsoft.com/Mail.Read',
      },
      { path: 'devicecode' },
    );
    expectAadError(start.body, 700022, 'invalid_scope');
  });
});
