/**
 * Issue 13, "what held": an agent gets 404 from every route that takes the id of something of an
 * account not assigned to it — the same answer as for an id that does not exist, so that ids tell
 * nothing — and ids of another account or conversation cannot be mixed into its own requests.
 *
 * Account A is the agent's; account B is not. B has a real conversation, a real inbound message
 * with a real attachment, and a real outbound message, so that each 404 is about access and not
 * about a missing row.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setAccountAgents, type EmailAccountRecord } from '../../src/store/index.js';
import { buildAccount, buildMessage } from '../ingest/helpers.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { ingestNew } from '../helpers/store-factories.js';

let postern: TestPostern;
let app: FastifyInstance;
let admin: string;
let agentA: { authorization: string; userId: number };
let colleagueA: { authorization: string; userId: number };
let accountA: EmailAccountRecord;
let accountB: EmailAccountRecord;
/** B's ids: a conversation, its inbound message and that message's attachment, an outbound message. */
const b = { interaction: 0, inbound: 0, attachment: 0, outbound: 0 };
/** A's own conversation and inbound message. */
const a = { interaction: 0, inbound: 0 };
const MISSING = 987_654;
const MISSING_ATTACHMENT = 876_543;
let uid = 0;

async function ingest(account: EmailAccountRecord, raw: Buffer) {
  uid += 1;
  return ingestNew(postern.runtime.db, account, raw, uid);
}

function withAttachment(subject: string): Buffer {
  return Buffer.from(
    [
      'From: Grace <grace@example.org>',
      'To: support@contoso.com',
      `Subject: ${subject}`,
      `Message-ID: <${subject.replaceAll(' ', '-')}@example.org>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'See the file.',
      '--b',
      'Content-Type: text/plain; name="notes.txt"',
      'Content-Disposition: attachment; filename="notes.txt"',
      '',
      'private notes of account B',
      '--b--',
      '',
    ].join('\r\n'),
  );
}

const call = (method: 'GET' | 'POST', url: string, authorization: string, payload?: object, headers = {}) =>
  app.inject({ method, url, headers: { authorization, ...headers }, ...(payload === undefined ? {} : { payload }) });

/** The answer with the given ids taken out (whole numbers only), to compare two answers' wording. */
function shape(response: LightMyRequestResponse, ids: readonly number[]): string {
  let body = response.body;
  for (const id of ids) body = body.replace(new RegExp(`(?<![0-9])${id}(?![0-9])`, 'g'), '<id>');
  return body;
}

beforeAll(async () => {
  postern = await startTestPostern();
  app = postern.app;
  admin = (await postern.bearer('admin')).authorization;
  agentA = await postern.bearer('agent');
  colleagueA = await postern.bearer('agent');
  accountA = await buildAccount(postern.runtime.db);
  accountB = await buildAccount(postern.runtime.db);
  await setAccountAgents(postern.runtime.db, accountA.id, [agentA.userId, colleagueA.userId]);

  const own = await ingest(accountA, buildMessage({ subject: 'Order of A' }));
  a.interaction = own.interactionId;
  a.inbound = own.messageRowId;

  const theirs = await ingest(accountB, withAttachment('Order of B'));
  b.interaction = theirs.interactionId;
  b.inbound = theirs.messageRowId;
  const detail = (await call('GET', `/api/interactions/${b.interaction}`, admin)).json();
  b.attachment = detail.messages[0].attachments[0].id;
  const sent = await call('POST', `/api/email/accounts/${accountB.id}/messages`, admin, {
    to: ['someone@example.org'],
    subject: 'From B',
    text: 'Hello',
  });
  expect(sent.statusCode, sent.body).toBe(202);
  b.outbound = sent.json().id;
});
afterAll(async () => postern.close());

interface Route {
  name: string;
  method: 'GET' | 'POST';
  /** The URL for B's ids, or for missing ones. */
  url: (ids: { account: number; interaction: number; message: number; outbound: number; attachment: number }) => string;
  body?: () => object;
}

const ROUTES: Route[] = [
  { name: 'GET /api/email/accounts/:id', method: 'GET', url: (i) => `/api/email/accounts/${i.account}` },
  { name: 'GET /api/email/accounts/:id/events', method: 'GET', url: (i) => `/api/email/accounts/${i.account}/events` },
  {
    name: 'GET /api/email/accounts/:accountId/interactions',
    method: 'GET',
    url: (i) => `/api/email/accounts/${i.account}/interactions`,
  },
  {
    name: 'GET /api/email/accounts/:id/sending',
    method: 'GET',
    url: (i) => `/api/email/accounts/${i.account}/sending`,
  },
  {
    name: 'POST /api/email/accounts/:id/messages',
    method: 'POST',
    url: (i) => `/api/email/accounts/${i.account}/messages`,
    body: () => ({ to: ['someone@example.org'], subject: 'Hello', text: 'Hi' }),
  },
  { name: 'GET /api/interactions/:id', method: 'GET', url: (i) => `/api/interactions/${i.interaction}` },
  {
    name: 'POST /api/interactions/:id/assign',
    method: 'POST',
    url: (i) => `/api/interactions/${i.interaction}/assign`,
    body: () => ({ userId: agentA.userId }),
  },
  { name: 'POST /api/interactions/:id/close', method: 'POST', url: (i) => `/api/interactions/${i.interaction}/close` },
  {
    name: 'POST /api/interactions/:id/reopen',
    method: 'POST',
    url: (i) => `/api/interactions/${i.interaction}/reopen`,
  },
  { name: 'POST /api/interactions/:id/read', method: 'POST', url: (i) => `/api/interactions/${i.interaction}/read` },
  {
    name: 'POST /api/interactions/:id/reply',
    method: 'POST',
    url: (i) => `/api/interactions/${i.interaction}/reply`,
    body: () => ({ text: 'An answer' }),
  },
  {
    name: 'GET /api/interactions/:id/reply-recipients',
    method: 'GET',
    url: (i) => `/api/interactions/${i.interaction}/reply-recipients?replyAll=true`,
  },
  { name: 'GET /api/messages/:id', method: 'GET', url: (i) => `/api/messages/${i.outbound}` },
  { name: 'GET /api/messages/:id/raw', method: 'GET', url: (i) => `/api/messages/${i.message}/raw` },
  {
    name: 'GET /api/messages/:id/attachments/:attachmentId',
    method: 'GET',
    url: (i) => `/api/messages/${i.message}/attachments/${i.attachment}`,
  },
  { name: 'POST /api/messages/:id/retry', method: 'POST', url: (i) => `/api/messages/${i.outbound}/retry` },
  { name: 'POST /api/messages/:id/cancel', method: 'POST', url: (i) => `/api/messages/${i.outbound}/cancel` },
];

describe('the ids of an account not assigned to the agent', () => {
  it('are the 17 account-scoped routes open to agents', () => {
    expect(new Set(ROUTES.map((route) => route.name)).size).toBe(17);
  });

  it.each(ROUTES.map((route) => [route.name, route] as const))(
    '%s answers 404, word for word as for a missing id',
    async (_name, route) => {
      const theirs = {
        account: accountB.id,
        interaction: b.interaction,
        message: b.inbound,
        outbound: b.outbound,
        attachment: b.attachment,
      };
      const missing = {
        account: MISSING,
        interaction: MISSING,
        message: MISSING,
        outbound: MISSING,
        attachment: MISSING_ATTACHMENT,
      };
      // The admin reaches B's row: the ids are real.
      if (route.method === 'GET') expect((await call('GET', route.url(theirs), admin)).statusCode).toBe(200);
      const notTheirs = await call(route.method, route.url(theirs), agentA.authorization, route.body?.());
      const absent = await call(route.method, route.url(missing), agentA.authorization, route.body?.());
      expect(absent.statusCode).toBe(404);
      expect(notTheirs.statusCode, notTheirs.body).toBe(404);
      expect(notTheirs.json().error.code).toBe('RESOURCE_NOT_FOUND');
      expect(shape(notTheirs, Object.values(theirs))).toBe(shape(absent, Object.values(missing)));
      expect(notTheirs.body).not.toContain('private notes');
    },
  );

  it('changed nothing of B: its conversation is open, unassigned, unread, and its outbound message still queued', async () => {
    const detail = (await call('GET', `/api/interactions/${b.interaction}`, admin)).json();
    expect(detail).toMatchObject({ status: 'open', assignedUserId: null });
    expect(detail.messages.find((m: { id: number }) => m.id === b.inbound).read).toBe(false);
    expect((await call('GET', `/api/messages/${b.outbound}`, admin)).json().state).toBe('queued');
  });
});

describe('ids mixed into requests on the own account', () => {
  it("refuses B's attachment id under A's own message, as a missing attachment", async () => {
    const mixed = await call('GET', `/api/messages/${a.inbound}/attachments/${b.attachment}`, agentA.authorization);
    const missing = await call(
      'GET',
      `/api/messages/${a.inbound}/attachments/${MISSING_ATTACHMENT}`,
      agentA.authorization,
    );
    expect(mixed.statusCode).toBe(404);
    expect(mixed.body).toBe(missing.body.replaceAll(String(MISSING_ATTACHMENT), String(b.attachment)));
    expect(mixed.body).not.toContain('private notes');
  });

  it("refuses a new message on A that names B's conversation, on the interactionId field, and queues nothing", async () => {
    const before = (await call('GET', `/api/email/accounts/${accountA.id}/sending`, admin)).json().outbox;
    const countOfB = (await call('GET', `/api/interactions/${b.interaction}`, admin)).json().messageCount;
    const mixed = await call('POST', `/api/email/accounts/${accountA.id}/messages`, agentA.authorization, {
      to: ['someone@example.org'],
      subject: 'Into B',
      text: 'Hi',
      interactionId: b.interaction,
    });
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json().error.code).toBe('VALIDATION_FAILED');
    expect(mixed.json().error.details.fields).toEqual([
      { field: 'interactionId', problem: `there is no conversation ${b.interaction} on this account` },
    ]);
    // The same words as for a conversation that does not exist.
    const missing = await call('POST', `/api/email/accounts/${accountA.id}/messages`, agentA.authorization, {
      to: ['someone@example.org'],
      subject: 'Into B',
      text: 'Hi',
      interactionId: MISSING,
    });
    expect(shape(mixed, [b.interaction])).toBe(shape(missing, [MISSING]));
    expect((await call('GET', `/api/email/accounts/${accountA.id}/sending`, admin)).json().outbox).toEqual(before);
    expect((await call('GET', `/api/interactions/${b.interaction}`, admin)).json().messageCount).toBe(countOfB);
  });

  it('refuses a reply in reply to a message of another conversation, on the inReplyToMessageId field', async () => {
    const other = await ingest(accountA, buildMessage({ subject: 'Another order of A' }));
    for (const foreign of [b.inbound, other.messageRowId]) {
      const mixed = await call('POST', `/api/interactions/${a.interaction}/reply`, agentA.authorization, {
        text: 'An answer',
        inReplyToMessageId: foreign,
      });
      expect(mixed.statusCode).toBe(400);
      expect(mixed.json().error.details.fields).toEqual([
        { field: 'inReplyToMessageId', problem: `there is no message ${foreign} in this conversation` },
      ]);
    }
    const own = (await call('GET', `/api/interactions/${a.interaction}`, admin)).json();
    expect(own.messageCount).toBe(1);
  });

  it("never replays another user's answer for the same Idempotency-Key", async () => {
    const key = 'shared-key-0001';
    const payload = { to: ['someone@example.org'], subject: 'Same key', text: 'Hi' };
    const url = `/api/email/accounts/${accountA.id}/messages`;
    const first = await call('POST', url, agentA.authorization, payload, { 'idempotency-key': key });
    expect(first.statusCode).toBe(202);
    const replay = await call('POST', url, agentA.authorization, payload, { 'idempotency-key': key });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json().id).toBe(first.json().id);

    const colleague = await call('POST', url, colleagueA.authorization, payload, { 'idempotency-key': key });
    expect(colleague.statusCode).toBe(202);
    expect(colleague.headers['idempotent-replayed']).toBeUndefined();
    expect(colleague.json().id).not.toBe(first.json().id);
    // Another body under the same key is no conflict either: the key is the colleague's own.
    const otherBody = await call(
      'POST',
      url,
      admin,
      { ...payload, subject: 'Other' },
      {
        'idempotency-key': key,
      },
    );
    expect(otherBody.statusCode).toBe(202);
    expect(otherBody.headers['idempotent-replayed']).toBeUndefined();
    expect(otherBody.json().id).not.toBe(first.json().id);
  });

  it('shows no event of an account not assigned, as for a missing one', async () => {
    const admins = await call('GET', `/api/events?accountId=${accountB.id}`, admin);
    expect(admins.json().items.length).toBeGreaterThan(0);
    const notTheirs = await call('GET', `/api/events?accountId=${accountB.id}`, agentA.authorization);
    const missing = await call('GET', `/api/events?accountId=${MISSING}`, agentA.authorization);
    expect(notTheirs.statusCode).toBe(200);
    expect(notTheirs.json()).toEqual({ items: [], nextBefore: null });
    expect(notTheirs.body).toBe(missing.body);
  });
});
