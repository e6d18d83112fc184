/**
 * Several nodes: a submission claimed by a node that then went silent (killed, cut off) is queued
 * again and sent by another node as soon as the cluster sees the node silent — not when the
 * claim's ten-minute lease runs out — and only that node's claims are taken.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../../src/store/index.js';
import { DEAD_NODE_SWEEP_MS } from '../../src/workers/outbox-dispatcher.js';
import { CONTOSO, createAccount, sent, startOutbound, type OutboundHarness } from './helpers.js';

let h: OutboundHarness;
let account: number;
let silent: string[] = [];

beforeAll(async () => {
  h = await startOutbound({ nodeId: 'live-node', deadNodes: async () => silent });
  account = await createAccount(h, { key: 'AND', emailAddress: CONTOSO.andrea.upn });
});
afterAll(async () => h.close());

async function queue(subject: string): Promise<number> {
  const response = await h.api('POST', `/api/email/accounts/${account}/messages`, {
    to: ['dead-node@fabrikam.example'],
    subject,
    text: subject,
  });
  expect(response.statusCode, response.body).toBe(202);
  return response.json<{ id: number }>().id;
}

describe('a claim held by a node that went silent', () => {
  it('is queued again and sent by a live node at its next sweep, once', async () => {
    const { db } = h.pair.postern.runtime;
    const clock = h.pair.emulator.handle.clock;
    await queue('Claimed by the node that dies');
    // The other node claims it (a ten-minute lease) and dies before submitting.
    const taken = await h.outbound.dispatch.claim({
      accountId: account,
      limits: { perMinute: 30, recipientsPerDay: 10_000, concurrency: 3 },
      now: h.outbound.dispatch.now(),
      claimer: 'gone-node#1',
      leaseMs: 600_000,
      max: 1,
    });
    expect(taken.claimed).toHaveLength(1);
    const rowId = taken.claimed[0]?.id;

    // While the cluster still sees it running, its claim is left alone.
    await h.dispatcher.runOnce();
    clock.advance(DEAD_NODE_SWEEP_MS + 1000);
    await h.dispatcher.runOnce();
    const held = await db.kysely
      .selectFrom('outbox')
      .select(['state', 'claimed_by'])
      .where('id', '=', rowId ?? 0)
      .executeTakeFirstOrThrow();
    expect(held).toEqual({ state: 'sending', claimed_by: 'gone-node#1' });

    // Its heartbeat stops: the next sweep queues the message again, and the live node sends it.
    silent = ['gone-node', 'live-node'];
    clock.advance(DEAD_NODE_SWEEP_MS + 1000);
    for (let round = 0; round < 20; round += 1) {
      await h.dispatcher.runOnce();
      const row = await db.kysely
        .selectFrom('outbox')
        .select('state')
        .where('id', '=', rowId ?? 0)
        .executeTakeFirstOrThrow();
      if (row.state === 'sent') break;
      clock.advance(1000);
    }
    const row = await db.kysely
      .selectFrom('outbox')
      .select(['state', 'claimed_by'])
      .where('id', '=', rowId ?? 0)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ state: 'sent', claimed_by: null });
    const submissions = (await sent(h, CONTOSO.andrea.upn)).filter((record) =>
      record.recipients.includes('dead-node@fabrikam.example'),
    );
    expect(submissions).toHaveLength(1);
    const events = await listEvents(db, { types: ['message.resent_after_interruption'] });
    expect(events.items).toHaveLength(1);
  });

  it('never takes the claims of the node itself, even when it is listed as silent', async () => {
    const { db } = h.pair.postern.runtime;
    const clock = h.pair.emulator.handle.clock;
    await queue('Claimed by this node');
    const taken = await h.outbound.dispatch.claim({
      accountId: account,
      limits: { perMinute: 30, recipientsPerDay: 10_000, concurrency: 3 },
      now: h.outbound.dispatch.now(),
      claimer: 'live-node#999',
      leaseMs: 600_000,
      max: 1,
    });
    const rowId = taken.claimed[0]?.id ?? 0;
    silent = ['live-node'];
    clock.advance(DEAD_NODE_SWEEP_MS + 1000);
    await h.dispatcher.runOnce();
    const row = await db.kysely
      .selectFrom('outbox')
      .select(['state', 'claimed_by'])
      .where('id', '=', rowId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ state: 'sending', claimed_by: 'live-node#999' });
  });
});
