/**
 * The webhook dispatcher's edge cases with an injected fetch, on both engines: what a failed
 * attempt records (status, redirect, unreachable, timeout, secrets scrubbed from the receiver's
 * answer), the per-webhook limit, and a node that dies mid-attempt.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
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
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../../src/workers/webhook-dispatcher.js';
import { forEachEngine } from '../helpers/store.js';

const box = new SecretBox(randomBytes(32));
const silent = pino({ level: 'silent' });

type Answer = (url: string, init: RequestInit) => Promise<Response>;

/** A fetch that answers through `answer`, counting calls and the most at once. */
function fakeFetch(answer: Answer): { fetch: typeof fetch; calls: RequestInit[]; maxAtOnce: () => number } {
  const calls: RequestInit[] = [];
  let current = 0;
  let max = 0;
  const fake: typeof fetch = async (input, init) => {
    calls.push(init ?? {});
    current += 1;
    max = Math.max(max, current);
    try {
      return await answer(String(input instanceof Request ? input.url : input), init ?? {});
    } finally {
      current -= 1;
    }
  };
  return { fetch: fake, calls, maxAtOnce: () => max };
}

forEachEngine((_engine, openFresh) => {
  let db: Database;
  beforeAll(async () => {
    db = await openFresh();
  });

  async function oneDelivery(
    answer: Answer,
    options: WebhookDispatcherOptions = {},
  ): Promise<{ lastError: string | null; responseStatus: number | null; state: string }> {
    const hook = await createWebhook(db, box, {
      url: 'https://127.0.0.1:9/hook?token=abc',
      events: ['edge.case'],
      secret: 'whsec_edge',
    });
    await appendEvent(db, { scope: 'system', type: 'edge.case', message: 'edge' });
    const dispatcher = new WebhookDispatcher(new WebhookDeliveryService(db, box), silent, {
      fetch: fakeFetch(answer).fetch,
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
    it('an HTTP error with the start of the answer, tokens scrubbed', async () => {
      const delivery = await oneDelivery(
        async () => new Response('denied: Bearer abc.def.ghi ' + 'x'.repeat(5000), { status: 401 }),
      );
      expect(delivery).toMatchObject({ state: 'pending', responseStatus: 401 });
      expect(delivery.lastError).toContain('answered HTTP 401: denied: Bearer [redacted]');
      expect(delivery.lastError?.length).toBeLessThan(400);
    });

    it('a redirect, which is not followed', async () => {
      const delivery = await oneDelivery(
        async () => new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/' } }),
      );
      expect(delivery.lastError).toContain('redirected to https://elsewhere.example/ (redirects are not followed)');
    });

    it('a receiver that cannot be reached', async () => {
      const delivery = await oneDelivery(async () => {
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
        });
      });
      expect(delivery).toMatchObject({ state: 'pending', responseStatus: null });
      expect(delivery.lastError).toBe('The receiver could not be reached: connect ECONNREFUSED 127.0.0.1:9.');
    });

    it('a receiver that does not answer in time', async () => {
      const hang: Answer = (_url, init) =>
        new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
      const delivery = await oneDelivery(hang, { timeoutMs: 50 });
      expect(delivery.lastError).toBe('The receiver did not answer within 50 ms.');
    });

    it('and the last attempt gives the delivery up', async () => {
      const delivery = await oneDelivery(async () => new Response('no', { status: 500 }), {
        retry: { maxAttempts: 1 },
      });
      expect(delivery.state).toBe('failed');
    });
  });

  it('sends at most perWebhookInFlight requests to one receiver at once', async () => {
    const hook = await createWebhook(db, box, {
      url: 'https://127.0.0.1:9/slow',
      events: ['burst.test'],
      secret: 'whsec_burst',
    });
    for (let i = 0; i < 7; i += 1) await appendEvent(db, { scope: 'system', type: 'burst.test', message: `n${i}` });
    const fake = fakeFetch(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return new Response(null, { status: 204 });
    });
    const dispatcher = new WebhookDispatcher(new WebhookDeliveryService(db, box), silent, {
      fetch: fake.fetch,
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
    expect(fake.calls).toHaveLength(7);
    expect(fake.maxAtOnce()).toBe(2);
    await updateWebhook(db, hook.id, { active: false });
  });

  it('takes over the claim of a node that died mid-attempt, once it is stale', async () => {
    let now = new Date('2030-01-01T00:00:00.000Z');
    const clocked = await openFresh({ clock: () => now });
    const hook = await createWebhook(clocked, box, {
      url: 'https://127.0.0.1:9/x',
      events: ['crash.test'],
      secret: 'whsec_crash',
    });
    await appendEvent(clocked, { scope: 'system', type: 'crash.test', message: 'before the crash' });
    // The dead node claimed it and never answered.
    expect(await claimDueDeliveries(clocked, { now, limit: 10, staleAfterMs: 120_000 })).toHaveLength(1);
    const fake = fakeFetch(async () => new Response(null, { status: 200 }));
    const survivor = new WebhookDispatcher(new WebhookDeliveryService(clocked, box), silent, {
      fetch: fake.fetch,
      staleAfterMs: 120_000,
    });
    expect(await survivor.runOnce()).toBe(0);
    now = new Date(now.getTime() + 121_000);
    expect(await survivor.runOnce()).toBe(1);
    const [delivery] = (await listDeliveries(clocked, hook.id)).items;
    expect(delivery).toMatchObject({ state: 'delivered', attempts: 2 });
    const headers = new Headers(fake.calls[0]?.headers);
    expect(headers.get('postern-attempt')).toBe('2');
    expect(headers.get('postern-signature')).toMatch(/^t=1893456121,v1=[0-9a-f]{64}$/);
  });
});
