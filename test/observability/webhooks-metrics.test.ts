/**
 * Issue 9's acceptance for webhooks, events and metrics, end to end against the emulator: mail
 * delivered to the shared mailbox developers@ reaches Postern through the real mailbox workers,
 * becomes a `message.received` event, and is POSTed signed to a receiver that fails three times
 * before the retries deliver it; a receiver that never answers well gets its webhook disabled
 * with an event; the events API filters for agents; `/metrics` parses as Prometheus text and its
 * counters move as mail flows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import {
  MeteredIdentity,
  startMetricsServer,
  type MetricsServer,
  type PosternMetrics,
} from '../../src/metrics/index.js';
import { connectionOf } from '../../src/services/identity/provider-service.js';
import { verifySignature } from '../../src/services/webhooks/webhook-signature.js';
import { requireProvider } from '../../src/store/index.js';
import { CONTOSO, authenticatedProvider, startPair, type Pair } from '../providers/helpers.js';
import { buildObservabilityApp, parsePrometheus, sampleValue, startReceiver, until, type Receiver } from './helpers.js';

let pair: Pair;
let app: FastifyInstance;
let metrics: PosternMetrics;
let receiver: Receiver;
let broken: Receiver;
let accountId: number;
let providerId: number;

const MAX_ATTEMPTS = 4;

beforeAll(async () => {
  pair = await startPair({ POSTERN_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1' });
  ({ providerId } = await authenticatedProvider(pair));
  const { runtime } = pair.postern;
  // The composition root's metrics: the roles below report to them (ingests, webhook attempts, workers).
  metrics = runtime.services.metrics;
  app = await buildObservabilityApp(runtime, metrics);
  receiver = await startReceiver();
  broken = await startReceiver();
  await runtime.startRoles(['webhooks', 'mailboxSync'], {
    webhooks: { pollIntervalMs: 50, retry: { baseMs: 100, maxDelayMs: 400, maxAttempts: MAX_ATTEMPTS, jitter: 0 } },
    mailboxSync: { tuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 } } },
  });
});
afterAll(async () => {
  // The workers stop (with the rest of Postern) before the receivers they talk to.
  await pair?.postern.close();
  await app?.close();
  await receiver?.close();
  await broken?.close();
  await pair?.close();
});

const admin = () => ({ authorization: pair.admin });

async function createAccount(): Promise<number> {
  const created = await pair.postern.app.inject({
    method: 'POST',
    url: '/api/email/accounts',
    headers: admin(),
    payload: {
      name: 'Developers',
      key: 'DEV',
      emailAddress: 'developers@contoso.com',
      username: 'developers@contoso.com',
      providerId,
      modernAuthEmail: CONTOSO.andrea.upn,
      imapHost: '127.0.0.1',
      imapPort: Number(new URL(pair.emulator.handle.urls.imap ?? '').port),
      firstSync: { kind: 'all' },
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  return created.json<{ id: number }>().id;
}

async function scrape(): Promise<ReturnType<typeof parsePrometheus>> {
  const response = await app.inject({ method: 'GET', url: '/metrics', headers: admin() });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toContain('text/plain');
  return parsePrometheus(response.body);
}

describe('webhooks', () => {
  let secret: string;
  let webhookId: number;
  let brokenId: number;

  it('registers a webhook and shows its secret only once', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/webhooks',
      headers: admin(),
      payload: { url: receiver.url, events: ['message.received'], description: 'CRM' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const body = created.json<{ id: number; secret: string; active: boolean; events: string[] }>();
    expect(body).toMatchObject({ active: true, events: ['message.received'] });
    expect(body.secret).toMatch(/^whsec_/);
    ({ id: webhookId, secret } = body);
    const listed = await app.inject({ method: 'GET', url: '/api/webhooks', headers: admin() });
    expect(listed.body).not.toContain(secret);
    expect(listed.json().items).toHaveLength(1);

    const refused = await app.inject({
      method: 'POST',
      url: '/api/webhooks',
      headers: admin(),
      payload: { url: 'ftp://example.com/x', events: ['nope'] },
    });
    expect(refused.statusCode).toBe(400);
    expect(
      refused
        .json()
        .error.details.fields.map((f: { field: string }) => f.field)
        .sort(),
    ).toEqual(['events.0', 'url']);
    const agent = await pair.postern.bearer('agent');
    expect(
      (await app.inject({ method: 'GET', url: '/api/webhooks', headers: { authorization: agent.authorization } }))
        .statusCode,
    ).toBe(403);

    const hook = await app.inject({
      method: 'POST',
      url: '/api/webhooks',
      headers: admin(),
      payload: { url: broken.url, events: ['message.*'] },
    });
    brokenId = hook.json<{ id: number }>().id;
    broken.script([], 503);
  });

  it('delivers message.received signed, and after the receiver failed three times the retries deliver it', async () => {
    receiver.script([500, 502, 500]);
    const before = await scrape();
    accountId = await createAccount();
    await pair.emulator.control('POST', '/exchange/messages', {
      from: 'Carla Customer <carla@customer.example>',
      to: 'developers@contoso.com',
      subject: 'The build is red',
      text: 'Since this morning the pipeline fails.\n\nCarla',
      messageId: '<webhook-first@customer.example>',
    });
    const delivered = await until(
      'four attempts',
      () => (receiver.requests.length >= 4 ? receiver.requests : undefined),
      30_000,
    );
    expect(delivered.map((r) => r.status)).toEqual([500, 502, 500, 200]);
    const bodies = new Set(delivered.map((r) => r.body));
    expect(bodies.size, 'every attempt sends the same event').toBe(1);
    for (const [index, request] of delivered.entries()) {
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['postern-event']).toBe('message.received');
      expect(request.headers['postern-attempt']).toBe(String(index + 1));
      const header = request.headers['postern-signature'];
      if (typeof header !== 'string') throw new Error('no signature header');
      const verdict = verifySignature({
        secret,
        header,
        body: request.body,
        nowSeconds: Math.floor(pair.emulator.handle.clock.nowMs() / 1000),
      });
      expect(verdict.ok, header).toBe(true);
      expect(
        verifySignature({
          secret: 'whsec_wrong',
          header,
          body: request.body,
          nowSeconds: Math.floor(pair.emulator.handle.clock.nowMs() / 1000),
        }).ok,
      ).toBe(false);
    }

    const event = JSON.parse(delivered[3]?.body ?? '{}');
    const row = await pair.postern.runtime.db.kysely
      .selectFrom('messages')
      .selectAll()
      .where('message_id', '=', '<webhook-first@customer.example>')
      .executeTakeFirstOrThrow();
    expect(event).toMatchObject({
      type: 'message.received',
      scope: 'message',
      scopeId: row.id,
      data: {
        accountId,
        accountKey: 'DEV',
        interactionId: row.interaction_id,
        messageId: row.id,
        internetMessageId: '<webhook-first@customer.example>',
        from: { name: 'Carla Customer', address: 'carla@customer.example' },
        subject: 'The build is red',
        snippet: 'Since this morning the pipeline fails. Carla',
      },
    });

    const log = await until('the delivery log', async () => {
      const response = await app.inject({
        method: 'GET',
        url: `/api/webhooks/${webhookId}/deliveries`,
        headers: admin(),
      });
      const first = response.json<{ items: Array<{ state: string; attempts: number; responseStatus: number }> }>()
        .items[0];
      return first?.state === 'delivered' ? first : undefined;
    });
    expect(log).toMatchObject({ attempts: 4, responseStatus: 200 });

    // The database gauges are read at most once a second (scrapes in between share one reading):
    // the first scrape may still show the reading taken before the account existed.
    const after = await until('the gauges to show the connected account', async () => {
      const scraped = await scrape();
      return sampleValue(scraped.samples, 'postern_accounts', { status: 'connected' }) === 1 ? scraped : undefined;
    });
    const moved = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after.samples, name, labels) - sampleValue(before.samples, name, labels);
    expect(moved('postern_messages_ingested_total', { outcome: 'stored' })).toBeGreaterThanOrEqual(1);
    expect(moved('postern_webhook_deliveries_total', { result: 'retry' })).toBeGreaterThanOrEqual(3);
    expect(moved('postern_webhook_deliveries_total', { result: 'delivered' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after.samples, 'postern_accounts', { status: 'connected' })).toBe(1);
    expect(sampleValue(after.samples, 'postern_imap_connections')).toBe(1);
    expect(sampleValue(after.samples, 'postern_mailbox_workers')).toBe(1);
  });

  it('disables a webhook whose every attempt failed, with an event, and resumes it when enabled', async () => {
    const disabled = await until(
      'the broken webhook disabled',
      async () => {
        const response = await app.inject({ method: 'GET', url: `/api/webhooks/${brokenId}`, headers: admin() });
        return response.json<{ active: boolean }>().active ? undefined : response.json<{ failureCount: number }>();
      },
      30_000,
    );
    expect(disabled.failureCount).toBeGreaterThanOrEqual(MAX_ATTEMPTS);
    expect(broken.requests.filter((r) => r.headers['postern-event'] === 'message.received')).toHaveLength(MAX_ATTEMPTS);
    const events = await app.inject({ method: 'GET', url: '/api/events?type=webhook.disabled', headers: admin() });
    const event = events.json().items[0];
    expect(event).toMatchObject({
      level: 'error',
      scope: 'system',
      data: { webhookId: brokenId, failures: MAX_ATTEMPTS },
    });
    expect(event.message).toContain('HTTP 503');
    expect(event.data.url, 'the query string (tokens) is left out').not.toContain('?');

    // Fixed: enable it and redeliver the given-up delivery.
    broken.script([], 200);
    await app.inject({
      method: 'PATCH',
      url: `/api/webhooks/${brokenId}`,
      headers: admin(),
      payload: { active: true },
    });
    const failed = (
      await app.inject({ method: 'GET', url: `/api/webhooks/${brokenId}/deliveries?state=failed`, headers: admin() })
    ).json().items[0];
    const again = await app.inject({
      method: 'POST',
      url: `/api/webhooks/${brokenId}/deliveries/${failed.id}/redeliver`,
      headers: admin(),
    });
    expect(again.statusCode, again.body).toBe(202);
    await until('the redelivery', () => (broken.requests.at(-1)?.status === 200 ? true : undefined));
    expect(
      (await app.inject({ method: 'GET', url: `/api/webhooks/${brokenId}`, headers: admin() })).json(),
    ).toMatchObject({ active: true, failureCount: 0 });
  });

  it('pings one webhook on request', async () => {
    const count = receiver.requests.length;
    const ping = await app.inject({ method: 'POST', url: `/api/webhooks/${webhookId}/ping`, headers: admin() });
    expect(ping.statusCode, ping.body).toBe(202);
    const got = await until('the ping', () =>
      receiver.requests.slice(count).find((r) => r.headers['postern-event'] === 'webhook.ping'),
    );
    expect(JSON.parse(got.body)).toMatchObject({ type: 'webhook.ping', data: { webhookId } });
  });
});

describe('events API', () => {
  it('filters by type, account and level, and pages with a cursor', async () => {
    const received = await app.inject({
      method: 'GET',
      url: `/api/events?type=message.received&accountId=${accountId}`,
      headers: admin(),
    });
    expect(received.statusCode, received.body).toBe(200);
    expect(received.json().items).toHaveLength(1);
    const connected = await app.inject({
      method: 'GET',
      url: `/api/events?scope=account&scopeId=${accountId}&type=account.connected,account.created`,
      headers: admin(),
    });
    expect(connected.json().items.map((e: { type: string }) => e.type)).toContain('account.connected');
    const errors = await app.inject({ method: 'GET', url: '/api/events?level=error', headers: admin() });
    expect(errors.json().items.every((e: { level: string }) => e.level === 'error')).toBe(true);
    const first = await app.inject({ method: 'GET', url: '/api/events?limit=2', headers: admin() });
    const next = await app.inject({
      method: 'GET',
      url: `/api/events?limit=2&before=${first.json().nextBefore}`,
      headers: admin(),
    });
    expect(next.json().items[0].id).toBeLessThan(first.json().items[1].id);
    const bad = await app.inject({ method: 'GET', url: '/api/events?since=yesterday&level=loud', headers: admin() });
    expect(bad.statusCode).toBe(400);
  });

  it('shows an agent only the events of its accounts', async () => {
    const outsider = await pair.postern.bearer('agent');
    const none = await app.inject({
      method: 'GET',
      url: '/api/events',
      headers: { authorization: outsider.authorization },
    });
    expect(none.statusCode).toBe(200);
    expect(none.json().items).toEqual([]);
    const agent = await pair.postern.bearer('agent');
    await pair.postern.app.inject({
      method: 'PATCH',
      url: `/api/email/accounts/${accountId}`,
      headers: admin(),
      payload: { agentIds: [agent.userId] },
    });
    const mine = await app.inject({
      method: 'GET',
      url: '/api/events',
      headers: { authorization: agent.authorization },
    });
    const types: string[] = mine.json().items.map((e: { type: string }) => e.type);
    expect(types).toContain('message.received');
    expect(types).toContain('account.connected');
    expect(
      types.some((type) => type.startsWith('provider.') || type.startsWith('grant.') || type.startsWith('webhook.')),
    ).toBe(false);
  });
});

describe('metrics', () => {
  it('requires an administrator on the main port, and serves a separate listener without a token', async () => {
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const agent = await pair.postern.bearer('agent');
    expect(
      (await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: agent.authorization } }))
        .statusCode,
    ).toBe(403);
    let server: MetricsServer | undefined;
    try {
      server = await startMetricsServer(metrics, '127.0.0.1:0');
      const response = await fetch(`${server.url}/metrics`);
      expect(response.status).toBe(200);
      const { samples, types } = parsePrometheus(await response.text());
      expect(types.get('postern_messages_ingested_total')).toBe('counter');
      expect(types.get('postern_http_request_duration_seconds')).toBe('histogram');
      expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
      expect(sampleValue(samples, 'postern_database_up')).toBe(1);
      expect(
        sampleValue(samples, 'postern_http_request_duration_seconds_count', {
          route: '/api/webhooks/:id',
          method: 'GET',
          status_code: '200',
        }),
      ).toBeGreaterThan(0);
      expect((await fetch(`${server.url}/other`)).status).toBe(404);
    } finally {
      await server?.close();
    }
  });

  it('counts token requests and failures by AADSTS code', async () => {
    const identity = new MeteredIdentity(metrics, { timeoutMs: 10_000, now: () => pair.emulator.handle.clock.nowMs() });
    const provider = await requireProvider(pair.postern.runtime.db, providerId);
    const conn = connectionOf(provider, pair.postern.runtime.box);
    await expect(
      identity.refresh(conn, 'not-a-refresh-token', [
        'https://outlook.office.com/IMAP.AccessAsUser.All',
        'offline_access',
      ]),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^AUTH_/) });
    await identity.clientCredentials(conn, 'https://outlook.office365.com/.default').catch(() => undefined);
    const { samples } = await scrape();
    const failures = samples.filter(
      (s) => s.name === 'postern_token_refresh_failures_total' && s.labels.grant_type === 'refresh_token',
    );
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]?.labels.aadsts).toMatch(/^AADSTS\d+$/);
    expect(
      samples.some(
        (s) => s.name.startsWith('postern_token_') && s.labels.grant_type === 'client_credentials' && s.value > 0,
      ),
    ).toBe(true);
  });

  it('puts the new routes in the OpenAPI document with the signature scheme', async () => {
    const doc = JSON.stringify(app.swagger());
    expect(doc).toContain('/api/webhooks/{id}/deliveries');
    expect(doc).toContain('/api/events');
    expect(doc).toContain('Postern-Signature');
  });
});
