/**
 * Issue 15, point 5: Entra's revocation timeline. Revoking a user's sessions kills the refresh
 * tokens at once (the next refresh answers AADSTS50173), while the access tokens already issued
 * keep working for IMAP, SMTP and Graph until they expire — no continuous access evaluation.
 * With the tenant's `continuousAccessEvaluation` switched on, the resources refuse them at once.
 * Real clients over loopback TLS: imapflow (XOAUTH2), nodemailer (XOAUTH2 after STARTTLS), fetch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EXCHANGE_SCOPES, postToken, type TestEmulator } from './helpers/emulator.js';
import { imapClient, smtpTransport, type ExchangeEmulator } from '../exchange/helpers/emulator-exchange.js';
import { CONTOSO, GraphClient, startGraphEmulator } from '../graph/helpers/graph-emulator.js';

const ANDREA = CONTOSO.andrea;
const GRAPH_SCOPE = 'https://graph.microsoft.com/Mail.ReadWrite offline_access';

let emu: TestEmulator;
let exchange: ExchangeEmulator;

const signInReply = z.object({ access_token: z.string(), refresh_token: z.string(), expires_in: z.number() });
const aadError = z.object({ error: z.string(), error_codes: z.array(z.number()) });

beforeAll(async () => {
  emu = await startGraphEmulator();
  const port = (url: string | undefined): number => Number(new URL(url ?? 'x://0:0').port);
  exchange = {
    emu,
    imapPort: port(emu.handle.urls.imap),
    smtpPort: port(emu.handle.urls.smtp),
    ca: emu.handle.caPem,
    stop: () => emu.stop(),
  };
});
afterAll(async () => {
  await emu?.stop();
});

/** andrea@ signs in (password grant, public client): an Exchange token, a Graph token, the refresh token. */
async function signIn(): Promise<{ exchangeToken: string; graphToken: string; refreshToken: string }> {
  const first = signInReply.parse(
    (
      await postToken(emu, {
        grant_type: 'password',
        client_id: CONTOSO.publicClient.appId,
        username: ANDREA.upn,
        password: ANDREA.password,
        scope: EXCHANGE_SCOPES,
      })
    ).body,
  );
  const graph = signInReply.parse((await refresh(first.refresh_token, GRAPH_SCOPE)).body);
  return { exchangeToken: first.access_token, graphToken: graph.access_token, refreshToken: graph.refresh_token };
}

function refresh(refreshToken: string, scope = EXCHANGE_SCOPES) {
  return postToken(emu, {
    grant_type: 'refresh_token',
    client_id: CONTOSO.publicClient.appId,
    refresh_token: refreshToken,
    scope,
  });
}

async function revokeSessions(): Promise<void> {
  // revoke-sessions refuses what was issued strictly before it (whole seconds): step past the sign-in.
  emu.handle.clock.advance(2_000);
  await emu.control('POST', `/users/${ANDREA.id}/revoke-sessions`);
}

/** Signs in to IMAP with XOAUTH2 and selects INBOX; the error if it is refused. */
async function imapSelect(token: string): Promise<unknown> {
  const client = imapClient(exchange, ANDREA.upn, token);
  try {
    await client.connect();
    const box = await client.mailboxOpen('INBOX');
    expect(box.path).toBe('INBOX');
    await client.logout();
    return undefined;
  } catch (error) {
    client.close();
    return error;
  }
}

async function smtpSend(token: string, subject: string) {
  const transport = smtpTransport(exchange, ANDREA.upn, token);
  try {
    return await transport.sendMail({
      from: ANDREA.upn,
      to: CONTOSO.marco.upn,
      subject,
      text: 'Sent with an access token issued before the revocation.',
    });
  } finally {
    transport.close();
  }
}

describe('revoking a user’s sessions (no continuous access evaluation: the default)', () => {
  it('fails the next refresh with AADSTS50173, while the access tokens in hand keep working for IMAP, SMTP and Graph until they expire', async () => {
    const { exchangeToken, graphToken, refreshToken } = await signIn();
    await revokeSessions();

    const refused = await refresh(refreshToken);
    expect(refused.status).toBe(400);
    expect(aadError.parse(refused.body)).toMatchObject({ error: 'invalid_grant', error_codes: [50173] });

    expect(await imapSelect(exchangeToken)).toBeUndefined();
    const sent = await smtpSend(exchangeToken, 'After the revocation');
    expect(sent.accepted).toEqual([CONTOSO.marco.upn]);
    expect((await new GraphClient(emu, graphToken).get('/me/messages')).status).toBe(200);
    const introspection = await emu.control('POST', '/introspect', { token: exchangeToken });
    expect(introspection).toMatchObject({ valid: true, upn: ANDREA.upn });

    // Their life ends at `exp`, as ever (delegated tokens live at most 90 minutes).
    emu.handle.clock.advance(2 * 60 * 60 * 1000);
    expect(await imapSelect(exchangeToken)).toMatchObject({ authenticationFailed: true });
    await expect(smtpSend(exchangeToken, 'Too late')).rejects.toMatchObject({ responseCode: 535 });
    expect((await new GraphClient(emu, graphToken).get('/me/messages')).status).toBe(401);
  });
});

describe('with continuous access evaluation on for the tenant', () => {
  it('refuses the access tokens issued before the revocation at once, on IMAP, SMTP and Graph; a new sign-in works', async () => {
    await emu.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { continuousAccessEvaluation: true });
    try {
      emu.handle.clock.advance(2_000);
      const { exchangeToken, graphToken, refreshToken } = await signIn();
      expect(await imapSelect(exchangeToken)).toBeUndefined();
      await revokeSessions();

      expect(aadError.parse((await refresh(refreshToken)).body).error_codes).toEqual([50173]);
      expect(await imapSelect(exchangeToken)).toMatchObject({ authenticationFailed: true });
      await expect(smtpSend(exchangeToken, 'Cut at once')).rejects.toMatchObject({ responseCode: 535 });
      expect((await new GraphClient(emu, graphToken).get('/me/messages')).status).toBe(401);
      expect(await emu.control('POST', '/introspect', { token: exchangeToken })).toEqual({
        valid: false,
        reason: 'revoked',
      });

      emu.handle.clock.advance(2_000);
      const again = await signIn();
      expect(await imapSelect(again.exchangeToken)).toBeUndefined();
    } finally {
      await emu.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { continuousAccessEvaluation: false });
    }
  });
});
