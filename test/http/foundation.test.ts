import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

let postern: TestPostern;
let admin: string;
let agent: string;

beforeAll(async () => {
  postern = await startTestPostern();
  admin = (await postern.bearer('admin')).authorization;
  agent = (await postern.bearer('agent')).authorization;
});
afterAll(async () => postern.close());

describe('system routes', () => {
  it('answers /health and /ready', async () => {
    const health = await postern.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok', version: 'test' });
    expect((await postern.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  });

  it('serves an OpenAPI document listing the API', async () => {
    const response = await postern.app.inject({ method: 'GET', url: '/api/docs' });
    expect(response.statusCode).toBe(200);
    const doc = response.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/contacts', '/api/lists/{id}', '/api/auth/login']),
    );
  });
});

describe('errors', () => {
  it('names an unknown route', async () => {
    const response = await postern.app.inject({
      method: 'GET',
      url: '/api/nothing-here?x=1',
      headers: { authorization: admin },
    });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      error: {
        code: 'ROUTE_NOT_FOUND',
        message: 'There is no route GET /api/nothing-here.',
        remedy: expect.stringContaining('/api/docs'),
      },
    });
  });

  it('explains a malformed JSON body', async () => {
    const response = await postern.app.inject({
      method: 'POST',
      url: '/api/lists',
      headers: { authorization: admin, 'content-type': 'application/json' },
      payload: '{"name": "Customers",',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('REQUEST_MALFORMED');
    expect(response.json().error.message).toMatch(/not valid JSON/);
  });

  it('names a missing field and a wrong one', async () => {
    const response = await postern.app.inject({
      method: 'POST',
      url: '/api/contacts',
      headers: { authorization: admin },
      payload: { listId: 1, addresses: ['not-an-address'] },
    });
    expect(response.statusCode).toBe(400);
    const error = response.json().error;
    expect(error.code).toBe('VALIDATION_FAILED');
    const fields = error.details.fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'addresses.0']));
    expect(error.message).toMatch(/addresses\.0: must be an email address/);
  });

  it('keeps serving after bad requests', async () => {
    await postern.app.inject({
      method: 'POST',
      url: '/api/lists',
      headers: { authorization: admin, 'content-type': 'application/json' },
      payload: '[',
    });
    expect((await postern.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});

describe('access control', () => {
  it('answers 401 without credentials, with the remedy', async () => {
    const response = await postern.app.inject({ method: 'GET', url: '/api/users' });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('AUTH_REQUIRED');
  });

  it('answers 401 for an unknown token', async () => {
    const response = await postern.app.inject({
      method: 'GET',
      url: '/api/users',
      headers: { authorization: 'Bearer pst_nope' },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('AUTH_TOKEN_INVALID');
  });

  it('forbids admin routes to an agent token and allows what agents may do', async () => {
    for (const [method, url] of [
      ['GET', '/api/users'],
      ['POST', '/api/lists'],
      ['DELETE', '/api/contacts/1'],
    ] as const) {
      const response = await postern.app.inject({
        method,
        url,
        headers: { authorization: agent },
        payload: method === 'POST' ? { name: 'x' } : undefined,
      });
      expect(response.statusCode, `${method} ${url}`).toBe(403);
      expect(response.json().error.code).toBe('AUTH_FORBIDDEN');
    }
    expect(
      (await postern.app.inject({ method: 'GET', url: '/api/lists', headers: { authorization: agent } })).statusCode,
    ).toBe(200);
    expect(
      (await postern.app.inject({ method: 'GET', url: '/api/users', headers: { authorization: admin } })).statusCode,
    ).toBe(200);
  });

  it('stops accepting a revoked token', async () => {
    const created = await postern.app.inject({
      method: 'POST',
      url: '/api/tokens',
      headers: { authorization: admin },
      payload: { name: 'ci' },
    });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json<{ id: number; token: string }>();
    expect(token).toMatch(/^pst_/);
    const listed = await postern.app.inject({ method: 'GET', url: '/api/tokens', headers: { authorization: admin } });
    expect(JSON.stringify(listed.json())).not.toContain(token);
    expect(
      (await postern.app.inject({ method: 'DELETE', url: `/api/tokens/${id}`, headers: { authorization: admin } }))
        .statusCode,
    ).toBe(204);
    const after = await postern.app.inject({
      method: 'GET',
      url: '/api/lists',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(after.statusCode).toBe(401);
  });
});
