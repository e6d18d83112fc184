/**
 * Merging two contacts over HTTP (`POST /api/contacts/:id/merge`) and a contact's conversations
 * (`GET /api/contacts/:id/interactions`): an agent of an account filing into the list merges, the
 * other contact's conversations and addresses move and it is gone; the refusals each with their
 * code — itself, another list, an agent outside the list (403), an agent of another account (404).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestMessage } from '../../src/services/inbound/ingest-message.js';
import {
  createContact,
  createEmailAccount,
  createList,
  setAccountAgents,
  type EmailAccountRecord,
} from '../../src/store/index.js';
import { buildMessage } from '../ingest/helpers.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

let postern: TestPostern;
let admin: string;
/** Agent of account A, which files into list 1. */
let agentA: string;
/** Agent of account B, which files into list 2. */
let agentB: string;
/** Agent of account C, which files into list 2 but corresponded with Ada and Ana too. */
let agentC: string;
let list1: number;
let list2: number;
let ada: number;
let ana: number;
let zed: number;
let uid = 0;

const call = (method: 'GET' | 'POST', url: string, authorization: string, payload?: Record<string, unknown>) =>
  postern.app.inject({ method, url, headers: { authorization }, ...(payload === undefined ? {} : { payload }) });

async function receive(account: EmailAccountRecord, from: string, subject: string): Promise<number> {
  uid += 1;
  const result = await ingestMessage(postern.runtime.db, account, {
    folder: 'INBOX',
    uidvalidity: 1,
    uid,
    raw: buildMessage({ from, to: account.emailAddress, subject }),
    isJunk: false,
  });
  if (result.outcome !== 'stored') throw new Error('not stored');
  return result.interactionId;
}

beforeAll(async () => {
  postern = await startTestPostern();
  const db = postern.runtime.db;
  admin = (await postern.bearer('admin')).authorization;
  const a = await postern.bearer('agent');
  const b = await postern.bearer('agent');
  const c = await postern.bearer('agent');
  [agentA, agentB, agentC] = [a.authorization, b.authorization, c.authorization];
  list1 = (await createList(db, { name: 'Customers' })).id;
  list2 = (await createList(db, { name: 'Partners' })).id;
  const account = async (key: string, listId: number, agentId: number): Promise<EmailAccountRecord> => {
    const created = await createEmailAccount(db, {
      name: key,
      key,
      emailAddress: `${key.toLowerCase()}@contoso.com`,
      username: `${key.toLowerCase()}@contoso.com`,
      defaultListId: listId,
    });
    await setAccountAgents(db, created.id, [agentId]);
    return created;
  };
  const accountA = await account('A', list1, a.userId);
  await account('B', list2, b.userId);
  const accountC = await account('C', list2, c.userId);
  ada = (await createContact(db, { listId: list1, name: 'Ada Lovelace', addresses: ['ada@work.example'] })).id;
  ana = (await createContact(db, { listId: list1, name: 'A. Lovelace', addresses: ['ada@home.example'], notes: 'VIP' }))
    .id;
  zed = (await createContact(db, { listId: list2, name: 'Zed', addresses: ['zed@partner.example'] })).id;
  await receive(accountA, 'ada@work.example', 'Invoice');
  await receive(accountA, 'ada@home.example', 'Delivery');
  await receive(accountC, 'ada@work.example', 'Partnership');
  await receive(accountC, 'ada@home.example', 'Partnership again');
});
afterAll(async () => postern.close());

describe('contact merge and conversations', () => {
  it("lists a contact's conversations in the caller's accounts only", async () => {
    const forA = await call('GET', `/api/contacts/${ada}/interactions`, agentA);
    expect(forA.statusCode).toBe(200);
    expect(forA.json().items.map((i: { subject: string }) => i.subject)).toEqual(['Invoice']);
    const forAdmin = await call('GET', `/api/contacts/${ada}/interactions`, admin);
    expect(
      forAdmin
        .json()
        .items.map((i: { subject: string }) => i.subject)
        .sort(),
    ).toEqual(['Invoice', 'Partnership']);
    expect((await call('GET', `/api/contacts/${ada}/interactions`, agentB)).statusCode).toBe(404);
  });

  it('refuses a merge with itself, across lists, outside the list, and of contacts the agent does not see', async () => {
    const self = await call('POST', `/api/contacts/${ada}/merge`, agentA, { from: ada });
    expect(self.statusCode).toBe(400);
    expect(self.json().error).toMatchObject({ code: 'VALIDATION_FAILED', details: { fields: [{ field: 'from' }] } });

    const across = await call('POST', `/api/contacts/${ada}/merge`, admin, { from: zed });
    expect(across.statusCode).toBe(409);
    expect(across.json().error.code).toBe('CONTACT_MERGE_LIST_MISMATCH');
    expect(across.json().error.remedy).toBeTruthy();

    // Agent C sees both contacts (its account corresponded with them) but files into list 2.
    expect((await call('GET', `/api/contacts/${ada}`, agentC)).statusCode).toBe(200);
    const outside = await call('POST', `/api/contacts/${ada}/merge`, agentC, { from: ana });
    expect(outside.statusCode).toBe(403);
    expect(outside.json().error.code).toBe('AUTH_FORBIDDEN');

    const otherAccount = await call('POST', `/api/contacts/${ada}/merge`, agentB, { from: ana });
    expect(otherAccount.statusCode).toBe(404);
    expect(otherAccount.json().error.code).toBe('RESOURCE_NOT_FOUND');

    const missing = await call('POST', `/api/contacts/${ada}/merge`, agentA, { from: 987_654 });
    expect(missing.statusCode).toBe(404);
    const noBody = await call('POST', `/api/contacts/${ada}/merge`, agentA, {});
    expect(noBody.statusCode).toBe(400);

    // Nothing moved.
    expect((await call('GET', `/api/contacts/${ana}`, admin)).statusCode).toBe(200);
  });

  it("merges for an agent of the list: the other's addresses, notes and conversations move, and it is gone", async () => {
    const merged = await call('POST', `/api/contacts/${ada}/merge`, agentA, { from: ana });
    expect(merged.statusCode).toBe(200);
    expect(merged.json()).toMatchObject({
      id: ada,
      name: 'Ada Lovelace',
      listId: list1,
      addresses: ['ada@work.example', 'ada@home.example'],
      notes: 'VIP',
    });
    expect((await call('GET', `/api/contacts/${ana}`, admin)).statusCode).toBe(404);
    const conversations = await call('GET', `/api/contacts/${ada}/interactions`, agentA);
    expect(
      conversations
        .json()
        .items.map((i: { subject: string }) => i.subject)
        .sort(),
    ).toEqual(['Delivery', 'Invoice']);
    expect(conversations.json().items.every((i: { contact: { id: number } }) => i.contact.id === ada)).toBe(true);
    const all = await call('GET', `/api/contacts/${ada}/interactions`, admin);
    expect(all.json().items).toHaveLength(4);
  });
});
