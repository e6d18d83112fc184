/**
 * Issue 16, point 1, through the whole runtime (mailbox workers, outbox dispatcher, API): a
 * database that cannot grow — SQLite's `max_page_count`, which gives SQLITE_FULL as a full disk
 * does — keeps the API answering reads, shows the account in `error` with STORE_DISK_FULL and its
 * remedy, says `degraded` on `/health`, holds the queued reply (never failed), and once it can grow
 * again everything resumes by itself: the waiting mail is stored once, the reply sent once.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOutboxByMessage, type Database } from '../../src/store/index.js';
import { until } from '../helpers/until.js';
import { sent } from '../outbound/helpers.js';
import { CONTOSO, authenticatedProvider, startPair, type Pair } from '../providers/helpers.js';

const DEVELOPERS = 'developers@contoso.com';
let pair: Pair;
let db: Database;
let accountId: number;

beforeAll(async () => {
  pair = await startPair();
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
});
afterAll(async () => {
  await sql.raw('pragma max_page_count = 1073741823').execute(db.kysely);
  await pair.close();
});

function api(method: 'GET' | 'POST', url: string, payload?: object) {
  return pair.postern.app.inject({
    method,
    url,
    headers: { authorization: pair.admin },
    ...(payload === undefined ? {} : { payload }),
  });
}

async function deliver(serial: number, lines: number): Promise<void> {
  await pair.emulator.control('POST', '/exchange/messages', {
    from: 'Carla Customer <carla@customer.example>',
    to: DEVELOPERS,
    subject: `Question ${serial}`,
    // 200 KB each when large: far more than the free pages the database is left with.
    text: Array.from({ length: lines }, (_, line) => `Line ${line} of message ${serial}: ${'x'.repeat(70)}`).join('\n'),
    messageId: `<disk-full-${serial}@customer.example>`,
  });
}

async function storedCount(): Promise<number> {
  const row = await db.kysely
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('direction', '=', 'in')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('a full disk under the running server', () => {
  it('keeps reads answering, shows STORE_DISK_FULL on the account and /health, holds sending, and resumes by itself', async () => {
    await deliver(0, 3);
    await until('the first message', async () => ((await storedCount()) === 1 ? true : undefined));
    const interactions = await api('GET', `/api/email/accounts/${accountId}/interactions`);
    expect(interactions.statusCode, interactions.body).toBe(200);
    const interactionId = interactions.json<{ items: Array<{ id: number }> }>().items[0]?.id;
    const reply = await api('POST', `/api/interactions/${interactionId}/reply`, { text: 'We are on it.' });
    expect(reply.statusCode, reply.body).toBe(202);
    const replyId = reply.json<{ id: number }>().id;

    // The disk fills up: not one more page.
    const pages = await sql<{ page_count: number }>`pragma page_count`.execute(db.kysely);
    await sql.raw(`pragma max_page_count = ${pages.rows[0]?.page_count ?? 0}`).execute(db.kysely);
    for (let serial = 1; serial <= 3; serial += 1) await deliver(serial, 2500);
    await pair.postern.runtime.startRoles(['outboxDispatch'], { outboxDispatch: { pollIntervalMs: 50 } });

    const shown = await until('the account in error', async () => {
      const account = await api('GET', `/api/email/accounts/${accountId}`);
      const body = account.json<{ status: string; lastError: { code: string; remedy: string | null } | null }>();
      return body.lastError?.code === 'STORE_DISK_FULL' ? body : undefined;
    });
    expect(shown.status).toBe('error');
    expect(shown.lastError?.remedy).toContain('Free space');
    const health = await pair.postern.app.inject({ method: 'GET', url: '/health' });
    expect(health.json()).toMatchObject({ status: 'degraded', store: { code: 'STORE_DISK_FULL' } });
    expect((await api('GET', `/api/email/accounts/${accountId}/interactions`)).statusCode).toBe(200);
    expect((await api('GET', `/api/messages/${replyId}`)).statusCode).toBe(200);
    // Held, not failed: whatever the dispatcher got to, the reply is queued or being sent.
    expect(['queued', 'sending', 'sent']).toContain((await getOutboxByMessage(db, replyId))?.state);
    expect(await storedCount()).toBe(1);

    // Space returns.
    await sql.raw('pragma max_page_count = 1073741823').execute(db.kysely);
    await until('every message stored', async () => ((await storedCount()) === 4 ? true : undefined), 30_000);
    await until(
      'the reply sent',
      async () => ((await getOutboxByMessage(db, replyId))?.state === 'sent' ? true : undefined),
      30_000,
    );
    await until('the account connected', async () => {
      const account = await api('GET', `/api/email/accounts/${accountId}`);
      return account.json<{ status: string }>().status === 'connected' ? true : undefined;
    });
    const ids = await db.kysely
      .selectFrom('messages')
      .select('message_id')
      .where('account_id', '=', accountId)
      .where('direction', '=', 'in')
      .execute();
    expect(new Set(ids.map((row) => row.message_id)).size).toBe(4);
    const replyMessageId = (await api('GET', `/api/messages/${replyId}`)).json<{ messageId: string }>().messageId;
    expect((await sent(pair.emulator)).filter((s) => s.messageId === replyMessageId)).toHaveLength(1);
    await until('health ok again', async () => {
      const again = await pair.postern.app.inject({ method: 'GET', url: '/health' });
      return again.json<{ status: string }>().status === 'ok' ? true : undefined;
    });
  });
});
