/**
 * An agent assigned only to account B read, by id and by search, a contact who had written only to
 * account A (issue 13, Medium 2). An agent now sees the contacts that corresponded with one of their
 * accounts (an interaction there) or sit in the default list of one of them; administrators see all.
 * Anything else is "not found", worded exactly as for an id that does not exist.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestMessage } from '../../src/services/inbound/ingest-message.js';
import { setAccountAgents, type EmailAccountRecord } from '../../src/store/index.js';
import { buildAccount, buildMessage } from '../ingest/helpers.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

let postern: TestPostern;
let app: FastifyInstance;
let admin: string;
let agentB: string;
let idle: string;
let accountA: EmailAccountRecord;
let accountB: EmailAccountRecord;
let accountC: EmailAccountRecord;
let eve: number;
let bob: number;
let both: number;
let frank: number;
let walkIn: number;
let uid = 0;

async function ingest(account: EmailAccountRecord, from: string): Promise<number> {
  uid += 1;
  const result = await ingestMessage(postern.runtime.db, account, {
    folder: 'INBOX',
    uidvalidity: 1,
    uid,
    raw: buildMessage({ from, subject: `Hello ${uid}` }),
    isJunk: false,
  });
  if (result.outcome !== 'stored' || result.contactId === null) throw new Error('not stored');
  return result.contactId;
}

const get = (url: string, authorization: string) => app.inject({ method: 'GET', url, headers: { authorization } });

beforeAll(async () => {
  postern = await startTestPostern();
  app = postern.app;
  admin = (await postern.bearer('admin')).authorization;
  const b = await postern.bearer('agent');
  agentB = b.authorization;
  idle = (await postern.bearer('agent')).authorization;
  accountA = await buildAccount(postern.runtime.db);
  accountB = await buildAccount(postern.runtime.db);
  accountC = await buildAccount(postern.runtime.db);
  await setAccountAgents(postern.runtime.db, accountB.id, [b.userId]);
  eve = await ingest(accountA, 'Eve Secret <eve@only-a.example>');
  bob = await ingest(accountB, 'Bob Visible <bob@b.example>');
  // Created in C's default list by her first mail, then wrote to B as well.
  both = await ingest(accountC, 'Carol Both <carol@both.example>');
  await ingest(accountB, 'Carol Both <carol@both.example>');
  frank = await ingest(accountC, 'Frank Only C <frank@only-c.example>');
  const created = await app.inject({
    method: 'POST',
    url: '/api/contacts',
    headers: { authorization: admin },
    payload: { listId: accountB.defaultListId, name: 'Walk In', addresses: ['walk@b.example'] },
  });
  walkIn = created.json().id;
});
afterAll(async () => postern.close());

describe('contacts of other accounts', () => {
  it('answers 404 for a contact who wrote only to another account, as for a missing id', async () => {
    const leaked = await get(`/api/contacts/${eve}`, agentB);
    const missing = await get('/api/contacts/987654', agentB);
    expect(leaked.statusCode).toBe(404);
    expect(leaked.body).not.toContain('eve@only-a.example');
    expect(leaked.json().error.code).toBe(missing.json().error.code);
    expect(leaked.json().error.message).toBe(`There is no contact ${eve}.`);
  });

  it('finds no such contact by search, by name or by address', async () => {
    for (const q of ['eve', 'only-a.example', 'Secret']) {
      const page = await get(`/api/contacts?q=${encodeURIComponent(q)}`, agentB);
      expect(page.statusCode).toBe(200);
      expect(page.json()).toMatchObject({ items: [], total: 0 });
    }
  });

  it('lists only the contacts that corresponded with, or were created on, the agent’s accounts', async () => {
    const page = await get('/api/contacts', agentB);
    const ids = page.json().items.map((c: { id: number }) => c.id);
    expect(ids.sort()).toEqual([bob, both, walkIn].sort());
    expect(page.json().total).toBe(3);
    expect((await get(`/api/contacts/${both}`, agentB)).statusCode).toBe(200);
    expect((await get(`/api/contacts/${walkIn}`, agentB)).statusCode).toBe(200);
  });

  it('shows an agent of no account no contact at all', async () => {
    expect((await get('/api/contacts', idle)).json()).toMatchObject({ items: [], total: 0 });
    expect((await get(`/api/contacts/${bob}`, idle)).statusCode).toBe(404);
  });

  it('leaves administrators every contact', async () => {
    const page = await get('/api/contacts', admin);
    const ids = page.json().items.map((c: { id: number }) => c.id);
    expect(ids).toEqual(expect.arrayContaining([eve, bob, both, walkIn, frank]));
    expect((await get(`/api/contacts/${eve}`, admin)).statusCode).toBe(200);
  });
});

describe('lists of other accounts', () => {
  it('answers 404 for the default list of another account, and filtering by it', async () => {
    const leaked = await get(`/api/lists/${accountA.defaultListId}`, agentB);
    expect(leaked.statusCode).toBe(404);
    expect(leaked.json().error.message).toBe(`There is no list ${accountA.defaultListId}.`);
    const filtered = await get(`/api/contacts?listId=${accountA.defaultListId}`, agentB);
    expect(filtered.statusCode).toBe(404);
    expect(filtered.json().error.message).toBe(`There is no list ${accountA.defaultListId}.`);
  });

  it('lists the agent’s default lists and the lists of contacts they see, counting only those', async () => {
    const page = await get('/api/lists', agentB);
    const byId = new Map(page.json().items.map((l: { id: number; contactCount: number }) => [l.id, l.contactCount]));
    // B's list holds Bob and Walk In; C's list is shown for Carol only, not for Frank; A's not at all.
    expect(byId).toEqual(
      new Map([
        [accountB.defaultListId, 2],
        [accountC.defaultListId, 1],
      ]),
    );
    expect(page.json().total).toBe(2);
    const filtered = await get(`/api/contacts?listId=${accountC.defaultListId}`, agentB);
    expect(filtered.json().items.map((c: { id: number }) => c.id)).toEqual([both]);
    expect((await get(`/api/lists?q=customers`, idle)).json()).toMatchObject({ items: [], total: 0 });
  });

  it('leaves administrators every list with its full count', async () => {
    const list = await get(`/api/lists/${accountC.defaultListId}`, admin);
    expect(list.statusCode).toBe(200);
    expect(list.json().contactCount).toBe(2);
  });
});
