/**
 * Issue 14's app-only acceptance on the Graph transport: a provider with a generated certificate
 * and the client-credentials grant, no delegate; the shared mailbox developers@ is read through
 * Graph by the real mailbox workers and its reply leaves through Graph's sendMail — while the
 * mailbox is inside the application's scope. Put outside it (an Application Access Policy that
 * restricts the app to another mailbox), Graph answers ErrorAccessDenied and Postern says so on the
 * account, with the remedy that names the application's scope.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { CONTOSO, startPair, type Pair } from '../providers/helpers.js';
import { until } from '../helpers/until.js';
import { OutboxDispatcher } from '../../src/workers/outbox-dispatcher.js';

const SHARED = 'developers@contoso.com';
const CUSTOMER = 'ada.lovelace@fabrikam.example';
let pair: Pair;
let accountId: number;
let dispatcher: OutboxDispatcher;

async function api(
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  payload?: object,
): Promise<{ status: number; body: string; json: <T>() => T }> {
  const response = await pair.postern.app.inject({
    method,
    url,
    headers: { authorization: pair.admin },
    ...(payload === undefined ? {} : { payload }),
  });
  return { status: response.statusCode, body: response.body, json: <T>() => response.json<T>() };
}

beforeAll(async () => {
  pair = await startPair();
  const created = await api('POST', '/api/cloudProviders', {
    name: 'Contoso app-only (Graph)',
    applicationId: CONTOSO.daemon.appId,
    tenantId: CONTOSO.tenantId,
    grantType: 'client_credentials',
    clientCertificate: { generate: true },
    cloud: 'custom',
    authorityUrl: pair.emulator.base,
    caFile: pair.emulator.handle.caFile,
  });
  expect(created.status, created.body).toBe(201);
  const providerId = created.json<{ id: number }>().id;
  // The administrator uploads the certificate Postern generated to the app registration.
  const certificate = (await api('GET', `/api/cloudProviders/${providerId}/clientCertificate`)).body;
  await pair.emulator.control('POST', `/apps/${CONTOSO.daemon.appId}/certificates`, { certificate });
  const authenticated = await api('POST', `/api/cloudProviders/${providerId}/authenticate`, {});
  expect(authenticated.status, authenticated.body).toBe(200);

  const roles = await pair.postern.runtime.startRoles(['mailboxSync'], {
    mailboxSync: { graphTuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 } } },
  });
  if (roles.mailboxSync === undefined) throw new Error('the mailbox workers did not start');
  const outbound = pair.postern.runtime.services.outbound;
  dispatcher = new OutboxDispatcher(outbound.dispatch, outbound.delivery, pair.postern.runtime.log.logger, {
    pollIntervalMs: 20,
  });
  await pair.emulator.control('POST', '/exchange/messages', {
    from: `Ada Lovelace <${CUSTOMER}>`,
    to: SHARED,
    subject: 'The engine stopped',
    text: 'It stopped at step 7.',
    messageId: '<engine@fabrikam.example>',
  });
  const account = await api('POST', '/api/email/accounts', {
    name: 'Developers',
    key: 'DEVG',
    emailAddress: SHARED,
    username: SHARED,
    providerId,
    transport: 'graph',
    firstSync: { kind: 'all' },
    pollIntervalSeconds: 10,
  });
  expect(account.status, account.body).toBe(201);
  accountId = account.json<{ id: number }>().id;
});
afterAll(async () => {
  await dispatcher?.stop();
  await pair?.close();
});

const db = () => pair.postern.runtime.db.kysely;
const sentSchema = z.object({
  sent: z.array(z.object({ via: z.string().optional(), messageId: z.string().nullable(), mailbox: z.string() })),
});

it('reads and replies through Graph with the application alone, inside its scope', { timeout: 120_000 }, async () => {
  const stored = await until('the customer message', async () =>
    db()
      .selectFrom('messages')
      .select(['id', 'interaction_id', 'graph_id'])
      .where('account_id', '=', accountId)
      .where('message_id', '=', '<engine@fabrikam.example>')
      .executeTakeFirst(),
  );
  expect(stored.graph_id).toEqual(expect.any(String));
  const queued = await api('POST', `/api/interactions/${stored.interaction_id}/reply`, { text: 'Restart at step 6.' });
  expect(queued.status, queued.body).toBe(202);
  const reply = queued.json<{ id: number; messageId: string }>();
  await until('the outbox empty', async () => {
    await dispatcher.runOnce();
    const open = await db()
      .selectFrom('outbox')
      .select('id')
      .where('state', 'in', ['queued', 'sending'])
      .executeTakeFirst();
    return open === undefined ? true : undefined;
  });
  const view = (await api('GET', `/api/messages/${reply.id}`)).json<{
    state: string;
    delivery: { serverResponse: string };
  }>();
  expect(view.state).toBe('sent');
  const sent = sentSchema.parse(await pair.emulator.control('GET', `/exchange/sent?mailbox=${SHARED}`));
  expect(sent.sent.find((s) => s.messageId === reply.messageId)).toMatchObject({ via: 'graph', mailbox: SHARED });
});

it(
  'is refused with the scope remedy once the mailbox is outside the application access policy',
  { timeout: 120_000 },
  async () => {
    await pair.emulator.control('POST', `/tenants/${CONTOSO.tenantId}/exchange/application-access-policies`, {
      appId: CONTOSO.daemon.appId,
      accessRight: 'RestrictAccess',
      mailboxes: [CONTOSO.andrea.upn],
    });
    // The next round (polling every 10 s) is refused; the account says why and what to do.
    const account = await until(
      'the account in error',
      async () => {
        const row = await db()
          .selectFrom('email_accounts')
          .select(['status', 'last_error_code', 'last_error_remedy'])
          .where('id', '=', accountId)
          .executeTakeFirstOrThrow();
        return row.last_error_code === 'GRAPH_ACCESS_DENIED' ? row : undefined;
      },
      30_000,
    );
    expect(account.status).not.toBe('connected');
    expect(account.last_error_remedy).toContain('Application Access Policy');
  },
);
