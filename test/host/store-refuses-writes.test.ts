/**
 * Issue 16, point 1: a store that cannot write — SQLite's `query_only`, which refuses every write
 * with SQLITE_READONLY as a read-only file system does — holds sending instead of failing it, keeps
 * the API answering reads, and says so on `/health`; once it writes again, everything resumes by
 * itself. The hardest moment is chosen on purpose: the store stops writing right after the
 * submission server accepted the message, before its "sent" could be recorded. The message must
 * neither be failed nor submitted a second time.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOutboxByMessage, type Database } from '../../src/store/index.js';
import { until } from '../helpers/until.js';
import { CONTOSO, createAccount, receive, sent, startOutbound, type OutboundHarness } from '../outbound/helpers.js';

let h: OutboundHarness;
let db: Database;
let accountId: number;

async function refuseWrites(on: boolean): Promise<void> {
  await sql.raw(`pragma query_only = ${on ? 1 : 0}`).execute(db.kysely);
}

beforeAll(async () => {
  h = await startOutbound({ pollIntervalMs: 50 });
  db = h.pair.postern.runtime.db;
  accountId = await createAccount(h, { key: 'RO', emailAddress: CONTOSO.andrea.upn });
});
afterAll(async () => {
  await refuseWrites(false);
  await h.close();
});

async function health(): Promise<{ status: string; store?: { code: string; remedy: string | null } }> {
  const response = await h.pair.postern.app.inject({ method: 'GET', url: '/health' });
  expect(response.statusCode).toBe(200);
  return response.json();
}

describe('a store that refuses writes', () => {
  it('keeps the API answering reads and /health degraded with the remedy, and recovers', async () => {
    await refuseWrites(true);
    try {
      // An API token's "last used" is a write: it must not turn the reader away.
      const accounts = await h.api('GET', '/api/email/accounts');
      expect(accounts.statusCode, accounts.body).toBe(200);
      const account = await h.api('GET', `/api/email/accounts/${accountId}`);
      expect(account.statusCode, account.body).toBe(200);
      const degraded = await health();
      expect(degraded).toMatchObject({ status: 'degraded', store: { code: 'STORE_READ_ONLY' } });
      expect(degraded.store?.remedy).toContain('read-write');
    } finally {
      await refuseWrites(false);
    }
    expect((await h.api('GET', '/api/email/accounts')).statusCode).toBe(200);
    expect(await health()).toEqual({ status: 'ok', version: 'test' });
  });

  it('holds a message accepted by the server until its "sent" can be recorded, and never submits it twice', async () => {
    const first = await receive(h, accountId, {
      from: 'Grace <grace@fabrikam.example>',
      to: CONTOSO.andrea.upn,
      subject: 'Read-only store',
      text: 'Is my order there?',
    });
    // The moment the server accepts the message, the store stops writing.
    const submitter = h.outbound.submitter;
    const submit = submitter.submit.bind(submitter);
    let accepted = 0;
    submitter.submit = async (request) => {
      const result = await submit(request);
      accepted += 1;
      await refuseWrites(true);
      return result;
    };
    h.dispatcher.start();
    try {
      const queued = await h.api('POST', `/api/interactions/${first.interactionId}/reply`, { text: 'Yes, it is.' });
      expect(queued.statusCode, queued.body).toBe(202);
      const messageId = queued.json<{ id: number }>().id;
      await until('the submission accepted', () => (accepted > 0 ? true : undefined));
      // Held: neither sent (the store cannot say so) nor failed, and the dispatcher keeps it.
      await until('the hold on /health', async () => ((await health()).status === 'degraded' ? true : undefined));
      const held = await getOutboxByMessage(db, messageId);
      expect(held?.state).toBe('sending');
      expect(h.dispatcher.activeCount).toBe(1);

      await refuseWrites(false);
      const done = await until(
        'the message recorded sent',
        async () => {
          const row = await getOutboxByMessage(db, messageId);
          return row?.state === 'sent' ? row : undefined;
        },
        30_000,
      );
      expect(done.lastResponse).toMatch(/^250 /);
      expect(accepted).toBe(1);
      expect((await sent(h, CONTOSO.andrea.upn)).filter((s) => s.messageId !== null)).toHaveLength(1);
      const view = await h.api('GET', `/api/messages/${messageId}`);
      expect(view.json()).toMatchObject({ state: 'sent', delivery: { error: null } });
      await until('health ok again', async () => ((await health()).status === 'ok' ? true : undefined));
    } finally {
      submitter.submit = submit;
      await refuseWrites(false);
      await h.dispatcher.stop();
    }
  });
});
