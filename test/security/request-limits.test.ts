/**
 * Issue 13, "what held": request bodies are bounded and badly formed ones refused with a clear
 * catalogue error, before any route sees them.
 *
 * - A body over the API's limit (LIMITS.httpBodyBytes) is refused 413 REQUEST_TOO_LARGE, whether
 *   it announces its length or is streamed without one; the send routes allow more (attachments
 *   travel as base64) and refuse beyond their own limit.
 * - An empty JSON body is 400 REQUEST_MALFORMED, an unsupported content type 415.
 * - `__proto__` and `constructor.prototype` keys are refused and pollute nothing.
 * - No error answer echoes the body it refuses.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/config/index.js';
import type { EmailAccountRecord } from '../../src/store/index.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { buildAccount } from '../ingest/helpers.js';

/** The send routes' own limit (src/http/routes/outbound/index.ts). */
const SEND_LIMIT = 52 * 1024 * 1024;
const MARKER = 'ECHO-MARKER-7f3a9c';

let postern: TestPostern;
let app: FastifyInstance;
let admin: string;
let account: EmailAccountRecord;

beforeAll(async () => {
  postern = await startTestPostern();
  app = postern.app;
  admin = (await postern.bearer('admin')).authorization;
  account = await buildAccount(postern.runtime.db);
});
afterAll(async () => postern.close());

/** A JSON body of about `bytes` bytes streamed in small chunks, never held whole in memory. */
function streamedJson(bytes: number): Readable {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let sent = 0;
  return new Readable({
    read() {
      if (sent === 0) {
        sent += 9;
        this.push(`{"name":"${MARKER}`);
        return;
      }
      if (sent >= bytes) {
        this.push('"}');
        this.push(null);
        return;
      }
      sent += chunk.length;
      this.push(chunk);
    },
  });
}

function expectError(response: LightMyRequestResponse, status: number, code: string): void {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toContain('application/json');
  expect(response.json().error.code).toBe(code);
  expect(response.body).not.toContain(MARKER);
}

async function listNames(): Promise<string[]> {
  const listed = await app.inject({ method: 'GET', url: '/api/lists', headers: { authorization: admin } });
  return listed.json().items.map((l: { name: string }) => l.name);
}

describe('the general body limit', () => {
  it('refuses a JSON body over it with 413, announced or streamed, and creates nothing', async () => {
    const announced = await app.inject({
      method: 'POST',
      url: '/api/lists',
      headers: { authorization: admin, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: MARKER, description: 'a'.repeat(LIMITS.httpBodyBytes) }),
    });
    expectError(announced, 413, 'REQUEST_TOO_LARGE');
    const streamed = await app.inject({
      method: 'POST',
      url: '/api/lists',
      headers: { authorization: admin, 'content-type': 'application/json' },
      payload: streamedJson(LIMITS.httpBodyBytes + 64 * 1024),
    });
    expectError(streamed, 413, 'REQUEST_TOO_LARGE');
    expect(await listNames()).not.toContain(MARKER);
  });

  it('accepts a body just under it (the refusal is about size, not content)', async () => {
    const name = `${MARKER}-under`;
    // Unknown keys are dropped by the schema: this one only adds bytes.
    const padding = 'a'.repeat(LIMITS.httpBodyBytes - 1024);
    const accepted = await app.inject({
      method: 'POST',
      url: '/api/lists',
      headers: { authorization: admin },
      payload: { name, padding },
    });
    expect(accepted.statusCode, accepted.body).toBe(201);
    expect(accepted.body).not.toContain(padding.slice(0, 100));
  });
});

describe("the send routes' larger limit", () => {
  it('accepts a message between the general limit and its own', async () => {
    const text = 'a'.repeat(LIMITS.httpBodyBytes + 512 * 1024);
    const queued = await app.inject({
      method: 'POST',
      url: `/api/email/accounts/${account.id}/messages`,
      headers: { authorization: admin },
      payload: { to: ['ada@example.org'], subject: 'Large', text },
    });
    expect(queued.statusCode, queued.body.slice(0, 300)).toBe(202);
  });

  it('refuses a streamed body over its own limit with 413', async () => {
    const refused = await app.inject({
      method: 'POST',
      url: `/api/email/accounts/${account.id}/messages`,
      headers: { authorization: admin, 'content-type': 'application/json' },
      payload: streamedJson(SEND_LIMIT + 64 * 1024),
    });
    expectError(refused, 413, 'REQUEST_TOO_LARGE');
  });
});

describe('malformed bodies', () => {
  it('answers an empty JSON body 400 REQUEST_MALFORMED', async () => {
    const empty = await app.inject({
      method: 'POST',
      url: '/api/lists',
      headers: { authorization: admin, 'content-type': 'application/json' },
      payload: '',
    });
    expectError(empty, 400, 'REQUEST_MALFORMED');
  });

  it('answers truncated JSON 400 without quoting it', async () => {
    const truncated = await app.inject({
      method: 'POST',
      url: '/api/lists',
      headers: { authorization: admin, 'content-type': 'application/json' },
      payload: `{"name":"${MARKER}`,
    });
    expectError(truncated, 400, 'REQUEST_MALFORMED');
  });

  it.each(['application/xml', 'text/csv', 'application/octet-stream'])(
    'answers %s 415 REQUEST_UNSUPPORTED_MEDIA_TYPE',
    async (contentType) => {
      const refused = await app.inject({
        method: 'POST',
        url: '/api/lists',
        headers: { authorization: admin, 'content-type': contentType },
        payload: `<name>${MARKER}</name>`,
      });
      expectError(refused, 415, 'REQUEST_UNSUPPORTED_MEDIA_TYPE');
      expect(await listNames()).not.toContain(MARKER);
    },
  );
});

describe('prototype keys', () => {
  it.each([
    ['__proto__', `{"name":"${MARKER}","__proto__":{"polluted":"yes","isAdmin":true}}`],
    ['constructor.prototype', `{"name":"${MARKER}","constructor":{"prototype":{"polluted":"yes","isAdmin":true}}}`],
    ['nested __proto__', `{"name":"${MARKER}","description":null,"x":{"__proto__":{"polluted":"yes"}}}`],
  ])('%s is refused 400 and pollutes nothing', async (_name, body) => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const refused = await app.inject({
      method: 'POST',
      url: '/api/lists',
      headers: { authorization: admin, 'content-type': 'application/json' },
      payload: body,
    });
    expectError(refused, 400, 'REQUEST_MALFORMED');
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(await listNames()).not.toContain(MARKER);
    // The server goes on answering.
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('in a form body pollutes nothing either', async () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    await app.inject({
      method: 'POST',
      url: '/api/lists',
      headers: { authorization: admin, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `name=${MARKER}-form&__proto__[polluted]=yes&constructor[prototype][polluted]=yes`,
    });
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
