/**
 * Issue 16, point 3: PostgreSQL stopped (a fast shutdown that ends every connection) for a few
 * seconds while mail arrives and a reply waits, then started again. Meanwhile requests answer at
 * once with STORE_UNAVAILABLE (none hangs) and `/health` says degraded; afterwards the pool
 * reconnects by itself, the mailbox worker stores every message once and the reply is sent once.
 * The server is one of the test's own: the run's shared PostgreSQL is never stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOutboxByMessage, type Database } from '../../src/store/index.js';
import { until } from '../helpers/until.js';
import { sent } from '../outbound/helpers.js';
import { CONTOSO, authenticatedProvider, startPair, type Pair } from '../providers/helpers.js';
import { startOwnPostgres, type OwnPostgres } from './own-postgres.js';

const DEVELOPERS = 'developers@contoso.com';
let postgres: OwnPostgres;
let pair: Pair;
let db: Database;
let accountId: number;

beforeAll(async () => {
  postgres = await startOwnPostgres();
  pair = await startPair({ POSTERN_DATABASE_URL: postgres.url, POSTERN_DATABASE_QUERY_TIMEOUT_SECONDS: '10' });
  db = pair.postern.runtime.db;
  const { providerId } = await authenticatedProvider(pair);
  await pair.postern.runtime.startRoles(['mailboxSync'], {
    mailboxSync: { tuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 } } },
  });
  const created = await api('POST', '/api/email/accounts', {
    name: 'Developers',
    key: 'DEV',
    emailAddress: DEVELOPERS,
    username: DEVELOPERS,
    providerId,
    modernAuthEmail: CONTOSO.andrea.upn,
    imapHost: '127.0.0.1',
    imapPort: Number(new URL(pair.emulator.handle.urls.imap ?? '').port),
    smtpHost: '127.0.0.1',
    smtpPort: Number(new URL(pair.emulator.handle.urls.smtp ?? '').port),
    firstSync: { kind: 'all' },
  });
  expect(created.statusCode, created.body).toBe(201);
  accountId = created.json<{ id: number }>().id;
}, 60_000);
afterAll(async () => {
  await postgres.start().catch(() => undefined);
  await pair.close();
  await postgres.remove();
});

function api(method: 'GET' | 'POST', url: string, payload?: object) {
  return pair.postern.app.inject({
    method,
    url,
    headers: { authorization: pair.admin },
    ...(payload === undefined ? {} : { payload }),
  });
}

async function deliver(serial: number): Promise<void> {
  await pair.emulator.control('POST', '/exchange/messages', {
    from: 'Carla Customer <carla@customer.example>',
    to: DEVELOPERS,
    subject: `Question ${serial}`,
    text: `Question number ${serial}.`,
    messageId: `<pg-restart-${serial}@customer.example>`,
  });
}

async function inbound(): Promise<string[]> {
  const rows = await db.kysely
    .selectFrom('messages')
    .select('message_id')
    .where('account_id', '=', accountId)
    .where('direction', '=', 'in')
    .execute();
  return rows.map((row) => row.message_id ?? '');
}

async function health(): Promise<{ status: string; store?: { code: string } }> {
  const response = await pair.postern.app.inject({ method: 'GET', url: '/health' });
  expect(response.statusCode).toBe(200);
  return response.json();
}

describe('PostgreSQL restarting under the running server', () => {
  it('answers STORE_UNAVAILABLE and degraded meanwhile, then reconnects and loses or doubles nothing', async () => {
    await deliver(0);
    await until('the first message', async () => ((await inbound()).length === 1 ? true : undefined));
    const interactions = await api('GET', `/api/email/accounts/${accountId}/interactions`);
    const interactionId = interactions.json<{ items: Array<{ id: number }> }>().items[0]?.id;
    const reply = await api('POST', `/api/interactions/${interactionId}/reply`, { text: 'Before the restart.' });
    expect(reply.statusCode, reply.body).toBe(202);
    const replyId = reply.json<{ id: number; messageId: string }>();

    await postgres.stop();
    for (let serial = 1; serial <= 3; serial += 1) await deliver(serial);
    await pair.postern.runtime.startRoles(['outboxDispatch'], { outboxDispatch: { pollIntervalMs: 50 } });
    // Every request answers, with the store's error, instead of waiting for the database.
    const during = await api('GET', `/api/email/accounts/${accountId}`);
    expect(during.statusCode, during.body).toBe(503);
    expect(during.json()).toMatchObject({ error: { code: 'STORE_UNAVAILABLE' } });
    expect(await health()).toMatchObject({ status: 'degraded', store: { code: 'STORE_UNAVAILABLE' } });
    // The outage lasts while the mailbox worker notices the new mail and fails to store it.
    const seenBy = Date.now() + 3000;
    await until('a few seconds of outage', async () => {
      expect((await health()).status).toBe('degraded');
      return Date.now() >= seenBy ? true : undefined;
    });

    await postgres.start();
    await until('every message stored', async () => ((await inbound()).length >= 4 ? true : undefined), 30_000);
    await until(
      'the reply sent',
      async () => ((await getOutboxByMessage(db, replyId.id))?.state === 'sent' ? true : undefined),
      30_000,
    );
    await until('the account connected', async () => {
      const account = await api('GET', `/api/email/accounts/${accountId}`);
      return account.json<{ status: string }>().status === 'connected' ? true : undefined;
    });
    await until('health ok', async () => ((await health()).status === 'ok' ? true : undefined));
    const stored = await inbound();
    expect(stored).toHaveLength(4);
    expect(new Set(stored).size).toBe(4);
    expect((await sent(pair.emulator)).filter((s) => s.messageId === replyId.messageId)).toHaveLength(1);

    // And the next reply goes out as usual.
    const next = await api('POST', `/api/interactions/${interactionId}/reply`, { text: 'After the restart.' });
    expect(next.statusCode, next.body).toBe(202);
    const nextId = next.json<{ id: number }>().id;
    await until('the next reply sent', async () =>
      (await getOutboxByMessage(db, nextId))?.state === 'sent' ? true : undefined,
    );
  });
});
