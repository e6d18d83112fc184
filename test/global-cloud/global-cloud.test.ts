/**
 * The production ("global" cloud) path (issue 15): a Cloud Provider of cloud `global` — no
 * authority URL, no CA file — signs in at https://login.microsoftonline.com, reads mail at
 * outlook.office365.com:993 and replies through smtp.office365.com:587, all served by the emulator
 * under those names (see ./helpers.ts). The provider's tenant is `organizations`, as for a
 * multi-tenant app: the discovery document's issuer is then Entra's template
 * `https://login.microsoftonline.com/{tenantid}/v2.0`, which openid-client accepts only for that
 * exact origin and resolves with the ID token's `tid` — the special case no `custom` provider runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failures, diagnose, check } from '../doctor/helpers.js';
import { until } from '../helpers/until.js';
import { authenticatedProvider, createProvider, tokenRequests } from '../providers/helpers.js';
import { CONTOSO, startGlobalPair, type GlobalPair } from './helpers.js';

const CUSTOMER = 'ada.lovelace@fabrikam.example';

let pair: GlobalPair;
let providerId: number;

beforeAll(async () => {
  pair = await startGlobalPair();
  // A multi-tenant app may sign in through `organizations`.
  await pair.emulator.control('PATCH', `/apps/${CONTOSO.web.appId}`, { signInAudience: 'AzureADMultipleOrgs' });
  ({ providerId } = await authenticatedProvider(pair, {
    cloud: 'global',
    tenantId: 'organizations',
    authorityUrl: undefined,
    caFile: undefined,
  }));
  await pair.postern.runtime.startRoles(['mailboxSync', 'outboxDispatch'], {
    mailboxSync: { tuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 } } },
    outboxDispatch: { pollIntervalMs: 20 },
  });
});
afterAll(async () => pair?.close());

const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
  pair.postern.app.inject({
    method,
    url,
    headers: { authorization: pair.admin },
    ...(payload === undefined ? {} : { payload }),
  });
const db = () => pair.postern.runtime.db.kysely;

describe('the global cloud against the emulator under the real host names', () => {
  it('discovered Microsoft’s multi-tenant metadata at login.microsoftonline.com and signed andrea@ in', async () => {
    const provider = (await api('GET', `/api/cloudProviders/${providerId}`)).json<{
      cloud: string;
      authorityUrl: string | null;
      caFile: string | null;
      status: string;
    }>();
    expect(provider).toMatchObject({ cloud: 'global', authorityUrl: null, caFile: null, status: 'authenticated' });
    const discovery = pair.emulator.handle.requestLog.list({ endpoint: 'discovery' });
    expect(discovery.map((entry) => entry.path)).toContain('/organizations/v2.0/.well-known/openid-configuration');
    // The document Postern read carries the templated issuer that only the Entra special case accepts.
    const metadata = await pair.emulator.handle.fetch(
      'https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration',
    );
    expect(await metadata.json()).toMatchObject({
      issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
      token_endpoint: 'https://login.microsoftonline.com/organizations/oauth2/v2.0/token',
    });
    const tokens = pair.emulator.handle.requestLog.list({ endpoint: 'token', grantType: 'authorization_code' });
    expect(tokens.at(-1)).toMatchObject({ status: 200, tenant: 'organizations' });
    expect(pair.routed).toContain('login.microsoftonline.com:443');
  });

  it('signs in through a verified domain too: the document’s issuer names the tenant id, not the domain asked for', async () => {
    // openid-client takes the Entra branch here as well (the issuer differs from the URL it was
    // given), with nothing to replace: the ID token's issuer must equal the document's.
    const { grantId } = await authenticatedProvider(pair, {
      cloud: 'global',
      tenantId: CONTOSO.domain,
      authorityUrl: undefined,
      caFile: undefined,
    });
    expect(grantId).toEqual(expect.any(Number));
    const metadata = await pair.emulator.handle.fetch(
      `https://login.microsoftonline.com/${CONTOSO.domain}/v2.0/.well-known/openid-configuration`,
    );
    expect(await metadata.json()).toMatchObject({
      issuer: `https://login.microsoftonline.com/${CONTOSO.tenantId}/v2.0`,
    });
    const tokens = pair.emulator.handle.requestLog.list({ endpoint: 'token', grantType: 'authorization_code' });
    // The document's endpoints name the tenant id, as Entra's do: the code is redeemed there.
    expect(tokens.at(-1)).toMatchObject({ status: 200, tenant: CONTOSO.tenantId });
  });

  it('reads mail over IMAP at outlook.office365.com:993 and replies over SMTP at smtp.office365.com:587', async () => {
    const created = await api('POST', '/api/email/accounts', {
      name: 'Andrea at Contoso',
      key: 'GLB',
      emailAddress: CONTOSO.andrea.upn,
      username: CONTOSO.andrea.upn,
      providerId,
      transport: 'imap_smtp',
      firstSync: { kind: 'all' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const accountId = created.json<{ id: number }>().id;
    const account = (await api('GET', `/api/email/accounts/${accountId}`)).json<Record<string, unknown>>();
    expect(account).toMatchObject({ imapHost: null, smtpHost: null });

    await pair.emulator.control('POST', '/exchange/messages', {
      from: `Ada Lovelace <${CUSTOMER}>`,
      to: CONTOSO.andrea.upn,
      subject: 'Order 42 is late',
      text: 'Where is it?',
      messageId: '<order42@fabrikam.example>',
    });
    const message = await until(
      'the message read over IMAP',
      async () =>
        db()
          .selectFrom('messages')
          .selectAll()
          .where('account_id', '=', accountId)
          .where('message_id', '=', '<order42@fabrikam.example>')
          .executeTakeFirst(),
      60_000,
    );
    expect(pair.routed).toContain('outlook.office365.com:993');

    const queued = await api('POST', `/api/interactions/${message.interaction_id}/reply`, {
      text: 'It left the warehouse today.',
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const replyId = queued.json<{ id: number }>().id;
    const view = await until(
      'the reply sent',
      async () => {
        const current = (await api('GET', `/api/messages/${replyId}`)).json<{ state: string }>();
        return current.state === 'sent' ? current : undefined;
      },
      60_000,
    );
    expect(view).toMatchObject({ state: 'sent', delivery: { error: null } });
    const sink = (await pair.emulator.control('GET', `/exchange/sink?to=${encodeURIComponent(CUSTOMER)}`)) as {
      messages: Array<{ envelopeFrom: string; subject: string | null }>;
    };
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]).toMatchObject({ envelopeFrom: CONTOSO.andrea.upn });
    expect(pair.routed).toContain('smtp.office365.com:587');

    const diagnosis = await diagnose(pair, 'account=GLB');
    expect(failures(diagnosis)).toEqual([]);
    expect(check(diagnosis, 'account.imap').result).toBe('ok');
    expect(check(diagnosis, 'account.smtp').result).toBe('ok');
  });

  it('reads and replies through Microsoft Graph at graph.microsoft.com for an account of transport graph', async () => {
    const created = await api('POST', '/api/email/accounts', {
      name: 'Developers',
      key: 'GRF',
      emailAddress: 'developers@contoso.com',
      username: 'developers@contoso.com',
      providerId,
      modernAuthEmail: CONTOSO.andrea.upn,
      transport: 'graph',
      firstSync: { kind: 'all' },
      pollIntervalSeconds: 10,
    });
    expect(created.statusCode, created.body).toBe(201);
    const accountId = created.json<{ id: number }>().id;
    await pair.emulator.control('POST', '/exchange/messages', {
      from: `Ada Lovelace <${CUSTOMER}>`,
      to: 'developers@contoso.com',
      subject: 'Graph, please',
      text: 'Read me through Graph.',
      messageId: '<graph-first@fabrikam.example>',
    });
    const message = await until(
      'the message read through Graph',
      async () =>
        db()
          .selectFrom('messages')
          .selectAll()
          .where('account_id', '=', accountId)
          .where('message_id', '=', '<graph-first@fabrikam.example>')
          .executeTakeFirst(),
      60_000,
    );
    expect(message.graph_id).toEqual(expect.any(String));
    const queued = await api('POST', `/api/interactions/${message.interaction_id}/reply`, {
      text: 'Sent through Graph.',
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const replyId = queued.json<{ id: number }>().id;
    await until(
      'the Graph reply sent',
      async () =>
        (await api('GET', `/api/messages/${replyId}`)).json<{ state: string }>().state === 'sent' ? true : undefined,
      60_000,
    );
    const sink = (await pair.emulator.control('GET', `/exchange/sink?to=${encodeURIComponent(CUSTOMER)}`)) as {
      messages: Array<{ envelopeFrom: string; subject: string | null }>;
    };
    expect(sink.messages.map((m) => m.subject)).toContainEqual(expect.stringMatching(/^Re: Graph, please/));
    expect(pair.routed).toContain('graph.microsoft.com:443');
    expect(failures(await diagnose(pair, 'account=GRF'))).toEqual([]);
  });
});

describe('app-only tokens on the global cloud', () => {
  it('get Entra’s fixed 3,599 s, and Postern asks for a new one before it runs out rather than failing', async () => {
    const appOnly = await createProvider(pair, {
      cloud: 'global',
      tenantId: CONTOSO.tenantId,
      applicationId: CONTOSO.daemon.appId,
      clientSecret: CONTOSO.daemon.secret,
      grantType: 'client_credentials',
      authorityUrl: undefined,
      caFile: undefined,
    });
    expect((await api('POST', `/api/cloudProviders/${appOnly}/authenticate`, {})).statusCode).toBe(200);
    const grantId = (await api('GET', `/api/cloudProviders/${appOnly}`)).json<{ grants: Array<{ id: number }> }>()
      .grants[0]?.id;
    if (grantId === undefined) throw new Error('no app grant');
    const { accessTokens, tokenUpkeep } = pair.postern.runtime.services;
    const clock = pair.emulator.handle.clock;
    const secondsLeft = (token: { expiresAt: Date }) => Math.ceil((token.expiresAt.getTime() - clock.nowMs()) / 1000);

    const first = await accessTokens.accessToken(grantId, 'exchange');
    expect(secondsLeft(first)).toBe(3599);
    const requested = tokenRequests(pair, 'client_credentials');
    // Still good for more than five minutes: the cached token serves.
    clock.advance((3599 - 301) * 1000);
    expect((await accessTokens.accessToken(grantId, 'exchange')).token).toBe(first.token);
    expect(tokenRequests(pair, 'client_credentials')).toBe(requested);
    // Inside the token keeper's ten minutes, and the on-demand five: a new token is asked for.
    const due = await tokenUpkeep.grantsDue({
      expiringBefore: new Date(clock.nowMs() + 10 * 60 * 1000),
      idleSince: new Date(0),
    });
    expect(due.expiring).toContainEqual({ grantId, resource: 'exchange' });
    clock.advance(2_000);
    const second = await accessTokens.accessToken(grantId, 'exchange');
    expect(second.token).not.toBe(first.token);
    expect(secondsLeft(second)).toBe(3599);
    expect(tokenRequests(pair, 'client_credentials')).toBe(requested + 1);
    // Past the first token's end: the new one is what the emulator's Exchange accepts.
    clock.advance(600_000);
    expect(pair.emulator.handle.identity.introspectAccessToken(first.token)).toMatchObject({ valid: false });
    expect(pair.emulator.handle.identity.introspectAccessToken(second.token)).toMatchObject({ valid: true });
  });
});
