import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailAccount, setAccountAgents } from '../../src/store/index.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

let postern: TestPostern;
let admin: string;
let agent: string;
let agentId: number;

beforeAll(async () => {
  postern = await startTestPostern();
  admin = (await postern.bearer('admin')).authorization;
  ({ authorization: agent, userId: agentId } = await postern.bearer('agent'));
});
afterAll(async () => postern.close());

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, authorization: string, payload?: unknown) =>
  postern.app.inject({
    method,
    url,
    headers: { authorization },
    payload: payload as Record<string, unknown> | undefined,
  });

describe('lists and contacts', () => {
  let listId: number;

  it('creates a list, refusing a duplicate name in any case', async () => {
    const created = await call('POST', '/api/lists', admin, { name: 'Customers', description: 'Default list' });
    expect(created.statusCode).toBe(201);
    listId = created.json().id;
    expect(created.json()).toMatchObject({ name: 'Customers', contactCount: 0 });
    const again = await call('POST', '/api/lists', admin, { name: 'customers' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('RESOURCE_CONFLICT');
  });

  it('creates contacts with several addresses, unique regardless of case', async () => {
    const ada = await call('POST', '/api/contacts', admin, {
      listId,
      name: 'Ada Lovelace',
      addresses: ['Ada@Example.com', 'ada@work.example'],
    });
    expect(ada.statusCode).toBe(201);
    expect(ada.json().addresses).toEqual(['ada@example.com', 'ada@work.example']);

    const clash = await call('POST', '/api/contacts', admin, {
      listId,
      name: 'Impostor',
      addresses: ['ADA@example.COM'],
    });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().error.message).toContain('ada@example.com');

    const twice = await call('POST', '/api/contacts', admin, {
      listId,
      name: 'Twice',
      addresses: ['x@example.com', 'X@example.com'],
    });
    expect(twice.statusCode).toBe(400);

    const noList = await call('POST', '/api/contacts', admin, {
      listId: 9999,
      name: 'Lost',
      addresses: ['lost@example.com'],
    });
    expect(noList.statusCode).toBe(400);
    expect(noList.json().error.details.fields[0].field).toBe('listId');
  });

  it('searches by name or address and paginates, for agents of an account filing into the list too', async () => {
    const account = await createEmailAccount(postern.runtime.db, {
      name: 'Support',
      key: 'S1',
      emailAddress: 'support@contoso.com',
      username: 'support@contoso.com',
      defaultListId: listId,
    });
    await setAccountAgents(postern.runtime.db, account.id, [agentId]);
    for (let i = 0; i < 7; i += 1) {
      const r = await call('POST', '/api/contacts', admin, {
        listId,
        name: `Customer ${i}`,
        addresses: [`c${i}@shop.example`],
      });
      expect(r.statusCode).toBe(201);
    }
    const byAddress = await call('GET', '/api/contacts?q=WORK.example', agent);
    expect(byAddress.statusCode).toBe(200);
    expect(byAddress.json().items.map((c: { name: string }) => c.name)).toEqual(['Ada Lovelace']);

    const page1 = await call('GET', `/api/contacts?q=customer&limit=5&listId=${listId}`, agent);
    const page2 = await call('GET', `/api/contacts?q=customer&limit=5&offset=5&listId=${listId}`, agent);
    expect(page1.json().total).toBe(7);
    expect(page1.json().items).toHaveLength(5);
    expect(page2.json().items).toHaveLength(2);

    const tooBig = await call('GET', '/api/contacts?limit=100000', agent);
    expect(tooBig.statusCode).toBe(400);
    expect(tooBig.json().error.details.fields[0].field).toBe('limit');
  });

  it('updates addresses, and refuses to delete a list that still holds contacts', async () => {
    const found = await call('GET', '/api/contacts?q=ada%40example.com', admin);
    const id = found.json().items[0].id as number;
    const updated = await call('PATCH', `/api/contacts/${id}`, admin, { addresses: ['ada@new.example'] });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().addresses).toEqual(['ada@new.example']);
    const reuse = await call('POST', '/api/contacts', admin, {
      listId,
      name: 'Someone',
      addresses: ['ada@example.com'],
    });
    expect(reuse.statusCode).toBe(201);

    const blocked = await call('DELETE', `/api/lists/${listId}`, admin);
    expect(blocked.statusCode).toBe(409);
    expect(blocked.json().error.remedy).toBeTruthy();
    expect((await call('GET', `/api/lists/${listId}`, agent)).json().contactCount).toBe(9);
  });

  it('answers 404 for a contact that does not exist', async () => {
    const missing = await call('GET', '/api/contacts/424242', agent);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('RESOURCE_NOT_FOUND');
  });
});
