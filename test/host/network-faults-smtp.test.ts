/**
 * Issue 16, network faults toward the SMTP server: a reply on an account whose SMTP host does not
 * resolve (a `.invalid` name, failed at once by the test setup as DNS would), whose SMTP port
 * refuses connections, or whose server is a black hole (accepts the connection, never greets: only
 * the greeting timeout, shortened here, ends the wait). Each time the reply stays queued with a
 * retry scheduled after a growing delay — never lost, never failed for good — the message and the
 * account's timeline name host:port and the cause with its remedy, the doctor's SMTP check names
 * the endpoint too, the process keeps serving, and once the server is reachable the reply leaves
 * exactly once.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromDbTime, listEvents } from '../../src/store/index.js';
import { OutboxDispatcher } from '../../src/workers/outbox-dispatcher.js';
import { check, createAccount, diagnose } from '../doctor/helpers.js';
import { receiveInto, sink } from '../outbound/helpers.js';
import { until } from '../helpers/until.js';
import { CONTOSO, authenticate, authenticatedProvider, startPair, type Pair } from '../providers/helpers.js';

/** Short enough for a black hole to fail an attempt in a second; production waits 30 s. */
const SHORT = { connectionMs: 1_000, greetingMs: 1_000, socketMs: 2_000 };

let pair: Pair;
let providerId: number;
let dispatcher: OutboxDispatcher;
let smtpPort: number;
let silent: net.Server;
const silentSockets = new Set<net.Socket>();

/** A port nobody listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  pair = await startPair({}, { networkTimeouts: { smtp: SHORT, smtpProbe: SHORT } });
  ({ providerId } = await authenticatedProvider(pair));
  const marco = await authenticate(pair, providerId, { username: CONTOSO.marco.upn, password: CONTOSO.marco.password });
  expect(marco.response.headers.location).toContain('authentication=success');
  smtpPort = Number(new URL((pair.emulator.handle.urls.smtp ?? '').replace(/^smtp:/, 'http:')).port);
  silent = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on('close', () => silentSockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { runtime } = pair.postern;
  dispatcher = new OutboxDispatcher(
    runtime.services.outbound.dispatch,
    runtime.services.outbound.delivery,
    runtime.log.logger.child({ component: 'outbox' }),
    { pollIntervalMs: 20 },
  );
}, 120_000);
afterAll(async () => {
  await dispatcher?.stop();
  pair?.postern.runtime.services.outbound.submitter.close();
  for (const socket of silentSockets) socket.destroy();
  await new Promise<void>((resolve) => silent?.close(() => resolve()));
  await pair?.close();
});

const db = () => pair.postern.runtime.db;
const outboxRow = (messageId: number) =>
  db().kysely.selectFrom('outbox').selectAll().where('message_id', '=', messageId).executeTakeFirstOrThrow();

interface MessageView {
  state: string;
  delivery: { attempts: number; error: { code: string; message: string; remedy: string | null } | null };
}

async function view(id: number): Promise<MessageView> {
  const response = await pair.postern.app.inject({
    method: 'GET',
    url: `/api/messages/${id}`,
    headers: { authorization: pair.admin },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<MessageView>();
}

/** Runs dispatch rounds until the message has been tried `attempts` times and is queued again. */
async function attempted(id: number, attempts: number): Promise<MessageView> {
  return until(
    `message ${id} tried ${attempts} time(s) and queued again`,
    async () => {
      await dispatcher.runOnce();
      const seen = await view(id);
      return seen.delivery.attempts >= attempts && seen.state === 'queued' ? seen : undefined;
    },
    30_000,
  );
}

/** The next attempt's time of the message's queued outbox row. */
async function nextAttemptOf(id: number): Promise<number> {
  const row = await outboxRow(id);
  return fromDbTime(row.next_attempt_at).getTime();
}

describe('the SMTP server out of reach', () => {
  const cases = [
    {
      name: 'a name that does not resolve',
      key: 'SDNS',
      mailbox: CONTOSO.andrea.upn,
      delegate: undefined,
      endpoint: async () => ({ host: 'smtp.contoso.invalid', port: 587 }),
      says: /SMTP server smtp\.contoso\.invalid:587 could not be reached: its name could not be resolved \(DNS ENOTFOUND\)/,
    },
    {
      name: 'nobody listening (connection refused)',
      key: 'SREF',
      mailbox: CONTOSO.marco.upn,
      delegate: undefined,
      endpoint: async () => ({ host: '127.0.0.1', port: await closedPort() }),
      says: /connection to the SMTP server 127\.0\.0\.1:\d+ was refused/,
    },
    {
      name: 'a black hole (the server never greets)',
      key: 'SHOLE',
      mailbox: 'developers@contoso.com',
      delegate: CONTOSO.andrea.upn,
      endpoint: async () => ({ host: '127.0.0.1', port: (silent.address() as net.AddressInfo).port }),
      says: /SMTP server 127\.0\.0\.1:\d+ did not answer in time \((CONNECT|GREETING)_TIMEOUT/,
    },
  ];

  for (const fault of cases) {
    it(
      `${fault.name}: the reply waits for a retry, the timeline and the doctor name the endpoint; it leaves once reachable`,
      { timeout: 120_000 },
      async () => {
        const endpoint = await fault.endpoint();
        const accountId = await createAccount(pair, providerId, {
          name: fault.key,
          key: fault.key,
          emailAddress: fault.mailbox,
          username: fault.mailbox,
          transport: 'imap_smtp',
          smtpHost: endpoint.host,
          smtpPort: endpoint.port,
          ...(fault.delegate === undefined ? {} : { modernAuthEmail: fault.delegate }),
        });
        const customer = `${fault.key.toLowerCase()}@customer.example`;
        const conversation = await receiveInto(db(), pair.emulator, accountId, {
          from: customer,
          to: fault.mailbox,
          subject: `Waiting through ${fault.name}`,
          text: 'Hello',
          messageId: `<net-smtp-${fault.key.toLowerCase()}@customer.example>`,
        });
        const queued = await pair.postern.app.inject({
          method: 'POST',
          url: `/api/interactions/${conversation.interactionId}/reply`,
          headers: { authorization: pair.admin },
          payload: { text: 'We are on it.' },
        });
        expect(queued.statusCode, queued.body).toBe(202);
        const reply = queued.json<{ id: number; messageId: string }>();

        // The first attempt fails; the reply is queued again with the cause and its remedy.
        const first = await attempted(reply.id, 1);
        expect(first.delivery.error?.code).toBe('SMTP_CONNECTION_FAILED');
        expect(first.delivery.error?.message).toMatch(fault.says);
        expect(first.delivery.error?.remedy).toMatch(/Postern retries with growing delays/);
        const now = db().now().getTime();
        const firstDelay = (await nextAttemptOf(reply.id)) - now;
        expect(firstDelay).toBeGreaterThan(0);

        // The account's timeline (what its agents see) tells the same, naming the endpoint.
        const timeline = await listEvents(db(), { accountIds: [accountId], types: ['message.retry_scheduled'] });
        expect(timeline.items[0]?.message).toMatch(fault.says);
        expect(timeline.items[0]?.message).toContain(`${endpoint.host}:${endpoint.port}`);

        // The second attempt fails the same way and waits longer: backoff, not a tight loop.
        pair.emulator.handle.clock.advance(firstDelay + 1_000);
        const second = await attempted(reply.id, 2);
        expect(second.delivery.error?.code).toBe('SMTP_CONNECTION_FAILED');
        const secondDelay = (await nextAttemptOf(reply.id)) - db().now().getTime();
        expect(secondDelay).toBeGreaterThan(firstDelay);

        const diagnosis = await diagnose(pair, `account=${accountId}`);
        const smtpCheck = check(diagnosis, 'account.smtp');
        expect(smtpCheck.result).toBe('failed');
        expect(smtpCheck.evidence).toContain(`${endpoint.host}:${endpoint.port}`);
        expect(smtpCheck.evidence).toMatch(fault.says);

        // The process is alive and serving.
        const health = await pair.postern.app.inject({ method: 'GET', url: '/health' });
        expect(health.statusCode).toBe(200);

        // The path is back: the reply leaves, once.
        const changed = await pair.postern.app.inject({
          method: 'PATCH',
          url: `/api/email/accounts/${accountId}`,
          headers: { authorization: pair.admin },
          payload: { smtpHost: '127.0.0.1', smtpPort },
        });
        expect(changed.statusCode, changed.body).toBe(200);
        pair.emulator.handle.clock.advance(secondDelay + 1_000);
        const done = await until(
          'the reply sent',
          async () => {
            await dispatcher.runOnce();
            const seen = await view(reply.id);
            return seen.state === 'sent' ? seen : undefined;
          },
          30_000,
        );
        expect(done.delivery.attempts).toBe(3);
        const out = (await sink(pair.emulator, customer)).filter((m) => m.messageId === reply.messageId);
        expect(out).toHaveLength(1);
      },
    );
  }
});
