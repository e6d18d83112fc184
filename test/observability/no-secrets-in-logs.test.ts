/**
 * Issue 9's acceptance: no secret or token appears in any log line at debug level. Postern runs
 * against the emulator at debug level through a full flow — providers authenticated by
 * authorization code, password (ROPC) and client credentials; a wrong client secret and revoked
 * sessions (error paths); the shared mailbox ingested by the real mailbox workers over IMAP with
 * XOAUTH2; tokens refreshed; a reply sent over SMTP with XOAUTH2; a signed webhook delivered;
 * sessions, API tokens and bad credentials on the API — and then every log file is scanned for
 * every secret it handled: the seed's client secrets and passwords, each token and password read
 * back from the database (and the XOAUTH2 strings built from the access tokens), the API tokens,
 * the webhook secret, and the shapes of credentials whatever their value.
 *
 * The same scan runs over the log files of the whole test run in its global teardown
 * (scan-run-logs.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ENCRYPTED_COLUMNS, type Database, type SecretBox } from '../../src/store/index.js';
import { readSealedColumn } from '../../src/store/key-rotation.js';
import { CONTOSO, dispatchUntilIdle, startOutbound, type OutboundHarness } from '../outbound/helpers.js';
import { buildObservabilityApp, startReceiver, until, type Receiver } from './helpers.js';
import {
  describeLeaks,
  scanLogFiles,
  scanText,
  seedSecrets,
  xoauth2,
  findLogFiles,
  type KnownSecret,
} from './log-scan.js';

let h: OutboundHarness;
let app: FastifyInstance;
let receiver: Receiver;
/** Secrets the test itself handed to Postern (plain API tokens, passwords, the webhook secret). */
const handed: KnownSecret[] = [];
let accountId: number;

beforeAll(async () => {
  h = await startOutbound({ pollIntervalMs: 20 }, { POSTERN_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1' });
  const { runtime } = h.pair.postern;
  app = await buildObservabilityApp(runtime, runtime.services.metrics);
  receiver = await startReceiver();
  await runtime.startRoles(['webhooks', 'mailboxSync'], {
    webhooks: { pollIntervalMs: 50, retry: { baseMs: 50, maxAttempts: 3 } },
    mailboxSync: { tuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 } } },
  });
  handed.push({ label: 'the admin API token', value: h.pair.admin.replace(/^Bearer /, '') });
});
afterAll(async () => {
  // The workers stop (with the rest of Postern) before the receiver they talk to.
  await h?.pair.postern.close();
  await app?.close();
  await receiver?.close();
  await h?.close();
});

const db = (): Database => h.pair.postern.runtime.db;
const admin = () => ({ authorization: h.pair.admin });

describe('a full flow at debug level', () => {
  it('signs in to the API with passwords, sessions and tokens, good and bad', async () => {
    const password = 'operator password 7f3K!q';
    await h.pair.postern.runtime.services.users.create({ username: 'operator', role: 'admin', password });
    handed.push({ label: "the operator's password", value: password });
    const wrong = await h.pair.postern.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'operator', password: 'wrong password 12345' },
    });
    expect(wrong.statusCode).toBe(401);
    const login = await h.pair.postern.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'operator', password },
    });
    expect(login.statusCode, login.body).toBe(200);
    for (const cookie of login.cookies) handed.push({ label: `the ${cookie.name} cookie`, value: cookie.value });
    const agent = await h.pair.postern.bearer('agent');
    handed.push({ label: "the agent's API token", value: agent.authorization.replace(/^Bearer /, '') });
    const forged = `pst_${'A'.repeat(43)}`;
    handed.push({ label: 'a forged API token', value: forged });
    expect(
      (
        await h.pair.postern.app.inject({
          method: 'GET',
          url: '/api/email/accounts',
          headers: { authorization: `Bearer ${forged}` },
        })
      ).statusCode,
    ).toBe(401);
  });

  it('authenticates providers by password (ROPC) and client credentials, and fails with a wrong secret', async () => {
    const ropc = await h.api('POST', '/api/cloudProviders', {
      name: 'Contoso ROPC',
      applicationId: CONTOSO.publicClient.appId,
      tenantId: CONTOSO.tenantId,
      grantType: 'password',
      cloud: 'custom',
      authorityUrl: h.pair.emulator.base,
      caFile: h.pair.emulator.handle.caFile,
    });
    expect(ropc.statusCode, ropc.body).toBe(201);
    const signedIn = await h.api('POST', `/api/cloudProviders/${ropc.json().id}/authenticate`, {
      username: CONTOSO.marco.upn,
      password: CONTOSO.marco.password,
    });
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    const refused = await h.api('POST', `/api/cloudProviders/${ropc.json().id}/authenticate`, {
      username: CONTOSO.marco.upn,
      password: 'Not#Marcos#Password',
    });
    expect(refused.statusCode).toBeGreaterThanOrEqual(400);
    handed.push({ label: 'a wrong password typed for marco@', value: 'Not#Marcos#Password' });

    const daemon = await h.api('POST', '/api/cloudProviders', {
      name: 'Contoso daemon',
      applicationId: CONTOSO.daemon.appId,
      tenantId: CONTOSO.tenantId,
      clientSecret: CONTOSO.daemon.secret,
      grantType: 'client_credentials',
      cloud: 'custom',
      authorityUrl: h.pair.emulator.base,
      caFile: h.pair.emulator.handle.caFile,
    });
    expect(daemon.statusCode, daemon.body).toBe(201);
    expect((await h.api('POST', `/api/cloudProviders/${daemon.json().id}/authenticate`, {})).statusCode).toBe(200);

    // The secret ID pasted instead of its value, then the expired secret: the token endpoint says why.
    const grant = (await h.api('GET', `/api/cloudProviders/${daemon.json().id}`)).json().grants[0];
    for (const wrongSecret of [CONTOSO.web.expiredSecretId, CONTOSO.web.expiredSecret]) {
      const updated = await h.app.inject({
        method: 'PUT',
        url: `/api/cloudProviders/${daemon.json().id}/clientSecret`,
        headers: admin(),
        payload: { clientSecret: wrongSecret },
      });
      expect(updated.statusCode, updated.body).toBe(200);
      await db().kysely.deleteFrom('grant_access_tokens').where('grant_id', '=', grant.id).execute();
      const check = await h.api('POST', `/api/cloudProviders/${daemon.json().id}/grants/${grant.id}/check`, {
        resource: 'exchange',
      });
      expect(check.statusCode, check.body).toBeGreaterThanOrEqual(400);
    }
    handed.push({ label: 'the expired secret ID used as a secret', value: CONTOSO.web.expiredSecretId });
  });

  it('ingests the shared mailbox over IMAP with XOAUTH2 and delivers the signed webhook', async () => {
    const hook = await app.inject({
      method: 'POST',
      url: '/api/webhooks',
      headers: admin(),
      payload: { url: receiver.url, events: ['*'] },
    });
    expect(hook.statusCode, hook.body).toBe(201);
    handed.push({ label: 'the webhook secret', value: hook.json<{ secret: string }>().secret });
    const created = await h.api('POST', '/api/email/accounts', {
      name: 'Developers',
      key: 'DEV',
      emailAddress: 'developers@contoso.com',
      username: 'developers@contoso.com',
      providerId: h.providerId,
      modernAuthEmail: CONTOSO.andrea.upn,
      imapHost: '127.0.0.1',
      imapPort: Number(new URL(h.pair.emulator.handle.urls.imap ?? '').port),
      smtpHost: '127.0.0.1',
      smtpPort: h.smtpPort,
      firstSync: { kind: 'all' },
    });
    expect(created.statusCode, created.body).toBe(201);
    accountId = created.json<{ id: number }>().id;
    await h.control('POST', '/exchange/messages', {
      from: 'Carla <carla@customer.example>',
      to: 'developers@contoso.com',
      subject: 'Secrets test',
      text: 'Hello',
      messageId: '<secrets@customer.example>',
    });
    await until('the webhook', () => receiver.requests.find((r) => r.body.includes('"message.received"')), 30_000);
  });

  it('refreshes tokens and renews the IMAP session, and survives revoked sessions', async () => {
    const before = await db().kysely.selectFrom('grants').select(['id', 'last_refresh_at']).execute();
    h.pair.emulator.handle.clock.advance(2 * 60 * 60 * 1000);
    await h.control('POST', '/exchange/faults/imap/drop', {});
    await until('a refresh', async () => {
      const after = await db().kysely.selectFrom('grants').select(['id', 'last_refresh_at']).execute();
      return after.some((row) => before.find((old) => old.id === row.id)?.last_refresh_at !== row.last_refresh_at)
        ? true
        : undefined;
    });
    const connected = async () =>
      (
        await db()
          .kysely.selectFrom('email_accounts')
          .select('status')
          .where('id', '=', accountId)
          .executeTakeFirstOrThrow()
      ).status === 'connected'
        ? true
        : undefined;
    await until('reconnected', connected);
  });

  it('sends a reply over SMTP with XOAUTH2', async () => {
    const message = await db()
      .kysely.selectFrom('messages')
      .select(['interaction_id'])
      .where('message_id', '=', '<secrets@customer.example>')
      .executeTakeFirstOrThrow();
    const reply = await h.api('POST', `/api/interactions/${message.interaction_id}/reply`, { text: 'We are on it.' });
    expect(reply.statusCode, reply.body).toBeLessThan(300);
    await dispatchUntilIdle(h);
    const state = await db().kysely.selectFrom('outbox').select('state').executeTakeFirstOrThrow();
    expect(state.state).toBe('sent');
  });

  it('ends in re-authentication required when the user revokes the sessions', async () => {
    await h.control('POST', `/users/${CONTOSO.andrea.id}/revoke-sessions`);
    h.pair.emulator.handle.clock.advance(2 * 60 * 60 * 1000);
    await h.control('POST', '/exchange/faults/imap/drop', {});
    await until('disconnected', async () =>
      (
        await db()
          .kysely.selectFrom('email_accounts')
          .select('status')
          .where('id', '=', accountId)
          .executeTakeFirstOrThrow()
      ).status === 'disconnected'
        ? true
        : undefined,
    );
  });
});

/** Every secret sealed in the database, opened; and the XOAUTH2 strings of the access tokens. */
async function secretsAtRest(database: Database, box: SecretBox): Promise<KnownSecret[]> {
  const found: KnownSecret[] = [];
  for (const spec of ENCRYPTED_COLUMNS) {
    for (const row of await readSealedColumn(database, spec)) {
      found.push({
        label: `${spec.context} from the database`,
        value: box.open(row.sealed, spec.context, row.row_key),
      });
    }
  }
  const users = ['andrea@contoso.com', 'developers@contoso.com', CONTOSO.marco.upn];
  for (const token of found
    .filter((secret) => secret.label.startsWith('grant_access_tokens'))
    .map((secret) => secret.value)) {
    for (const user of users) found.push({ label: `the XOAUTH2 string of ${user}`, value: xoauth2(user, token) });
    const signature = token.split('.')[2];
    if (signature !== undefined) found.push({ label: "an access token's signature", value: signature });
  }
  return found;
}

describe('the log files', () => {
  it('hold none of the secrets Postern handled, and none of their shapes', async () => {
    const { runtime } = h.pair.postern;
    const atRest = await secretsAtRest(runtime.db, runtime.box);
    expect(
      atRest.some((s) => s.label.startsWith('grants.refresh_token')),
      'refresh tokens were read back',
    ).toBe(true);
    expect(
      atRest.some((s) => s.label.startsWith('grants.password')),
      'the ROPC password was read back',
    ).toBe(true);
    expect(atRest.some((s) => s.label.startsWith('webhooks.secret'))).toBe(true);
    const secrets = [...seedSecrets(), ...atRest, ...handed];
    const files = findLogFiles(runtime.config.logDir);
    expect(files.length).toBeGreaterThan(0);
    const text = h.pair.postern.logText();
    expect(text, 'the IMAP exchange is in the log at debug level').toContain('AUTHENTICATE XOAUTH2');
    expect(text, 'the SMTP exchange is in the log at debug level').toMatch(/"tnx":"client".*"msg":"AUTH XOAUTH2 /);
    expect(text, 'but not the mail it carries').not.toContain('We are on it.');
    expect(text).toContain('"level":20');
    const leaks = scanLogFiles(files, secrets);
    expect(leaks, describeLeaks(leaks)).toEqual([]);
  });

  it('carry the key with the id on every line about an account', () => {
    const lines = h.pair.postern
      .logText()
      .split('\n')
      .filter((line) => line.includes('"accountId"'));
    expect(lines.length).toBeGreaterThan(10);
    const missing = lines.filter((line) => !/"key":"DEV"/.test(line) && /"accountId":1\b/.test(line));
    expect(missing, missing.slice(0, 3).join('\n')).toEqual([]);
    expect(lines.some((line) => line.includes('"component":"smtp"') && line.includes('"key":"DEV"'))).toBe(true);
  });

  it('would see a secret if one were there', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbmRyZWEifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
    const planted = [
      `{"msg":"refresh failed","body":"client_secret=${CONTOSO.web.secret}"}`,
      `{"msg":"token ${token}"}`,
      `{"msg":"AUTHENTICATE XOAUTH2 ${xoauth2('andrea@contoso.com', 'opaque')}"}`,
      `{"msg":"login","password":"Andrea#2025"}`,
    ].join('\n');
    const leaks = scanText('planted.log', planted, seedSecrets());
    expect(new Set(leaks.map((leak) => leak.line))).toEqual(new Set([1, 2, 3, 4]));
    expect(describeLeaks(leaks)).not.toContain(CONTOSO.web.secret);
  });
});
