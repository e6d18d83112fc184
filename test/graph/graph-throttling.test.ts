/**
 * Throttling of the emulated Graph API: Outlook's MailboxConcurrency limit (a fifth concurrent
 * request of one app on one mailbox is answered 429 with Retry-After and ApplicationThrottled), and
 * faults scripted for the next N calls through the control API (429, 503, drop), all consumed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TestEmulator } from '../emulator/helpers/emulator.js';
import {
  appToken,
  CONTOSO,
  expectGraphError,
  GraphClient,
  SHARED,
  startGraphEmulator,
  userToken,
  type GraphResponse,
} from './helpers/graph-emulator.js';

let emu: TestEmulator;
let andrea: GraphClient;

const statusSchema = z.object({
  inFlight: z.record(z.string(), z.number()),
  limits: z.object({ concurrency: z.number(), retryAfterSeconds: z.number() }),
});
const faultsSchema = z.object({ faults: z.array(z.unknown()) });

/** Waits (polling the control API, no fixed sleep) until `count` requests are in flight for the key. */
async function inFlight(key: string, count: number): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt += 1) {
    const status = statusSchema.parse(await emu.control('GET', '/graph/status'));
    if ((status.inFlight[key] ?? 0) >= count) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never saw ${count} requests in flight for ${key}`);
}

beforeAll(async () => {
  emu = await startGraphEmulator();
  andrea = new GraphClient(emu, await userToken(emu, CONTOSO.andrea));
});

afterEach(async () => {
  // Every scripted fault must have been consumed by the test that scripted it.
  expect(faultsSchema.parse(await emu.control('GET', '/graph/faults')).faults).toEqual([]);
});

afterAll(() => emu.stop());

describe('MailboxConcurrency', () => {
  it('answers the 5th concurrent request of one app on one mailbox with 429, Retry-After and ApplicationThrottled', async () => {
    await emu.control('POST', '/graph/faults', { kind: 'delay', count: 4, delayMs: 600 });
    const held = Array.from({ length: 4 }, () => andrea.get('/me/mailFolders/inbox/messages?$top=1'));
    await inFlight(`${CONTOSO.publicClient.appId}|${CONTOSO.andrea.upn}`, 4);

    const throttled = await andrea.get('/me/mailFolders/inbox/messages?$top=1');
    expectGraphError(throttled, 429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.');
    expect(throttled.headers.get('retry-after')).toBe('1');

    // Another mailbox of the same app, and the same mailbox from another app, are not limited.
    expect((await andrea.get(`/users/${SHARED}/mailFolders/inbox/messages?$top=1`)).status).toBe(200);
    const daemon = new GraphClient(emu, await appToken(emu));
    expect((await daemon.get(`/users/${CONTOSO.andrea.upn}/mailFolders/inbox/messages?$top=1`)).status).toBe(200);

    const results: GraphResponse[] = await Promise.all(held);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await andrea.get('/me/mailFolders/inbox/messages?$top=1')).status).toBe(200);
  });

  it('follows the limit set through the control API', async () => {
    await emu.control('PUT', '/graph/limits', { concurrency: 1, retryAfterSeconds: 5 });
    try {
      await emu.control('POST', '/graph/faults', { kind: 'delay', count: 1, delayMs: 400 });
      const held = andrea.get('/me/mailFolders');
      await inFlight(`${CONTOSO.publicClient.appId}|${CONTOSO.andrea.upn}`, 1);
      const throttled = await andrea.get('/me/mailFolders');
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get('retry-after')).toBe('5');
      expect((await held).status).toBe(200);
    } finally {
      await emu.control('PUT', '/graph/limits', { concurrency: 4, retryAfterSeconds: 1 });
    }
  });
});

describe('scripted faults for the next N calls', () => {
  it('throttles the next 2 calls with 429 and the given Retry-After, then serves', async () => {
    await emu.control('POST', '/graph/faults', { kind: 'throttle', count: 2, retryAfterSeconds: 7 });
    for (let i = 0; i < 2; i += 1) {
      const response = await andrea.get('/me/mailFolders/inbox/messages');
      expectGraphError(response, 429, 'ApplicationThrottled');
      expect(response.headers.get('retry-after')).toBe('7');
    }
    expect((await andrea.get('/me/mailFolders/inbox/messages')).status).toBe(200);
  });

  it('answers 503 (with Retry-After when given), also through the generic /faults route with target graph', async () => {
    await emu.control('POST', '/graph/faults', { kind: 'unavailable', count: 1, retryAfterSeconds: 3 });
    const unavailable = await andrea.post('/me/sendMail', {
      message: { subject: 'x', toRecipients: [{ emailAddress: { address: 'a@example.org' } }] },
    });
    expectGraphError(unavailable, 503, 'serviceNotAvailable');
    expect(unavailable.headers.get('retry-after')).toBe('3');

    await emu.control('POST', '/faults', { target: 'graph', kind: 'http-503', count: 1 });
    const generic = await andrea.get('/me/mailFolders');
    expectGraphError(generic, 503, 'serviceNotAvailable');
    expect(generic.headers.get('retry-after')).toBeNull();

    await emu.control('POST', '/faults', {
      target: 'graph',
      kind: 'http-503',
      status: 429,
      retryAfterSeconds: 2,
      count: 1,
    });
    const viaGeneric = await andrea.get('/me/mailFolders');
    expectGraphError(viaGeneric, 429, 'ApplicationThrottled');
    expect(viaGeneric.headers.get('retry-after')).toBe('2');
  });

  it('drops the connection of the next call', async () => {
    await emu.control('POST', '/graph/faults', { kind: 'drop', count: 1 });
    await expect(andrea.get('/me/mailFolders')).rejects.toThrow();
    expect((await andrea.get('/me/mailFolders')).status).toBe(200);
  });

  it('leaves calls refused before the mailbox (401) out of the count', async () => {
    await emu.control('POST', '/graph/faults', { kind: 'throttle', count: 1 });
    expectGraphError(await new GraphClient(emu, undefined).get('/me/mailFolders'), 401, 'InvalidAuthenticationToken');
    expectGraphError(await andrea.get('/me/mailFolders'), 429, 'ApplicationThrottled');
  });
});
