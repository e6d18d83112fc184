import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTOSO, authenticatedProvider, createProvider, startPair, type Pair } from '../providers/helpers.js';

let pair: Pair;
let providerId: number;
let agent: { authorization: string; userId: number };

beforeAll(async () => {
  pair = await startPair();
  ({ providerId } = await authenticatedProvider(pair));
  agent = await pair.postern.bearer('agent', 'agent-smith');
});
afterAll(async () => pair.close());

const call = (
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  authorization = pair.admin,
) =>
  pair.postern.app.inject({
    method,
    url,
    headers: { authorization },
    payload: payload as Record<string, unknown> | undefined,
  });

describe('Email Account API', () => {
  it("creates the guide's shared mailbox account: username developers@, modern authentication email andrea@", async () => {
    const created = await call('POST', '/api/email/accounts', {
      name: 'Developers',
      key: 'DEV',
      emailAddress: 'developers@contoso.com',
      username: 'developers@contoso.com',
      providerId,
      modernAuthEmail: CONTOSO.andrea.upn,
      agentIds: [agent.userId],
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      key: 'DEV',
      service: 'outlook365',
      modernAuth: true,
      username: 'developers@contoso.com',
      modernAuthEmail: 'andrea@contoso.com',
      folder: 'INBOX',
      afterFetchAction: 'mark_seen',
      maxMessageBytes: 35 * 1024 * 1024,
      firstSync: { kind: 'days', days: 7 },
      sendPerMinute: 30,
      recipientsPerDay: 10000,
      agentIds: [agent.userId],
    });
    expect(created.json().defaultListId).toBeGreaterThan(0);
  });

  it('refuses a duplicate key, a long key, a bad address, and a provider without a grant for the delegate', async () => {
    const base = { name: 'X', emailAddress: 'x@contoso.com', providerId };
    const duplicate = await call('POST', '/api/email/accounts', {
      ...base,
      key: 'dev',
      modernAuthEmail: CONTOSO.andrea.upn,
    });
    expect(duplicate.statusCode).toBe(409);
    const long = await call('POST', '/api/email/accounts', { ...base, key: 'TOOLONG' });
    expect(long.json().error.details.fields[0]).toMatchObject({
      field: 'key',
      problem: expect.stringContaining('at most 5 characters'),
    });
    const address = await call('POST', '/api/email/accounts', { ...base, key: 'A1', emailAddress: 'not-an-address' });
    expect(address.json().error.details.fields[0].field).toBe('emailAddress');
    const noGrant = await call('POST', '/api/email/accounts', {
      ...base,
      key: 'M1',
      emailAddress: 'marco@contoso.com',
    });
    expect(noGrant.statusCode).toBe(400);
    expect(noGrant.json().error.message).toContain('authenticate the provider signed in as marco@contoso.com');
    const basic = await call('POST', '/api/email/accounts', { ...base, key: 'B1', modernAuth: false });
    expect(basic.json().error.details.fields[0].field).toBe('modernAuth');
    const unauthenticated = await createProvider(pair);
    const none = await call('POST', '/api/email/accounts', {
      ...base,
      key: 'N1',
      providerId: unauthenticated,
      modernAuthEmail: CONTOSO.andrea.upn,
    });
    expect(none.json().error.message).toContain('has no sign-in for andrea@contoso.com');
  });

  it('matches a delegate whose UPN differs from the primary address, and reports a mismatch instead of guessing', async () => {
    await pair.emulator.control('POST', `/tenants/${CONTOSO.tenantId}/users`, {
      id: 'a1b2c3d4-0009-4000-8000-00000000a009',
      userPrincipalName: 'paola.upn@contoso.onmicrosoft.com',
      mail: 'paola@contoso.com',
      displayName: 'Paola',
      password: 'Paola#2025',
    });
    const { authenticate } = await import('../providers/helpers.js');
    const signed = await authenticate(pair, providerId, {
      username: 'paola.upn@contoso.onmicrosoft.com',
      password: 'Paola#2025',
    });
    expect(signed.response.headers.location).toContain('authentication=success');
    const ok = await call('POST', '/api/email/accounts', {
      name: 'Paola',
      key: 'PAO',
      emailAddress: 'paola@contoso.com',
      providerId,
    });
    expect(ok.statusCode, ok.body).toBe(201);
    const wrong = await call('POST', '/api/email/accounts', {
      name: 'Paolo',
      key: 'PAL',
      emailAddress: 'paolo@contoso.com',
      providerId,
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.message).toContain('It holds sign-ins for: ');
    expect(wrong.json().error.message).toContain('paola.upn@contoso.onmicrosoft.com (paola@contoso.com)');
  });

  it('shows agents only their accounts, and keeps changes for admins', async () => {
    const other = await call('POST', '/api/email/accounts', {
      name: 'Andrea',
      key: 'AND',
      emailAddress: CONTOSO.andrea.upn,
      providerId,
    });
    expect(other.statusCode).toBe(201);
    const mine = await call('GET', '/api/email/accounts', undefined, agent.authorization);
    expect(mine.json().items.map((a: { key: string }) => a.key)).toEqual(['DEV']);
    expect(mine.json().items[0].hasPassword).toBe(false);
    expect(
      (await call('GET', `/api/email/accounts/${other.json().id}`, undefined, agent.authorization)).statusCode,
    ).toBe(404);
    expect(
      (await call('PATCH', `/api/email/accounts/${other.json().id}`, { name: 'x' }, agent.authorization)).statusCode,
    ).toBe(403);

    const disabled = await call('POST', `/api/email/accounts/${other.json().id}/disable`);
    expect(disabled.json()).toMatchObject({ active: false, status: 'disabled' });
    const events = await call('GET', `/api/email/accounts/${other.json().id}/events`);
    expect(events.json().items.map((e: { type: string }) => e.type)).toEqual(['account.disabled', 'account.created']);
    expect((await call('DELETE', `/api/email/accounts/${other.json().id}`)).statusCode).toBe(204);
  });
});
