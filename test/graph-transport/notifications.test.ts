/**
 * Graph change notifications end to end over loopback TLS: the emulator's Graph validates
 * Postern's notification endpoint (the real route plugin on an https listener with a certificate
 * the emulator trusts), posts notifications and lifecycle events to it, and the Graph engine —
 * polling only once an hour — stores new mail because a notification woke it. Both engines.
 */
import http from 'node:http';
import https from 'node:https';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DAY_MS } from '../../emulator/clock.js';
import { createCaFetch } from '../../emulator/tls/ca-fetch.js';
import { registerErrorHandling } from '../../src/http/plugins/errors.js';
import { graphNotificationRoutes } from '../../src/http/routes/graph-notifications/index.js';
import { GraphClient } from '../../src/mail/graph/graph-client.js';
import type { Services } from '../../src/services/index.js';
import { GraphNotificationService } from '../../src/services/inbound/graph-notifications.js';
import type { Database, EmailAccountRecord } from '../../src/store/index.js';
import { userToken } from '../graph/helpers/graph-emulator.js';
import { forEachEngine } from '../helpers/store.js';
import {
  CONTOSO,
  buildGraphSync,
  customerMessage,
  eventually,
  graphAccount,
  startGraphMail,
  type GraphMail,
  type GraphSyncUnderTest,
} from './inbound-helpers.js';

const HOUR = 3_600_000;
const GRAPH = 'https://graph.microsoft.com';

interface EmulatorSubscription {
  id: string;
  resource: string;
  expirationDateTime: string;
  notificationUrl: string;
}

async function emulatorSubscriptions(mail: GraphMail): Promise<EmulatorSubscription[]> {
  const answer = (await mail.emu.control('GET', '/graph/subscriptions')) as { subscriptions: EmulatorSubscription[] };
  return answer.subscriptions;
}

/** Postern's notification routes, served over plain HTTP as Postern serves them. */
async function notificationApp(service: GraphNotificationService): Promise<FastifyInstance> {
  const app = Fastify();
  registerErrorHandling(app);
  await app.register(fastifyRateLimit, { global: false });
  // The route plugin needs only this service.
  await app.register(graphNotificationRoutes, { services: { graphNotifications: service } as unknown as Services });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}

/**
 * A TLS-terminating proxy in front of the app (as a reverse proxy would be), with the emulator's
 * own server certificate (127.0.0.1), so that the emulator trusts it. `target` is set later.
 */
async function tlsProxy(mail: GraphMail): Promise<{ server: https.Server; url: string; target: { port: number } }> {
  const target = { port: 0 };
  const tls = mail.emu.handle.tls;
  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    const upstream = http.request(
      { host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, url: `https://127.0.0.1:${address.port}`, target };
}

/** A POST through the proxy, trusting the emulator's CA. */
async function postTrusted(mail: GraphMail, url: string, body: unknown): Promise<{ status: number; body: string }> {
  const fetchTrusted = createCaFetch(mail.emu.handle.caPem);
  const response = await fetchTrusted(url, {
    method: 'POST',
    headers: { 'content-type': body === undefined ? 'text/plain' : 'application/json' },
    body: body === undefined ? '' : JSON.stringify(body),
  });
  return { status: response.status, body: await response.text() };
}

forEachEngine((_engine, openFresh) => {
  let mail: GraphMail;
  let db: Database;
  let app: FastifyInstance;
  let proxy: Awaited<ReturnType<typeof tlsProxy>>;
  let service: GraphNotificationService;
  let publicUrl: string;

  beforeAll(async () => {
    mail = await startGraphMail();
    db = await openFresh();
    proxy = await tlsProxy(mail);
    publicUrl = proxy.url;
    service = new GraphNotificationService(db, publicUrl);
    app = await notificationApp(service);
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    proxy.target.port = address.port;
  }, 60_000);
  afterAll(async () => {
    proxy?.server.close();
    await app?.close();
    await mail?.stop();
  });

  /** A client whose token follows the emulator's clock (moved by days in the renewal step). */
  function engineFor(account: EmailAccountRecord, withNotifications: boolean): GraphSyncUnderTest {
    let token: { at: number; value: Promise<string> } | undefined;
    const clock = () => mail.emu.handle.clock.now();
    return buildGraphSync(mail, db, account, {
      clock,
      pollIntervalMs: HOUR,
      openClient: async (signal) =>
        new GraphClient({
          target: { apiBase: `${mail.emu.base}/v1.0`, mailbox: account.username, ca: mail.emu.handle.caPem },
          accessToken: () => {
            if (token === undefined || clock().getTime() - token.at > 30 * 60_000)
              token = {
                at: clock().getTime(),
                value: userToken(mail.emu, CONTOSO.andrea, `${GRAPH}/Mail.ReadWrite.Shared`),
              };
            return token.value;
          },
          purpose: 'read',
          signal,
        }),
      ...(withNotifications ? { subscriptions: service.portFor(account.id) } : {}),
      tuning: { subscriptionCheckMs: 100 },
    });
  }

  const storedCount = async (accountId: number): Promise<number> =>
    (await db.kysely.selectFrom('messages').select('id').where('account_id', '=', accountId).execute()).length;

  const storedSubscription = async (accountId: number) =>
    db.kysely.selectFrom('graph_subscriptions').selectAll().where('account_id', '=', accountId).executeTakeFirst();

  it(
    'subscribes after the handshake, stores mail a notification announces, refuses a forged one, renews, and answers lifecycle events',
    { timeout: 120_000 },
    async () => {
      const account = await graphAccount(mail, db, 'Notified');
      const engine = engineFor(account, true);
      engine.sync.start();
      try {
        // Handshake passed: the emulator holds the subscription, Postern its id and clientState's hash.
        await eventually(async () => (await storedSubscription(account.id)) !== undefined, 20_000, 'a subscription');
        const first = await storedSubscription(account.id);
        const [held] = await emulatorSubscriptions(mail);
        expect(held?.id).toBe(first?.subscription_id);
        expect(held?.notificationUrl).toBe(`${publicUrl}/api/graph/notifications`);
        expect(held?.resource).toContain('/mailFolders(');
        expect(first?.client_state_hash).toMatch(/^[0-9a-f]{64}$/);
        await eventually(() => engine.rounds.length >= 1, 20_000, 'the first round');

        // Polling is an hour away: only the notification can bring this message in.
        mail.deliver('Notified', customerMessage({ subject: 'Announced' }));
        await eventually(async () => (await storedCount(account.id)) === 1, 20_000, 'the announced message');
        await eventually(
          () => engine.rounds.some((round) => round.some((folder) => folder.stored === 1)),
          20_000,
          'the round that stored it',
        );

        // A forged notification (right subscription, wrong clientState) is refused and wakes nothing.
        await mail.emu.control('PUT', '/graph/subscriptions/delivery', { paused: true });
        mail.deliver('Notified', customerMessage({ subject: 'Unannounced' }));
        const roundsBefore = engine.rounds.length;
        const answer = await postTrusted(mail, `${publicUrl}/api/graph/notifications`, {
          value: [{ subscriptionId: first?.subscription_id, clientState: 'guess' }],
        });
        expect(answer.status).toBe(403);
        expect(answer.body).toContain('GRAPH_NOTIFICATION_REFUSED');
        // A validation token is not echoed when Postern is not creating a subscription.
        const echo = await postTrusted(mail, `${publicUrl}/api/graph/notifications?validationToken=abc`, undefined);
        expect(echo.status).toBe(403);
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        expect(engine.rounds.length).toBe(roundsBefore);
        expect(await storedCount(account.id)).toBe(1);

        // `missed` → a delta round at once: the unannounced message comes in.
        await mail.emu.control('PUT', '/graph/subscriptions/delivery', { paused: false });
        await mail.emu.control('POST', `/graph/subscriptions/${first?.subscription_id}/lifecycle`, { event: 'missed' });
        await eventually(async () => (await storedCount(account.id)) === 2, 20_000, 'the missed message');

        // Renewal before expiry: two and a half days later (of three), the same subscription lives on.
        const before = new Date(held?.expirationDateTime ?? 0).getTime();
        mail.emu.handle.clock.advance(2.5 * DAY_MS);
        await eventually(
          async () => new Date((await emulatorSubscriptions(mail))[0]?.expirationDateTime ?? 0).getTime() > before,
          20_000,
          'the renewal',
        );
        expect((await emulatorSubscriptions(mail)).map((s) => s.id)).toEqual([first?.subscription_id]);
        expect((await storedSubscription(account.id))?.renewed_at).not.toBeNull();

        // reauthorizationRequired → renewed now.
        const renewedAt = (await storedSubscription(account.id))?.renewed_at;
        mail.emu.handle.clock.advance(60_000);
        await mail.emu.control('POST', `/graph/subscriptions/${first?.subscription_id}/lifecycle`, {
          event: 'reauthorizationRequired',
        });
        await eventually(
          async () => (await storedSubscription(account.id))?.renewed_at !== renewedAt,
          20_000,
          'the renewal asked for',
        );

        // subscriptionRemoved → a new subscription, which announces mail again.
        await mail.emu.control('POST', `/graph/subscriptions/${first?.subscription_id}/lifecycle`, {
          event: 'subscriptionRemoved',
        });
        await eventually(
          async () => {
            const now = await storedSubscription(account.id);
            return now !== undefined && now.subscription_id !== first?.subscription_id;
          },
          20_000,
          'a new subscription',
        );
        const replaced = await storedSubscription(account.id);
        expect((await emulatorSubscriptions(mail)).map((s) => s.id)).toEqual([replaced?.subscription_id]);
        mail.deliver('Notified', customerMessage({ subject: 'After the removal' }));
        await eventually(async () => (await storedCount(account.id)) === 3, 20_000, 'the third message');
      } finally {
        await engine.sync.stop();
      }
      // Stopping deletes the subscription in Graph and in the store.
      expect(await emulatorSubscriptions(mail)).toEqual([]);
      expect(await storedSubscription(account.id)).toBeUndefined();
    },
  );

  it('with an http public URL there is no subscription: the engine polls', { timeout: 60_000 }, async () => {
    expect(new GraphNotificationService(db, 'http://localhost:8080').portFor(1)).toBeUndefined();
    const account = await graphAccount(mail, db, 'Polled');
    const engine = buildGraphSync(mail, db, account, { pollIntervalMs: 200 });
    engine.sync.start();
    try {
      mail.deliver('Polled', customerMessage({ subject: 'Polled' }));
      await eventually(async () => (await storedCount(account.id)) === 1, 20_000, 'the polled message');
      expect(await emulatorSubscriptions(mail)).toEqual([]);
      expect(await storedSubscription(account.id)).toBeUndefined();
    } finally {
      await engine.sync.stop();
    }
  });

  it(
    'creates the folder mail is moved to when it is missing (POST mailFolders and childFolders)',
    { timeout: 60_000 },
    async () => {
      const account = await graphAccount(mail, db, 'Moving', {
        afterFetchAction: 'move',
        afterFetchFolder: 'Handled/Done',
      });
      expect(mail.exchange.service.store.mailbox('developers@contoso.com').byName('Handled')).toBeUndefined();
      mail.deliver('Moving', customerMessage({ subject: 'Move me' }));
      const [report] = await buildGraphSync(mail, db, account).sync.syncOnce();
      expect(report).toMatchObject({ stored: 1, actionsApplied: 1 });
      expect(mail.messages('Moving')).toEqual([]);
      expect(mail.messages('Handled/Done')).toHaveLength(1);
      // A second folder of the same name under the same parent is refused, as Graph does.
      const token = await mail.token();
      const handled = mail.exchange.service.store.mailbox('developers@contoso.com').byName('Handled');
      const again = await createCaFetch(mail.emu.handle.caPem)(
        `${mail.emu.base}/v1.0/users/developers@contoso.com/mailFolders`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ displayName: 'handled' }),
        },
      );
      expect(handled).toBeDefined();
      expect(again.status).toBe(409);
      expect(await again.text()).toContain('ErrorFolderExists');
    },
  );

  it(
    'across restarts: a live subscription of an earlier run is reused, a stale one replaced',
    { timeout: 60_000 },
    async () => {
      const account = await graphAccount(mail, db, 'Restarted');
      const earlier = engineFor(account, true);
      earlier.sync.start();
      const later = engineFor(account, true);
      try {
        await eventually(async () => (await storedSubscription(account.id)) !== undefined, 20_000, 'a subscription');
        const first = await storedSubscription(account.id);
        // The next run finds it in the store and in Graph: kept.
        later.sync.start();
        await eventually(() => later.rounds.length >= 1, 20_000, 'the later run');
        expect((await emulatorSubscriptions(mail)).map((s) => s.id)).toEqual([first?.subscription_id]);
        expect((await storedSubscription(account.id))?.subscription_id).toBe(first?.subscription_id);
      } finally {
        await later.sync.stop();
        await earlier.sync.stop();
      }
      expect(await emulatorSubscriptions(mail)).toEqual([]);

      // A row whose subscription Graph no longer knows (an emulator restart, a long outage): replaced.
      await db.kysely
        .insertInto('graph_subscriptions')
        .values({
          account_id: account.id,
          folder: 'Restarted',
          subscription_id: 'gone-since-long',
          client_state_hash: '0'.repeat(64),
          expires_at: new Date(mail.emu.handle.clock.now().getTime() + DAY_MS).toISOString(),
          created_at: mail.emu.handle.clock.now().toISOString(),
        })
        .execute();
      const next = engineFor(account, true);
      next.sync.start();
      try {
        await eventually(
          async () => {
            const row = await storedSubscription(account.id);
            return row !== undefined && row.subscription_id !== 'gone-since-long';
          },
          20_000,
          'a new subscription',
        );
        expect(await emulatorSubscriptions(mail)).toHaveLength(1);
      } finally {
        await next.sync.stop();
      }
    },
  );

  it("a failed validation handshake refuses the subscription with Graph's words", { timeout: 30_000 }, async () => {
    const token = await mail.token();
    // Postern is creating no subscription now: its endpoint does not echo the token.
    const answer = await createCaFetch(mail.emu.handle.caPem)(`${mail.emu.base}/v1.0/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        changeType: 'created',
        notificationUrl: `${publicUrl}/api/graph/notifications`,
        resource: "users/developers@contoso.com/mailFolders('inbox')/messages",
        expirationDateTime: new Date(mail.emu.handle.clock.now().getTime() + DAY_MS).toISOString(),
        clientState: 'x',
      }),
    });
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain(
      'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
    );
    // An http notification URL is refused before any handshake.
    const plain = await createCaFetch(mail.emu.handle.caPem)(`${mail.emu.base}/v1.0/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        changeType: 'created',
        notificationUrl: 'http://127.0.0.1:9/notify',
        resource: "users/developers@contoso.com/mailFolders('inbox')/messages",
        expirationDateTime: new Date(mail.emu.handle.clock.now().getTime() + DAY_MS).toISOString(),
      }),
    });
    expect(plain.status).toBe(400);
    expect(await emulatorSubscriptions(mail)).toEqual([]);
  });

  it(
    'a subscription that expired on the emulator clock (renewal missed) is replaced',
    { timeout: 60_000 },
    async () => {
      const account = await graphAccount(mail, db, 'Expired');
      const engine = engineFor(account, true);
      engine.sync.start();
      try {
        await eventually(async () => (await storedSubscription(account.id)) !== undefined, 20_000, 'a subscription');
        const first = await storedSubscription(account.id);
        // Four days on: the emulator forgets it; Postern's renewal meets 404 and subscribes again.
        mail.emu.handle.clock.advance(4 * DAY_MS);
        await eventually(
          async () => {
            const now = await storedSubscription(account.id);
            return now !== undefined && now.subscription_id !== first?.subscription_id;
          },
          20_000,
          'a new subscription',
        );
        const replaced = await storedSubscription(account.id);
        expect((await emulatorSubscriptions(mail)).map((s) => s.id)).toEqual([replaced?.subscription_id]);
      } finally {
        await engine.sync.stop();
      }
    },
  );
});
