/**
 * `POST /v1.0/$batch` of the emulated Graph API: inner requests answered per id exactly as the same
 * calls made alone (status, body, errors), at most 20 per batch, each inner request throttled on
 * its own (a scripted 429 lands on one inner request with its Retry-After), `$value` in base64.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TestEmulator } from '../emulator/helpers/emulator.js';
import {
  collection,
  CONTOSO,
  deliver,
  expectGraphError,
  GraphClient,
  startGraphEmulator,
  userToken,
} from './helpers/graph-emulator.js';

let emu: TestEmulator;
let marco: GraphClient;
const MARCO = CONTOSO.marco.upn;

const batchAnswer = z.object({
  responses: z.array(
    z.object({
      id: z.string(),
      status: z.number(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
    }),
  ),
});

async function batch(requests: unknown[]): Promise<z.infer<typeof batchAnswer>['responses']> {
  const response = await marco.post('/$batch', { requests });
  expect(response.status, response.text).toBe(200);
  return batchAnswer.parse(response.json).responses;
}

beforeAll(async () => {
  emu = await startGraphEmulator();
  for (let i = 0; i < 3; i += 1)
    await deliver(emu, { mailbox: MARCO, folder: 'Inbox', subject: `Batch ${i}`, text: `Body ${i}`, to: MARCO });
  marco = new GraphClient(emu, await userToken(emu, CONTOSO.marco));
});

afterAll(() => emu.stop());

describe('$batch', () => {
  it('answers each inner request by id as the direct call answers it', async () => {
    const ids = collection(await marco.get('/me/mailFolders/inbox/messages?$select=id,subject&$top=3')).value.map((m) =>
      String(m.id),
    );
    const [first, second] = ids;
    if (first === undefined || second === undefined) throw new Error('no messages');
    const direct = await marco.get(`/me/messages/${first}?$select=subject`);
    const responses = await batch([
      { id: 'read', method: 'PATCH', url: `/me/messages/${first}`, body: { isRead: true } },
      { id: 'get', method: 'GET', url: `me/messages/${first}?$select=subject` },
      { id: 'mime', method: 'GET', url: `/me/messages/${second}/$value` },
      { id: 'gone', method: 'PATCH', url: '/me/messages/AAMkAGVtdWxhdG9yAAA0000=', body: { isRead: true } },
      { id: 'unknown', method: 'GET', url: '/me/nothingHere' },
    ]);
    const byId = new Map(responses.map((r) => [r.id, r]));
    expect(byId.get('read')).toMatchObject({ status: 200, body: { isRead: true } });
    expect(byId.get('get')).toMatchObject({ status: 200, body: { subject: direct.json.subject } });
    const mime = byId.get('mime');
    expect(mime?.status).toBe(200);
    const directMime = await marco.get(`/me/messages/${second}/$value`);
    expect(Buffer.from(String(mime?.body), 'base64').toString('utf8')).toBe(directMime.text);
    // Errors: the status and Graph code of the same call made alone.
    const goneDirect = await marco.patch('/me/messages/AAMkAGVtdWxhdG9yAAA0000=', { isRead: true });
    const unknownDirect = await marco.get('/me/nothingHere');
    for (const [id, alone] of [
      ['gone', goneDirect],
      ['unknown', unknownDirect],
    ] as const) {
      const inner = byId.get(id);
      expect(inner?.status).toBe(alone.status);
      expect(inner?.status).toBeGreaterThanOrEqual(400);
      expect(z.object({ error: z.object({ code: z.string() }) }).parse(inner?.body).error.code).toBe(
        z.object({ error: z.object({ code: z.string() }) }).parse(alone.json).error.code,
      );
    }
  });

  it('refuses more than 20 requests, and a batch without a token', async () => {
    const requests = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/me' }));
    expectGraphError(await marco.post('/$batch', { requests }), 400, 'BadRequest');
    const anonymous = new GraphClient(emu, undefined);
    expect((await anonymous.post('/$batch', { requests: requests.slice(0, 2) })).status).toBe(401);
    expect(await batch(requests.slice(0, 20))).toHaveLength(20);
  });

  it('throttles inner requests on their own: a scripted 429 answers one of them with its Retry-After', async () => {
    await emu.control('POST', '/graph/faults', { kind: 'throttle', count: 1, retryAfterSeconds: 3 });
    const responses = await batch([
      { id: '1', method: 'GET', url: '/me/mailFolders/inbox' },
      { id: '2', method: 'GET', url: '/me/mailFolders/inbox' },
    ]);
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 429]);
    const throttled = responses.find((r) => r.status === 429);
    expect(throttled?.headers?.['retry-after']).toBe('3');
  });
});
