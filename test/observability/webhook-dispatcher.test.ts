/**
 * The webhook dispatcher's edge cases against real receivers on loopback (127.0.0.1 allowed
 * through the target guard, as POSTERN_WEBHOOK_ALLOWED_NETWORKS would), on both engines: what a
 * failed attempt records (status only, never the receiver's body; a redirect not followed;
 * unreachable; timeout; a refused address), the per-webhook limit, and a node that dies
 * mid-attempt.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/database.js';
import {
  appendEvent,
  claimDueDeliveries,
  createWebhook,
  listDeliveries,
  SecretBox,
  updateWebhook,
} from '../../src/store/index.js';
import { WebhookDeliveryService } from '../../src/services/webhooks/webhook-delivery-service.js';
import { WebhookTargetGuard } from '../../src/services/webhooks/webhook-target.js';
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../../src/workers/webhook-dispatcher.js';
import { selfSignedCertificate } from '../exchange/helpers/self-signed.js';
import { forEachEngine } from '../helpers/store.js';

/** The default webhook retry policy's longest delay, rounded up (its retries are never further ahead). */
const LONGEST_DELAY_MS = 4_320_000;

const box = new SecretBox(randomBytes(32));
const silent = pino({ level: 'silent' });
const loopbackAllowed = new WebhookTargetGuard({
  allowedNetworks: ['127.0.0.1'],
  publicUrl: 'https://postern.example.com',
  resolve: async () => [],
});

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

/** A receiver on 127.0.0.1 answering through `handler`, counting requests and the most at once. */
interface TestReceiver {
  readonly url: string;
  readonly requests: http.IncomingHttpHeaders[];
  maxAtOnce(): number;
  close(): Promise<void>;
}

const receivers: TestReceiver[] = [];
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

async function receiver(handler: Handler): Promise<TestReceiver> {
  const requests: http.IncomingHttpHeaders[] = [];
  let current = 0;
  let max = 0;
  const server = http.createServer((request, response) => {
    requests.push(request.headers);
    current += 1;
    max = Math.max(max, current);
    response.on('close', () => (current -= 1));
    request.resume();
    request.on('end', () => handler(request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const made: TestReceiver = {
    url: `http://127.0.0.1:${address.port}/hook?token=abc`,
    requests,
    maxAtOnce: () => max,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  receivers.push(made);
  return made;
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

forEachEngine((_engine, openFresh) => {
  let db: Database;
  beforeAll(async () => {
    db = await openFresh();
  });

  async function oneDelivery(
    url: string,
    options: Partial<WebhookDispatcherOptions> = {},
  ): Promise<{ lastError: string | null; responseStatus: number | null; state: string }> {
    const hook = await createWebhook(db, box, { url, events: ['edge.case'], secret: 'whsec_edge' });
    await appendEvent(db, { scope: 'system', type: 'edge.case', message: 'edge' });
    const dispatcher = new WebhookDispatcher(new WebhookDeliveryService(db, box), silent, {
      targets: loopbackAllowed,
      retry: { baseMs: 60_000 },
      ...options,
    });
    expect(await dispatcher.runOnce()).toBe(1);
    await updateWebhook(db, hook.id, { active: false });
    const delivery = (await listDeliveries(db, hook.id)).items[0];
    if (delivery === undefined) throw new Error('no delivery');
    return delivery;
  }

  describe('a failed attempt records why', () => {
    it('an HTTP error: the status in Postern words, never the receiver body', async () => {
      const answering = await receiver((_request, response) =>
        response.writeHead(401).end('denied: Bearer abc.def.ghi aws_secret_access_key=XYZ ' + 'x'.repeat(5000)),
      );
      const delivery = await oneDelivery(answering.url);
      expect(delivery).toMatchObject({ state: 'pending', responseStatus: 401 });
      expect(delivery.lastError).toBe('The receiver answered HTTP 401.');
      expect(answering.requests).toHaveLength(1);
    });

    it('a redirect, which is not followed (nor its Location recorded)', async () => {
      const target = await receiver((_request, response) => response.writeHead(200).end('ok'));
      const redirecting = await receiver((_request, response) =>
        response.writeHead(302, { location: `${target.url}&secret=in-location` }).end(),
      );
      const delivery = await oneDelivery(redirecting.url);
      expect(delivery.responseStatus).toBe(302);
      expect(delivery.lastError).toBe(
        'The receiver answered HTTP 302, a redirect; redirects are not followed, deliver to the final URL instead.',
      );
      expect(target.requests).toHaveLength(0);
    });

    it('a receiver that cannot be reached', async () => {
      const port = await closedPort();
      const delivery = await oneDelivery(`http://127.0.0.1:${port}/hook`);
      expect(delivery).toMatchObject({ state: 'pending', responseStatus: null });
      expect(delivery.lastError).toBe(
        `The connection to the receiver 127.0.0.1:${port} was refused: nothing accepts connections on that port there.`,
      );
    });

    it('a receiver that does not answer in time', async () => {
      const hanging = await receiver(() => undefined);
      const delivery = await oneDelivery(hanging.url, { timeoutMs: 50 });
      expect(delivery.lastError).toBe(`The receiver ${new URL(hanging.url).host} did not answer within 50 ms.`);
    });

    it('an https receiver whose certificate is not trusted', async () => {
      const server = https.createServer(selfSignedCertificate(), (_request, response) => response.end('ok'));
      let requests = 0;
      server.on('request', () => (requests += 1));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      try {
        const delivery = await oneDelivery(`https://127.0.0.1:${address.port}/hook`);
        expect(delivery).toMatchObject({ state: 'pending', responseStatus: null });
        expect(delivery.lastError).toBe(
          `The receiver 127.0.0.1:${address.port} could not be reached: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT).`,
        );
        expect(requests).toBe(0);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    it('an https name that resolves inward at delivery, refused in the lookup', async () => {
      const inward = new WebhookTargetGuard({
        allowedNetworks: ['127.0.0.1'],
        publicUrl: 'https://postern.example.com',
        resolve: async () => [
          { address: '203.0.113.80', family: 4 },
          { address: 'fd00:ec2::254', family: 6 },
        ],
      });
      const delivery = await oneDelivery('https://crm.example.net/hook', { targets: inward });
      expect(delivery.lastError).toBe(
        "The receiver's address fd00:ec2::254 (crm.example.net) is a unique-local IPv6 address (a private network); webhooks are not delivered there unless POSTERN_WEBHOOK_ALLOWED_NETWORKS includes it.",
      );
    });

    it('a receiver on an address that is not allowed: no request, and why', async () => {
      const local = await receiver((_request, response) => response.writeHead(200).end('ok'));
      const publicOnly = new WebhookTargetGuard({ allowedNetworks: [], publicUrl: 'https://postern.example.com' });
      const delivery = await oneDelivery(local.url, { targets: publicOnly });
      expect(delivery).toMatchObject({ state: 'pending', responseStatus: null });
      expect(delivery.lastError).toBe(
        "The receiver's address 127.0.0.1 is a loopback address (this machine); webhooks are not delivered there unless POSTERN_WEBHOOK_ALLOWED_NETWORKS includes it.",
      );
      expect(local.requests).toHaveLength(0);
    });

    it('and the last attempt gives the delivery up', async () => {
      const failing = await receiver((_request, response) => response.writeHead(500).end('no'));
      const delivery = await oneDelivery(failing.url, { retry: { maxAttempts: 1 } });
      expect(delivery.state).toBe('failed');
    });
  });

  it('sends at most perWebhookInFlight requests to one receiver at once', async () => {
    const slow = await receiver((_request, response) => {
      setTimeout(() => response.writeHead(204).end(), 20);
    });
    const hook = await createWebhook(db, box, { url: slow.url, events: ['burst.test'], secret: 'whsec_burst' });
    for (let i = 0; i < 7; i += 1) await appendEvent(db, { scope: 'system', type: 'burst.test', message: `n${i}` });
    const dispatcher = new WebhookDispatcher(new WebhookDeliveryService(db, box), silent, {
      targets: loopbackAllowed,
      perWebhookInFlight: 2,
      pollIntervalMs: 10,
    });
    dispatcher.start();
    const started = Date.now();
    while ((await listDeliveries(db, hook.id, { state: 'delivered' })).items.length < 7) {
      if (Date.now() - started > 10_000) throw new Error('not all delivered');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await dispatcher.stop();
    expect(slow.requests).toHaveLength(7);
    expect(slow.maxAtOnce()).toBe(2);
    await updateWebhook(db, hook.id, { active: false });
  });

  it('takes over the claim of a node that died mid-attempt, once it is stale', async () => {
    let now = new Date('2030-01-01T00:00:00.000Z');
    const clocked = await openFresh({ clock: () => now });
    const ok = await receiver((_request, response) => response.writeHead(200).end());
    const hook = await createWebhook(clocked, box, { url: ok.url, events: ['crash.test'], secret: 'whsec_crash' });
    await appendEvent(clocked, { scope: 'system', type: 'crash.test', message: 'before the crash' });
    // The dead node claimed it and never answered.
    expect(
      await claimDueDeliveries(clocked, { now, limit: 10, staleAfterMs: 120_000, longestDelayMs: LONGEST_DELAY_MS }),
    ).toHaveLength(1);
    const survivor = new WebhookDispatcher(new WebhookDeliveryService(clocked, box), silent, {
      targets: loopbackAllowed,
      staleAfterMs: 120_000,
    });
    expect(await survivor.runOnce()).toBe(0);
    now = new Date(now.getTime() + 121_000);
    expect(await survivor.runOnce()).toBe(1);
    const [delivery] = (await listDeliveries(clocked, hook.id)).items;
    expect(delivery).toMatchObject({ state: 'delivered', attempts: 2 });
    const headers = ok.requests[0];
    expect(headers?.['postern-attempt']).toBe('2');
    expect(headers?.['postern-signature']).toMatch(/^t=1893456121,v1=[0-9a-f]{64}$/);
  });
});
