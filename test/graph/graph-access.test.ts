/**
 * Who may call the emulated Graph, with tokens from the emulator's own token endpoint: Graph
 * tokens by ROPC (public client), authorization code (web app, sign-in and consent pages walked
 * with fetch) and client credentials (daemon); every refusal in Graph's error body — no token, an
 * Exchange-audience token, an expired one, missing scopes, another user's mailbox without
 * delegation — and the shared-mailbox example: andrea reads developers@ with `.Shared` scopes and
 * her FullAccess, and is refused without them.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FormBrowser } from '../emulator/helpers/browser.js';
import { discover, EXCHANGE_SCOPES, type TestEmulator } from '../emulator/helpers/emulator.js';
import {
  appToken,
  collection,
  CONTOSO,
  deliver,
  expectGraphError,
  GraphClient,
  SHARED,
  startGraphEmulator,
  userToken,
} from './helpers/graph-emulator.js';

let emu: TestEmulator;
let andreaToken: string;

const NINA = { upn: 'nina@contoso.com', password: 'Nina#2025', id: 'a1b2c3d4-0009-4000-8000-00000000a009' };

beforeAll(async () => {
  emu = await startGraphEmulator();
  andreaToken = await userToken(emu, CONTOSO.andrea);
  await deliver(emu, { to: SHARED, subject: 'Build is red', text: 'Please look.' });
  // A user who consented to the profile only.
  await emu.control('POST', `/tenants/${CONTOSO.tenantId}/users`, {
    id: NINA.id,
    userPrincipalName: NINA.upn,
    displayName: 'Nina Sala',
    password: NINA.password,
  });
  await emu.control('POST', '/consents', {
    tenant: CONTOSO.tenantId,
    appId: CONTOSO.publicClient.appId,
    user: NINA.upn,
    scopes: ['https://graph.microsoft.com/User.Read'],
  });
});

afterAll(() => emu.stop());

describe('bearer tokens', () => {
  it('answers a call without a token with 401 InvalidAuthenticationToken and the Graph challenge', async () => {
    const response = await new GraphClient(emu, undefined).get('/me/messages');
    expectGraphError(response, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="", authorization_uri="https:\/\/login\.microsoftonline\.com\/common\/oauth2\/authorize", client_id="00000003-0000-0000-c000-000000000000"$/,
    );
  });

  it('refuses an Exchange-audience token: "Access token validation failure. Invalid audience."', async () => {
    const exchange = await userToken(emu, CONTOSO.andrea, EXCHANGE_SCOPES);
    expectGraphError(
      await new GraphClient(emu, exchange).get('/me/messages'),
      401,
      'InvalidAuthenticationToken',
      'Access token validation failure. Invalid audience.',
    );
  });

  it('refuses a malformed token and an expired one', async () => {
    expectGraphError(await new GraphClient(emu, 'not-a-jwt').get('/me/messages'), 401, 'InvalidAuthenticationToken');
    await emu.control('POST', '/clock', { advanceSeconds: 2 * 3600 });
    try {
      expectGraphError(
        await new GraphClient(emu, andreaToken).get('/me/messages'),
        401,
        'InvalidAuthenticationToken',
        'Lifetime validation failed, the token is expired.',
      );
    } finally {
      await emu.control('POST', '/clock', { reset: true });
    }
  });

  it('echoes client-request-id and puts request-id in the headers and innerError', async () => {
    const response = await new GraphClient(emu, andreaToken).get('/me/messages/AAMkbogus=', {
      'client-request-id': 'postern-test-1',
    });
    expectGraphError(response, 400, 'ErrorInvalidIdMalformed');
    expect(response.headers.get('client-request-id')).toBe('postern-test-1');
    expect(response.json).toMatchObject({ error: { innerError: { 'client-request-id': 'postern-test-1' } } });
  });
});

describe('permissions', () => {
  it('needs a Mail scope: a token with User.Read only gets 403 ErrorAccessDenied on mail, 200 on /me', async () => {
    const nina = new GraphClient(emu, await userToken(emu, NINA, 'https://graph.microsoft.com/User.Read'));
    expectGraphError(
      await nina.get('/me/mailFolders/inbox/messages'),
      403,
      'ErrorAccessDenied',
      'Access is denied. Check credentials and try again.',
    );
    expectGraphError(
      await nina.post('/me/sendMail', { message: { toRecipients: [{ emailAddress: { address: 'a@example.org' } }] } }),
      403,
      'ErrorAccessDenied',
    );
    const me = await nina.get('/me');
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({
      userPrincipalName: NINA.upn,
      id: NINA.id,
      displayName: 'Nina Sala',
      mail: NINA.upn,
    });
  });

  it('answers unknown users 404 ErrorInvalidUser and users without a mailbox MailboxNotEnabledForRESTAPI', async () => {
    const andrea = new GraphClient(emu, andreaToken);
    expectGraphError(
      await andrea.get('/users/nobody@contoso.com/messages'),
      404,
      'ErrorInvalidUser',
      "The requested user 'nobody@contoso.com' is invalid.",
    );
    expectGraphError(await andrea.get(`/users/${CONTOSO.admin.upn}/messages`), 404, 'MailboxNotEnabledForRESTAPI');
  });

  it('takes an authorization-code token of the web app (sign-in and consent walked with fetch)', async () => {
    const config = await discover(emu, CONTOSO.web.appId, client.ClientSecretPost(CONTOSO.web.secret));
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: CONTOSO.web.redirectUri,
      scope: 'https://graph.microsoft.com/Mail.ReadWrite https://graph.microsoft.com/Mail.Send offline_access openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const walked = await new FormBrowser(emu.handle.fetch).walk(url.href, {
      username: CONTOSO.marco.upn,
      password: CONTOSO.marco.password,
    });
    if (walked.kind !== 'redirect') throw new Error(`sign-in did not redirect: ${walked.kind}`);
    const tokens = await client.authorizationCodeGrant(config, walked.location, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    const graph = new GraphClient(emu, tokens.access_token);
    const folders = collection(await graph.get('/me/mailFolders'));
    expect(folders.value.map((f) => f.displayName)).toContain('Inbox');
    // The refresh token mints the next Graph token, which works the same.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token ?? '');
    expect((await new GraphClient(emu, refreshed.access_token).get('/me/mailFolders/inbox')).status).toBe(200);
  });

  it('lets an app-only token read any mailbox of the tenant but not /me', async () => {
    const daemon = new GraphClient(emu, await appToken(emu));
    expectGraphError(
      await daemon.get('/me/messages'),
      400,
      'BadRequest',
      '/me request is only valid with delegated authentication flow.',
    );
    const shared = collection(await daemon.get(`/users/${SHARED}/mailFolders/inbox/messages?$select=subject`));
    expect(shared.value.map((m) => m.subject)).toContain('Build is red');
  });
});

describe('shared mailbox developers@ (delegate andrea@)', () => {
  const sharedInbox = `/users/${SHARED}/mailFolders('Inbox')/messages?$select=subject`;

  it('andrea reads it with Mail.ReadWrite.Shared and her FullAccess, and marks a message read', async () => {
    const andrea = new GraphClient(emu, andreaToken);
    const page = collection(await andrea.get(sharedInbox));
    expect(page['@odata.context']).toContain(
      `users('developers%40contoso.com')/mailFolders('Inbox')/messages(subject)`,
    );
    const message = page.value.find((m) => m.subject === 'Build is red');
    expect(message).toBeDefined();
    const patched = await andrea.patch(`/users/${SHARED}/messages/${String(message?.id)}`, { isRead: true });
    expect(patched.json).toMatchObject({ isRead: true });
  });

  it('marco (no .Shared scope, no delegation) is refused; so is marco with FullAccess but no .Shared scope', async () => {
    const marco = new GraphClient(emu, await userToken(emu, CONTOSO.marco));
    expectGraphError(
      await marco.get(sharedInbox),
      403,
      'ErrorAccessDenied',
      'Access is denied. Check credentials and try again.',
    );
    await emu.control('POST', `/mailboxes/${SHARED}/delegates`, { user: CONTOSO.marco.upn, rights: ['FullAccess'] });
    try {
      expectGraphError(await marco.get(sharedInbox), 403, 'ErrorAccessDenied');
    } finally {
      await emu.control('DELETE', `/mailboxes/${SHARED}/delegates/${CONTOSO.marco.upn}?rights=FullAccess`);
    }
  });

  it('andrea is refused once her delegation is removed, for reading and for sending as developers@', async () => {
    await emu.control('DELETE', `/mailboxes/${SHARED}/delegates/${CONTOSO.andrea.upn}`);
    try {
      const andrea = new GraphClient(emu, andreaToken);
      expectGraphError(await andrea.get(sharedInbox), 403, 'ErrorAccessDenied');
      const send = await andrea.post('/me/sendMail', {
        message: {
          subject: 'x',
          from: { emailAddress: { address: SHARED } },
          toRecipients: [{ emailAddress: { address: 'customer@example.org' } }],
        },
      });
      expectGraphError(send, 403, 'ErrorSendAsDenied');
    } finally {
      await emu.control('POST', `/mailboxes/${SHARED}/delegates`, { user: CONTOSO.andrea.upn });
    }
    const restored = collection(await new GraphClient(emu, andreaToken).get(sharedInbox));
    expect(restored.value.length).toBeGreaterThan(0);
  });
});

describe('profile', () => {
  it('GET /me returns the signed-in user', async () => {
    const me = await new GraphClient(emu, andreaToken).get('/me');
    expect(me.status).toBe(200);
    expect(z.object({ userPrincipalName: z.string(), id: z.string() }).parse(me.json)).toEqual({
      userPrincipalName: CONTOSO.andrea.upn,
      id: CONTOSO.andrea.id,
    });
  });
});
