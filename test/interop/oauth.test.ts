import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from '../helpers/until.js';
import { authenticate as authenticateProvider, authenticatedProvider } from '../providers/helpers.js';
import { postToken, EXCHANGE_SCOPES } from '../emulator/helpers/emulator.js';
import { CONTOSO, customerMessage, startInteropHarness, type InteropHarness } from './helpers/harness.js';
import { authenticate } from './helpers/sasl-probe.js';

/**
 * Modern Authentication against servers nobody here wrote: Dovecot's `oauth2` passdb checks the
 * emulator's access tokens (through the emulator's RFC 7662 introspection route), Postfix's
 * submission authenticates through Dovecot's SASL. An `outlook365` account whose IMAP and SMTP
 * hosts are Dovecot and Postfix reads and sends through them: imapflow signs in with OAUTHBEARER
 * (its choice when offered), nodemailer with XOAUTH2.
 */
const USER = CONTOSO.andrea;
/** The test's own client delivers into andrea@'s mailbox with this password (PLAIN). */
const FEEDER = 'andrea feeder password on dovecot';

let h: InteropHarness;
let providerId: number;
let accountId: number;

const accountReply = z.object({
  id: z.number(),
  status: z.string(),
  lastError: z.object({ code: z.string(), message: z.string(), remedy: z.string().nullable() }).nullable(),
});
const interactionsReply = z.object({ items: z.array(z.object({ id: z.number(), subject: z.string() })) });
const tokenReply = z.object({ access_token: z.string() });

const account = async () => accountReply.parse((await h.api('GET', `/api/email/accounts/${accountId}`)).json());

async function exchangeToken(): Promise<string> {
  const response = await postToken(h.pair.emulator, {
    grant_type: 'password',
    client_id: CONTOSO.publicClient.appId,
    username: USER.upn,
    password: USER.password,
    scope: EXCHANGE_SCOPES,
  });
  return tokenReply.parse(response.body).access_token;
}

beforeAll(async () => {
  h = await startInteropHarness({ [USER.upn]: FEEDER });
  ({ providerId } = await authenticatedProvider(h.pair));
});
afterAll(async () => {
  await h?.close();
});

describe('the emulator’s tokens on Dovecot', () => {
  it('accepts a live token with XOAUTH2 and with OAUTHBEARER, and refuses it for another user', async () => {
    const token = await exchangeToken();
    for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
      const answer = await authenticate(h.servers.imapsPort, h.servers.caPem, mechanism, USER.upn, token);
      expect(answer.tagged, `${mechanism}${h.servers.logs()}`).toMatch(/^A1 OK/);
    }
    const other = await authenticate(h.servers.imapsPort, h.servers.caPem, 'XOAUTH2', CONTOSO.marco.upn, token);
    expect(other.tagged).toMatch(/^A1 NO/);
  });

  it('refuses an expired token, and a revoked one once the tenant evaluates continuous access, with either mechanism', async () => {
    const token = await exchangeToken();
    h.pair.emulator.handle.clock.advance(2 * 60 * 60 * 1000);
    // Dovecot answers a refused token with the mechanism's error challenge first (Exchange sends
    // none: its tagged `NO AUTHENTICATE failed.` comes at once), then the tagged NO.
    const challenges = { XOAUTH2: '"status":"401"', OAUTHBEARER: '"status":"invalid_token"' };
    for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
      const answer = await authenticate(h.servers.imapsPort, h.servers.caPem, mechanism, USER.upn, token);
      expect(answer.tagged, mechanism).toMatch(/^A1 NO \[AUTHENTICATIONFAILED\]/);
      expect(answer.challenge).toContain(challenges[mechanism]);
    }
    const revoked = await exchangeToken();
    expect((await authenticate(h.servers.imapsPort, h.servers.caPem, 'XOAUTH2', USER.upn, revoked)).tagged).toMatch(
      /^A1 OK/,
    );
    // revoke-sessions marks tokens issued before now as revoked; move on so "before" is strict.
    h.pair.emulator.handle.clock.advance(2_000);
    await h.pair.emulator.control('POST', `/users/${USER.id}/revoke-sessions`);
    // Entra's timeline: the refresh tokens die, the access token in hand lives until it expires.
    expect((await authenticate(h.servers.imapsPort, h.servers.caPem, 'XOAUTH2', USER.upn, revoked)).tagged).toMatch(
      /^A1 OK/,
    );
    // A resource evaluating continuous access refuses it at once.
    await setContinuousAccessEvaluation(true);
    for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
      const answer = await authenticate(h.servers.imapsPort, h.servers.caPem, mechanism, USER.upn, revoked);
      expect(answer.tagged, mechanism).toMatch(/^A1 NO \[AUTHENTICATIONFAILED\]/);
    }
  });
});

describe('an outlook365 account whose IMAP and SMTP hosts are Dovecot and Postfix', () => {
  it('reads with OAUTHBEARER into a conversation and sends the reply with XOAUTH2 through Postfix', async () => {
    // The previous test revoked andrea@'s sessions: sign in again for a grant issued after that.
    const again = await authenticateProvider(h.pair, providerId, { username: USER.upn, password: USER.password });
    expect(again.response.headers.location).toContain('authentication=success');
    const created = await h.api('POST', '/api/email/accounts', {
      name: 'Andrea',
      key: 'AND',
      emailAddress: USER.upn,
      username: USER.upn,
      providerId,
      imapHost: '127.0.0.1',
      imapPort: h.servers.imapsPort,
      smtpHost: '127.0.0.1',
      smtpPort: h.servers.submissionPort,
      tlsCaPem: h.servers.caPem,
      firstSync: { kind: 'all' },
    });
    expect(created.statusCode, created.body).toBe(201);
    accountId = accountReply.parse(created.json()).id;
    await until('connected', async () => ((await account()).status === 'connected' ? true : undefined), 30_000).catch(
      async (error: unknown) => {
        throw new Error(`${String(error)} ${JSON.stringify(await account())}${h.servers.logs()}`);
      },
    );

    await h.servers.append(
      USER.upn,
      FEEDER,
      customerMessage({
        to: USER.upn,
        subject: 'Invoice missing',
        messageId: '<invoice@customer.example>',
        text: 'Where is my invoice?',
      }),
    );
    const conversation = await until(
      'the conversation',
      async () => {
        const list = interactionsReply.parse(
          (await h.api('GET', `/api/email/accounts/${accountId}/interactions`)).json(),
        );
        return list.items.find((item) => item.subject === 'Invoice missing');
      },
      30_000,
    );
    const queued = await h.api('POST', `/api/interactions/${conversation.id}/reply`, { text: 'Attached again.' });
    expect(queued.statusCode, queued.body).toBe(202);
    const delivered = await until(
      'the reply relayed by Postfix',
      async () => h.servers.sunk.find((message) => message.subject?.startsWith('Re: Invoice missing') === true),
      30_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}${h.servers.logs()}`);
    });
    expect(delivered.envelopeFrom).toBe(USER.upn);
    expect(delivered.inReplyTo).toBe('<invoice@customer.example>');
    const logs = h.servers.logs();
    expect(logs).toMatch(/method=OAUTHBEARER/);
    expect(logs).toMatch(/sasl_method=XOAUTH2, sasl_username=andrea@contoso\.com/);
  });

  it('shows the account disconnected with the remedy when Dovecot refuses the revoked token (continuous access evaluation), and reconnects on a fresh one', async () => {
    // The tenant still evaluates continuous access (switched on above): the revocation cuts the
    // access token Postern holds at once, not when it expires.
    h.pair.emulator.handle.clock.advance(2_000);
    await h.pair.emulator.control('POST', `/users/${USER.id}/revoke-sessions`);
    // Dovecot keeps a signed-in session; its administrator's kick makes Postern sign in again.
    kick(USER.upn);
    const down = await until(
      'disconnected',
      async () => {
        const now = await account();
        // The kick itself shows first, as a dropped connection; then the refused sign-in.
        return now.status === 'disconnected' &&
          now.lastError !== null &&
          now.lastError.code !== 'IMAP_CONNECTION_FAILED'
          ? now.lastError
          : undefined;
      },
      30_000,
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)} ${JSON.stringify(await account())}${h.servers.logs()}`);
    });
    // Dovecot refuses the access token Postern holds (the emulator says it is revoked); Postern
    // reports the refused sign-in and asks for the provider to be authenticated again. It does
    // not refresh first, so the refresh token's revocation (AUTH_SESSIONS_REVOKED) is not seen
    // until the access token expires — see docs/INTEROP.md.
    expect(down.code).toBe('IMAP_AUTH_FAILED');
    expect(down.remedy).toMatch(/authenticate the provider again/);

    const again = await authenticateProvider(h.pair, providerId, { username: USER.upn, password: USER.password });
    expect(again.response.headers.location).toContain('authentication=success');
    await until('reconnected', async () => ((await account()).status === 'connected' ? true : undefined), 30_000);
  });
});

/** The tenant's continuous access evaluation switch: on, a revocation refuses access tokens in hand at once. */
async function setContinuousAccessEvaluation(on: boolean): Promise<void> {
  await h.pair.emulator.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { continuousAccessEvaluation: on });
}

/** `doveadm kick`: Dovecot's own tool ends the user's IMAP sessions. */
function kick(user: string): void {
  const result = spawnSync('doveadm', ['-c', path.join(h.servers.dir, 'dovecot', 'dovecot.conf'), 'kick', user], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`doveadm kick failed: ${result.stderr}${result.stdout}`);
}
