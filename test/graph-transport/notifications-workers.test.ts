/**
 * Graph change notifications through the whole of Postern: the runtime with `POSTERN_PUBLIC_URL`
 * on https (a TLS-terminating proxy in front of the web role, with a certificate the emulator
 * trusts), the mailbox workers, and an account on transport `graph` polling once an hour. Mail
 * delivered to developers@ is stored within seconds: only the notification, answered by the
 * real `/api/graph/notifications` route, can explain it. Disabling the account deletes the
 * subscription.
 */
import https from 'node:https';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONTOSO, authenticatedProvider, startPair, type Pair } from '../providers/helpers.js';
import { until } from '../helpers/until.js';
import { eventually } from './inbound-helpers.js';

const GRAPH = 'https://graph.microsoft.com';
let pair: Pair;
let proxy: https.Server;
let accountId: number;

/**
 * An https listener started before Postern (whose public URL must name its port), given the
 * emulator's server certificate once the emulator runs; each request goes to the web role.
 */
async function startProxy(): Promise<{ server: https.Server; url: string }> {
  const server = https.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void pair.postern.app
        .inject({
          method: req.method as 'POST',
          url: req.url ?? '/',
          headers: req.headers,
          payload: Buffer.concat(chunks),
        })
        .then((answer) => {
          res.writeHead(answer.statusCode, answer.headers as Record<string, string>);
          res.end(answer.rawPayload);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, url: `https://127.0.0.1:${address.port}` };
}

beforeAll(async () => {
  const started = await startProxy();
  proxy = started.server;
  pair = await startPair({ POSTERN_PUBLIC_URL: started.url });
  const tls = pair.emulator.handle.tls;
  proxy.setSecureContext({ key: tls.keyPem, cert: tls.certPem });
  // The app registration knows Postern by its public URL.
  await pair.emulator.control('PATCH', `/apps/${CONTOSO.web.appId}`, {
    redirectUris: { web: [`${started.url}/api/cloudProviders/oauth2/microsoft/callback`] },
  });
  const { providerId } = await authenticatedProvider(pair, {
    scopes: [
      `${GRAPH}/Mail.ReadWrite`,
      `${GRAPH}/Mail.ReadWrite.Shared`,
      'offline_access',
      'openid',
      'profile',
      'email',
    ],
  });
  const roles = await pair.postern.runtime.startRoles(['mailboxSync'], {
    mailboxSync: { graphTuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 } } },
  });
  if (roles.mailboxSync === undefined) throw new Error('the mailbox workers did not start');
  const created = await pair.postern.app.inject({
    method: 'POST',
    url: '/api/email/accounts',
    headers: { authorization: pair.admin },
    payload: {
      name: 'Developers',
      key: 'DEV',
      emailAddress: 'developers@contoso.com',
      username: 'developers@contoso.com',
      providerId,
      modernAuthEmail: CONTOSO.andrea.upn,
      transport: 'graph',
      firstSync: { kind: 'all' },
      pollIntervalSeconds: 3600,
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  accountId = created.json<{ id: number }>().id;
}, 90_000);
afterAll(async () => {
  await pair?.close();
  proxy?.close();
});

const db = () => pair.postern.runtime.db.kysely;

async function emulatorSubscriptions(): Promise<Array<{ id: string }>> {
  return ((await pair.emulator.control('GET', '/graph/subscriptions')) as { subscriptions: Array<{ id: string }> })
    .subscriptions;
}

it(
  'subscribes through the public URL, stores announced mail at once with polling an hour away, unsubscribes when disabled',
  { timeout: 90_000 },
  async () => {
    const stored = await until('the subscription', async () =>
      db().selectFrom('graph_subscriptions').selectAll().where('account_id', '=', accountId).executeTakeFirst(),
    );
    expect((await emulatorSubscriptions()).map((s) => s.id)).toEqual([stored.subscription_id]);
    // Wait for the first round (the account connected), so that the next message is news.
    await eventually(
      async () =>
        (await db().selectFrom('email_accounts').select('status').where('id', '=', accountId).executeTakeFirst())
          ?.status === 'connected',
      30_000,
      'connected',
    );
    await pair.emulator.control('POST', '/exchange/messages', {
      from: 'Gina Customer <gina@customer.example>',
      to: 'developers@contoso.com',
      subject: 'Announced',
      text: 'A notification brings me.',
      messageId: '<announced@customer.example>',
    });
    await until('the announced message', async () =>
      db()
        .selectFrom('messages')
        .select('id')
        .where('account_id', '=', accountId)
        .where('message_id', '=', '<announced@customer.example>')
        .executeTakeFirst(),
    );

    const disabled = await pair.postern.app.inject({
      method: 'POST',
      url: `/api/email/accounts/${accountId}/disable`,
      headers: { authorization: pair.admin },
    });
    expect(disabled.statusCode, disabled.body).toBeLessThan(300);
    await eventually(async () => (await emulatorSubscriptions()).length === 0, 30_000, 'the subscription deleted');
    expect(
      await db().selectFrom('graph_subscriptions').selectAll().where('account_id', '=', accountId).execute(),
    ).toEqual([]);
  },
);
