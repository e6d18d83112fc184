/**
 * The webhook outbox and the event queries on both engines: deliveries are written with their
 * event (and vanish with a rolled-back one), claims never overlap (SKIP LOCKED on PostgreSQL),
 * outcomes apply only to the current claim, stale claims are taken over, agents' event filter,
 * retention, and the metrics counts.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/database.js';
import {
  appendEvent,
  claimDueDeliveries,
  createWebhook,
  listDeliveries,
  listEvents,
  markDeliveryDelivered,
  markDeliveryFailed,
  pruneEvents,
  queueTestDelivery,
  readOperationalCounts,
  requeueDelivery,
  SecretBox,
  updateWebhook,
} from '../../src/store/index.js';
import { insertAccount } from '../helpers/store-factories.js';
import { forEachEngine } from '../helpers/store.js';

/** The default webhook retry policy's longest delay, rounded up (its retries are never further ahead). */
const LONGEST_DELAY_MS = 4_320_000;

const box = new SecretBox(randomBytes(32));

async function webhook(db: Database, events: string[], active = true): Promise<number> {
  return (
    await createWebhook(db, box, {
      url: 'https://127.0.0.1:9/hook',
      events,
      secret: 'whsec_x',
      active,
    })
  ).id;
}

async function deliveriesOf(db: Database, webhookId: number): Promise<string[]> {
  return (await listDeliveries(db, webhookId)).items.map((d) => `${d.eventType}:${d.state}`);
}

forEachEngine((engine, openFresh) => {
  let db: Database;
  let now = new Date('2026-03-01T10:00:00.000Z');
  beforeAll(async () => {
    db = await openFresh({ clock: () => now });
  });

  describe('fan-out with the event', () => {
    it('queues an event for each active webhook whose subscription matches: exact, family, everything', async () => {
      const exact = await webhook(db, ['message.received']);
      const family = await webhook(db, ['account.*']);
      const all = await webhook(db, ['*']);
      const off = await webhook(db, ['*'], false);
      await appendEvent(db, { scope: 'message', scopeId: 999, type: 'message.received', message: 'm' });
      await appendEvent(db, { scope: 'account', scopeId: 999, type: 'account.connected', message: 'c' });
      expect(await deliveriesOf(db, exact)).toEqual(['message.received:pending']);
      expect(await deliveriesOf(db, family)).toEqual(['account.connected:pending']);
      expect(await deliveriesOf(db, all)).toEqual(['account.connected:pending', 'message.received:pending']);
      expect(await deliveriesOf(db, off)).toEqual([]);
      for (const id of [exact, family, all]) await updateWebhook(db, id, { active: false });
    });

    it("writes nothing when the event's transaction rolls back", async () => {
      const hook = await webhook(db, ['*']);
      await expect(
        db.transaction(async (tx) => {
          await appendEvent(tx, { scope: 'system', type: 'system.rolled_back', message: 'x' });
          throw new Error('rollback');
        }),
      ).rejects.toThrow('rollback');
      expect((await listEvents(db, { types: ['system.rolled_back'] })).items).toHaveLength(0);
      expect(await deliveriesOf(db, hook)).toEqual([]);
      await updateWebhook(db, hook, { active: false });
    });
  });

  describe('claims and outcomes', () => {
    let hook: number;
    beforeAll(async () => {
      hook = await webhook(db, ['claim.test']);
      for (let i = 0; i < 6; i += 1) await appendEvent(db, { scope: 'system', type: 'claim.test', message: `n${i}` });
    });

    it('never hands the same delivery to two claimers at once', async () => {
      const [a, b] = await Promise.all([
        claimDueDeliveries(db, { now, limit: 4, staleAfterMs: 60_000, longestDelayMs: LONGEST_DELAY_MS }),
        claimDueDeliveries(db, { now, limit: 4, staleAfterMs: 60_000, longestDelayMs: LONGEST_DELAY_MS }),
      ]);
      const ids = [...a, ...b].map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(6);
      expect([...a, ...b].every((c) => c.attempt === 1 && c.webhook.id === hook && c.event.type === 'claim.test')).toBe(
        true,
      );
      expect(
        await claimDueDeliveries(db, { now, limit: 10, staleAfterMs: 60_000, longestDelayMs: LONGEST_DELAY_MS }),
      ).toEqual([]);

      const [first, second, third] = [...a, ...b].sort((x, y) => x.id - y.id);
      if (first === undefined || second === undefined || third === undefined) throw new Error('claims missing');
      expect(await markDeliveryDelivered(db, first, { status: 204, at: now })).toBe(true);
      expect(
        await markDeliveryDelivered(db, first, { status: 204, at: now }),
        'a second outcome of the same claim',
      ).toBe(false);
      expect(
        await markDeliveryFailed(db, second, {
          status: 500,
          error: 'boom',
          at: now,
          retryAt: new Date(now.getTime() + 30_000),
        }),
      ).toBe(true);
      expect(await markDeliveryFailed(db, third, { status: null, error: 'gone', at: now, retryAt: null })).toBe(true);
      const log = (await listDeliveries(db, hook)).items;
      expect(log.find((d) => d.id === first.id)).toMatchObject({
        state: 'delivered',
        responseStatus: 204,
        attempts: 1,
      });
      expect(log.find((d) => d.id === second.id)).toMatchObject({
        state: 'pending',
        responseStatus: 500,
        lastError: 'boom',
      });
      expect(log.find((d) => d.id === third.id)).toMatchObject({ state: 'failed', lastError: 'gone' });

      // The retry becomes due after its delay; the others claimed earlier are stale only after staleAfterMs.
      now = new Date(now.getTime() + 31_000);
      const retried = await claimDueDeliveries(db, {
        now,
        limit: 10,
        staleAfterMs: 60_000,
        longestDelayMs: LONGEST_DELAY_MS,
      });
      expect(retried.map((c) => [c.id, c.attempt])).toEqual([[second.id, 2]]);
      now = new Date(now.getTime() + 60_000);
      const takenOver = await claimDueDeliveries(db, {
        now,
        limit: 10,
        staleAfterMs: 60_000,
        longestDelayMs: LONGEST_DELAY_MS,
      });
      expect(takenOver).toHaveLength(3);
      expect(takenOver.every((c) => c.attempt === 2)).toBe(true);
      // The dead node's late answer no longer counts.
      const late = [...a, ...b].find((c) => c.id === takenOver[0]?.id);
      if (late === undefined) throw new Error('no late claim');
      expect(await markDeliveryDelivered(db, late, { status: 200, at: now })).toBe(false);
    });

    it('claims at once a retry scheduled before the clock was set back by hours (issue 16, point 5)', async () => {
      const hookId = await webhook(db, ['jump.test']);
      await appendEvent(db, { scope: 'system', type: 'jump.test', message: 'jump' });
      const claim = (at: Date) =>
        claimDueDeliveries(db, {
          now: at,
          limit: 10,
          staleAfterMs: 3_600_000,
          longestDelayMs: LONGEST_DELAY_MS,
          excludeWebhooks: [hook],
        });
      const [first] = await claim(now);
      if (first === undefined) throw new Error('nothing claimed');
      const retryAt = new Date(now.getTime() + LONGEST_DELAY_MS);
      expect(await markDeliveryFailed(db, first, { status: 503, error: 'busy', at: now, retryAt })).toBe(true);
      expect(await claim(now)).toEqual([]);
      // Five hours back: the retry looks further ahead than the policy ever schedules one.
      const setBack = new Date(now.getTime() - 5 * 3_600_000);
      const again = await claim(setBack);
      expect(again.map((c) => [c.id, c.attempt])).toEqual([[first.id, 2]]);
      // One scheduled after the jump waits for its time.
      const [second] = again;
      if (second === undefined) throw new Error('nothing claimed');
      const later = new Date(setBack.getTime() + LONGEST_DELAY_MS);
      expect(await markDeliveryFailed(db, second, { status: 503, error: 'busy', at: setBack, retryAt: later })).toBe(
        true,
      );
      expect(await claim(setBack)).toEqual([]);
      expect((await claim(later)).map((c) => c.id)).toEqual([first.id]);
      await updateWebhook(db, hookId, { active: false });
    });

    it('holds the deliveries of a disabled webhook, and redelivers on request', async () => {
      await updateWebhook(db, hook, { active: false });
      await appendEvent(db, { scope: 'system', type: 'claim.test', message: 'held' });
      // The webhook is inactive, so the new event was not queued; the given-up one can be redelivered.
      const failed = (await listDeliveries(db, hook, { state: 'failed' })).items[0];
      if (failed === undefined) throw new Error('no failed delivery');
      expect(await requeueDelivery(db, hook, failed.id)).toBe(true);
      expect(
        await claimDueDeliveries(db, { now, limit: 10, staleAfterMs: 3_600_000, longestDelayMs: LONGEST_DELAY_MS }),
      ).toEqual([]);
      await updateWebhook(db, hook, { active: true });
      const resumed = await claimDueDeliveries(db, {
        now,
        limit: 10,
        staleAfterMs: 3_600_000,
        longestDelayMs: LONGEST_DELAY_MS,
      });
      expect(resumed.map((c) => [c.id, c.attempt])).toEqual([[failed.id, 1]]);
      await updateWebhook(db, hook, { active: false });
    });

    it('queues a ping for one webhook only', async () => {
      const other = await webhook(db, ['*']);
      const deliveryId = await queueTestDelivery(db, hook);
      expect((await listDeliveries(db, hook)).items[0]).toMatchObject({
        id: deliveryId,
        eventType: 'webhook.ping',
        state: 'pending',
      });
      expect(await deliveriesOf(db, other)).toEqual([]);
      await updateWebhook(db, other, { active: false });
    });
  });

  describe('event queries', () => {
    it('shows an agent the events of its accounts and of their messages only', async () => {
      const mine = await insertAccount(db, box);
      const theirs = await insertAccount(db, box);
      const stamp = now.toISOString();
      const message = await db.kysely
        .insertInto('messages')
        .values({ account_id: mine, direction: 'in', received_at: stamp, created_at: stamp, updated_at: stamp })
        .returning('id')
        .executeTakeFirstOrThrow();
      await appendEvent(db, { scope: 'account', scopeId: mine, type: 'account.connected', message: 'mine' });
      await appendEvent(db, { scope: 'account', scopeId: theirs, type: 'account.connected', message: 'theirs' });
      await appendEvent(db, { scope: 'message', scopeId: message.id, type: 'message.received', message: 'my mail' });
      await appendEvent(db, { scope: 'provider', scopeId: 1, type: 'provider.error', message: 'admins only' });
      const seen = await listEvents(db, { accountIds: [mine] });
      expect(seen.items.map((e) => e.message)).toEqual(['my mail', 'mine']);
      expect((await listEvents(db, { accountIds: [] })).items).toEqual([]);
    });
  });

  describe('retention and counts', () => {
    it('prunes old events in batches, with their deliveries', async () => {
      const hook = await webhook(db, ['retention.test']);
      const old = now;
      await appendEvent(db, { scope: 'system', type: 'retention.test', message: 'old 1' });
      await appendEvent(db, { scope: 'system', type: 'retention.test', message: 'old 2' });
      await appendEvent(db, { scope: 'system', type: 'retention.test', message: 'old 3' });
      now = new Date(now.getTime() + 86_400_000);
      await appendEvent(db, { scope: 'system', type: 'retention.test', message: 'new' });
      const before = (await listEvents(db, { limit: 500 })).items.length;
      const deleted = await pruneEvents(db, new Date(old.getTime() + 1), 2);
      expect(deleted).toBeGreaterThanOrEqual(3);
      expect((await listEvents(db, { limit: 500 })).items.length).toBe(before - deleted);
      expect(await deliveriesOf(db, hook)).toEqual(['retention.test:pending']);
    });

    it(`reads the operational counts on ${engine}`, async () => {
      const counts = await readOperationalCounts(db, new Date(now.getTime() + 5000));
      expect(counts.accountsByStatus.get('disconnected')).toBe(2);
      expect(counts.accountsByStatus.get('connected')).toBe(0);
      expect(counts.outboxByState.get('queued')).toBe(0);
      expect(counts.webhookDeliveriesByState.pending).toBeGreaterThan(0);
      expect(counts.webhookOldestPendingSeconds).toBe(5);
      expect(counts.webhooks.active + counts.webhooks.disabled).toBeGreaterThan(3);
    });
  });
});
