/**
 * Exchange Online's sending limits, kept by the dispatcher: 100 messages queued at once on one
 * account leave at 30 a minute — at least three minutes from first to last — with never more than
 * three submissions at once, and none fails for it. The clock shared by Postern and the emulator
 * is moved between dispatcher rounds, so three minutes pass in a couple of seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxDispatcher } from '../../src/workers/outbox-dispatcher.js';
import { CONTOSO, createAccount, sent, startOutbound, type OutboundHarness } from './helpers.js';

let h: OutboundHarness;
let account: number;

beforeAll(async () => {
  h = await startOutbound();
  account = await createAccount(h, { key: 'AND', emailAddress: CONTOSO.andrea.upn });
});
afterAll(async () => h.close());

describe('100 messages queued at once on one account', () => {
  it('take at least 3 minutes to leave (30 a minute, 3 at once), and none fails for it', async () => {
    const { db } = h.pair.postern.runtime;
    const clock = h.pair.emulator.handle.clock;
    const recipients = Array.from({ length: 100 }, (_, i) => `burst${i}@fabrikam.example`);
    for (const to of recipients) {
      const response = await h.api('POST', `/api/email/accounts/${account}/messages`, {
        to: [to],
        subject: 'Burst',
        text: to,
      });
      expect(response.statusCode).toBe(202);
    }
    const queuedAt = clock.nowMs();
    // Two dispatchers on the same database, as two nodes: the limits are counted there, not in memory.
    const other = new OutboxDispatcher(h.outbound.dispatch, h.outbound.delivery, h.pair.postern.runtime.log.logger, {
      nodeId: 'second-node',
    });
    let rounds = 0;
    let maxSending = 0;
    while (
      (await db.kysely
        .selectFrom('outbox')
        .select('id')
        .where('state', 'in', ['queued', 'sending'])
        .executeTakeFirst()) !== undefined
    ) {
      const [a, b] = await Promise.all([h.dispatcher.runOnce(), other.runOnce()]);
      maxSending = Math.max(maxSending, a.claimed + b.claimed);
      clock.advance(2000);
      rounds += 1;
      expect(rounds).toBeLessThan(400);
    }

    const accepted = (await sent(h, CONTOSO.andrea.upn))
      .filter((record) => record.recipients.some((r) => recipients.includes(r)))
      .map((record) => Date.parse(record.acceptedAt))
      .sort((x, y) => x - y);
    expect(accepted).toHaveLength(100);
    const first = accepted[0] ?? 0;
    const last = accepted.at(-1) ?? 0;
    expect(last - first).toBeGreaterThanOrEqual(180_000);
    expect(last - queuedAt).toBeGreaterThanOrEqual(180_000);
    // No sliding minute holds more than 30 submissions, and so no clock minute either.
    for (let i = 0; i + 30 < accepted.length; i += 1)
      expect((accepted[i + 30] ?? 0) - (accepted[i] ?? 0)).toBeGreaterThanOrEqual(60_000);
    const perMinute = new Map<number, number>();
    for (const at of accepted)
      perMinute.set(Math.floor((at - first) / 60_000), (perMinute.get(Math.floor((at - first) / 60_000)) ?? 0) + 1);
    expect(Math.max(...perMinute.values())).toBeLessThanOrEqual(30);
    expect(maxSending).toBeLessThanOrEqual(3);

    const states = await db.kysely
      .selectFrom('outbox')
      .select(['state', 'attempts'])
      .where('account_id', '=', account)
      .execute();
    expect(states.every((row) => row.state === 'sent' && row.attempts === 1)).toBe(true);
  });
});
