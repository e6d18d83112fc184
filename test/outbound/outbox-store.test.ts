/**
 * The outbox and its counters on both engines: claims within the limits (and, on PostgreSQL,
 * within them when many claims race), leases that run out, stale answers that are ignored,
 * retry and cancel transitions, recipient refunds, idempotency keys.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isPosternError } from '../../src/errors/index.js';
import {
  cancelOutbox,
  claimDueMessages,
  completeIdempotencyKey,
  countSendingUsage,
  createContact,
  createEmailAccount,
  createInteraction,
  createList,
  getOutboxRow,
  getSendingHold,
  holdAccountSending,
  insertOutboxRow,
  insertOutgoingMessage,
  listAccountsWithDueMail,
  markOutboxSent,
  recordSubmissionEnd,
  refundRecipients,
  releaseClaims,
  requeueOutbox,
  reserveIdempotencyKey,
  scheduleOutboxRetry,
  type Database,
  type OutboxRecord,
} from '../../src/store/index.js';
import { longestOutboxDelayMs, SENDER_THROTTLE_HOLD_MS, type SendingLimits } from '../../src/domain/outbox-policy.js';
import { forEachEngine } from '../helpers/store.js';

const LIMITS: SendingLimits = { perMinute: 5, recipientsPerDay: 12, concurrency: 3 };

forEachEngine((engine, openFresh) => {
  let db: Database;
  let now = new Date('2026-03-02T10:00:00.000Z');
  let serial = 0;
  let interactionId: number;
  let accountId: number;

  const tick = (ms: number): void => {
    now = new Date(now.getTime() + ms);
  };

  /** Queues a message with `recipients` envelope recipients on its own account when asked. */
  async function enqueue(recipients = 1, account = accountId): Promise<OutboxRecord> {
    serial += 1;
    const to = Array.from({ length: recipients }, (_, i) => `r${serial}-${i}@fabrikam.example`);
    const messageId = await insertOutgoingMessage(
      db,
      {
        accountId: account,
        interactionId,
        messageId: `<m${serial}@contoso.com>`,
        inReplyTo: null,
        references: [],
        from: { name: 'Support', address: 'support@contoso.com' },
        to: to.map((address) => ({ name: '', address })),
        cc: [],
        bcc: [],
        replyTo: [],
        subject: 'Hi',
        text: 'x',
        html: null,
        date: now,
        authorUserId: null,
        isAutoReply: false,
        attachments: [],
      },
      Buffer.from('Subject: Hi\r\n\r\nx\r\n'),
    );
    return insertOutboxRow(db, {
      messageId,
      accountId: account,
      envelope: { from: 'support@contoso.com', to },
      at: now,
    });
  }

  /** Records the end of submissions, as the delivery service does. */
  async function finish(rows: readonly OutboxRecord[]): Promise<void> {
    for (const row of rows) {
      await markOutboxSent(db, row.id, { response: '250 OK', at: now });
      await recordSubmissionEnd(db, accountId, now);
    }
  }

  const claim = (claimer: string, limits = LIMITS, max = 100) =>
    claimDueMessages(db, { accountId, limits, now, claimer, leaseMs: 600_000, max });

  beforeAll(async () => {
    db = await openFresh({ clock: () => now });
    const list = await createList(db, { name: 'Customers' });
    const account = await createEmailAccount(db, {
      name: 'Support',
      key: 'SUP',
      emailAddress: 'support@contoso.com',
      username: 'support@contoso.com',
      defaultListId: list.id,
    });
    accountId = account.id;
    const contact = await createContact(db, { listId: list.id, name: 'Ada', addresses: ['ada@fabrikam.example'] });
    interactionId = (
      await createInteraction(db, { accountId, contactId: contact.id, subject: 'Hi', tokenCheck: 'ABCD', at: now })
    ).id;
  });

  beforeEach(async () => {
    await db.kysely.deleteFrom('outbox').execute();
    await db.kysely.deleteFrom('rate_counters').execute();
    tick(7 * 86_400_000);
  });

  describe('claims', () => {
    it('take at most the concurrent slots, then the rest of the minute (ended and in-flight submissions), then wait for the window', async () => {
      for (let i = 0; i < 8; i += 1) await enqueue();
      const first = await claim('a#1');
      expect(first.claimed.map((row) => row.state)).toEqual(['sending', 'sending', 'sending']);
      expect(first.claimed[0]).toMatchObject({ claimedBy: 'a#1', attempts: 1 });
      expect((await claim('a#2')).waitReason).toBe('concurrency');
      await finish(first.claimed);
      tick(1000);
      const second = await claim('a#3');
      expect(second.claimed).toHaveLength(2);
      expect(await claim('a#3b')).toMatchObject({ claimed: [], waitReason: 'per-minute' });
      await finish(second.claimed);
      const blocked = await claim('a#4');
      expect(blocked).toMatchObject({ claimed: [], waitReason: 'per-minute' });
      expect(blocked.retryAt?.getTime()).toBe(now.getTime() - 1000 + 61_000);
      tick(60_000);
      expect((await claim('a#5')).claimed).toHaveLength(3);
      expect(await countSendingUsage(db, accountId, now)).toMatchObject({ messagesInWindow: 2, recipientsInWindow: 8 });
    });

    it("keep the rolling day's recipients, first in first out, and refund a refusal", async () => {
      await enqueue(10);
      await enqueue(3);
      await enqueue(1);
      const first = await claim('b#1');
      expect(first.claimed.map((row) => row.recipientCount)).toEqual([10]);
      expect(first.waitReason).toBe('recipients-per-day');
      await finish(first.claimed);
      tick(23 * 3_600_000);
      expect((await claim('b#2')).claimed).toHaveLength(0);
      tick(3_600_000 + 180_000);
      const later = await claim('b#3');
      expect(later.claimed.map((row) => row.recipientCount)).toEqual([3, 1]);
      const refused = later.claimed[0];
      if (refused === undefined) throw new Error('nothing claimed');
      await refundRecipients(db, accountId, now, refused.recipientCount);
      expect((await countSendingUsage(db, accountId, now)).recipientsInWindow).toBe(1);
    });

    it('report a message that can never fit the day', async () => {
      const huge = await enqueue(13);
      const result = await claim('c#1');
      expect(result.impossible.map((row) => row.id)).toEqual([huge.id]);
    });

    it.runIf(engine === 'postgres')('hold the limits when many claims race on PostgreSQL', async () => {
      for (let i = 0; i < 20; i += 1) await enqueue();
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => claim(`race#${i}`)));
      const claimed = results.flatMap((result) => result.claimed.map((row) => row.id));
      expect(claimed).toHaveLength(3);
      expect(new Set(claimed).size).toBe(3);
    });
  });

  describe('leases and late answers', () => {
    it('queue again a claim whose lease ran out; a late success still counts, a late failure does not', async () => {
      const row = await enqueue();
      const [claimed] = (await claim('d#1')).claimed;
      if (claimed === undefined) throw new Error('nothing claimed');
      tick(599_000);
      expect(await releaseClaims(db, now, 'expired')).toHaveLength(0);
      tick(2000);
      const released = await releaseClaims(db, now, 'expired');
      expect(released.map((r) => [r.id, r.state])).toEqual([[row.id, 'queued']]);
      expect(
        await scheduleOutboxRetry(db, row.id, 'd#1', {
          at: now,
          now,
          error: { code: 'SMTP_TEMPORARY_FAILURE', message: 'late', remedy: null },
        }),
      ).toBe(false);
      expect(await markOutboxSent(db, row.id, { response: '250 late but true', at: now })).toBe(true);
      expect(await getOutboxRow(db, row.id)).toMatchObject({ state: 'sent', lastResponse: '250 late but true' });
      expect(await markOutboxSent(db, row.id, { response: '250 again', at: now })).toBe(false);
    });

    it("queue again at once the claims of a node gone silent, and only that node's", async () => {
      const first = await enqueue();
      const second = await enqueue();
      const third = await enqueue();
      // Claimers are `<node id>#<n>`; `web_1-ab` would match `web1-ab` under LIKE's `_`.
      await claimDueMessages(db, { accountId, limits: LIMITS, now, claimer: 'web_1-ab#1', leaseMs: 600_000, max: 1 });
      await claimDueMessages(db, { accountId, limits: LIMITS, now, claimer: 'web1-ab#2', leaseMs: 600_000, max: 1 });
      await claimDueMessages(db, { accountId, limits: LIMITS, now, claimer: 'web_1-abc#3', leaseMs: 600_000, max: 1 });
      const released = await releaseClaims(db, now, 'expired', ['web_1-ab']);
      expect(released.map((row) => [row.id, row.state])).toEqual([[first.id, 'queued']]);
      expect((await getOutboxRow(db, second.id))?.state).toBe('sending');
      expect((await getOutboxRow(db, third.id))?.state).toBe('sending');
      // The leases of the others still hold.
      expect(await releaseClaims(db, now, 'expired', [])).toHaveLength(0);
    });

    it('release every claim at start when asked (a single SQLite process)', async () => {
      await enqueue();
      await claim('e#1');
      expect(await releaseClaims(db, now, 'all')).toHaveLength(1);
    });
  });

  describe('retry and cancel', () => {
    it('move between states, and refuse the others naming the state', async () => {
      const row = await enqueue();
      await cancelOutbox(db, row.messageId, now);
      const refused = await cancelOutbox(db, row.messageId, now).catch((e: unknown) => e);
      expect(isPosternError(refused, 'OUTBOX_NOT_CANCELLABLE') && refused.details).toEqual({
        messageId: row.messageId,
        state: 'cancelled',
      });
      expect((await requeueOutbox(db, row.messageId, now)).state).toBe('queued');
      const again = await requeueOutbox(db, row.messageId, now).catch((e: unknown) => e);
      expect(isPosternError(again, 'OUTBOX_NOT_RETRYABLE')).toBe(true);
      const message = await db.kysely
        .selectFrom('messages')
        .select('delivery_state')
        .where('id', '=', row.messageId)
        .executeTakeFirstOrThrow();
      expect(message.delivery_state).toBe('queued');
    });
  });

  describe('sending hold (Exchange throttles the sender)', () => {
    it('keeps a held account off the work list until the hold ends; the first hold of a block decides', async () => {
      await enqueue();
      const due = async (): Promise<number[]> =>
        (await listAccountsWithDueMail(db, now, ['imap_smtp'])).map((a) => a.accountId);
      expect(await due()).toContain(accountId);
      const until = new Date(now.getTime() + 3_600_000);
      const hold = { until, code: 'SMTP_SENDER_THROTTLED', message: 'Send As was denied', remedy: 'Grant Send As' };
      expect(await holdAccountSending(db, accountId, hold, now)).toBe(true);
      expect(await holdAccountSending(db, accountId, { ...hold, until: new Date(until.getTime() + 1000) }, now)).toBe(
        false,
      );
      expect(await getSendingHold(db, accountId, now)).toEqual(hold);
      expect(await due()).not.toContain(accountId);
      tick(3_599_999);
      expect(await due()).not.toContain(accountId);
      tick(1);
      expect(await due()).toContain(accountId);
      expect(await getSendingHold(db, accountId, now)).toBeNull();
      expect(await holdAccountSending(db, accountId, { ...hold, until: new Date(now.getTime() + 60_000) }, now)).toBe(
        true,
      );
      expect(await due()).not.toContain(accountId);
      tick(60_000);
    });
  });

  describe('a clock set back by hours (issue 16, point 5)', () => {
    const HOURS_5 = 5 * 3_600_000;

    it('claims at once a retry scheduled before the clock went back, and waits for one scheduled after', async () => {
      await enqueue();
      const [claimed] = (await claim('j#2')).claimed;
      if (claimed === undefined) throw new Error('nothing claimed');
      // The longest retry the policy assigns: an hour, plus jitter.
      const retryAt = new Date(now.getTime() + longestOutboxDelayMs());
      const error = { code: 'SMTP_TEMPORARY', message: 'try later', remedy: null };
      expect(await scheduleOutboxRetry(db, claimed.id, 'j#2', { at: retryAt, now, error })).toBe(true);
      expect((await claim('j#3')).claimed).toEqual([]);
      expect((await listAccountsWithDueMail(db, now, ['imap_smtp'])).map((a) => a.accountId)).not.toContain(accountId);
      // Set back by five hours: the retry now looks six hours away, more than any retry is ever
      // scheduled — it was scheduled before the jump, and is due.
      tick(-HOURS_5);
      expect((await listAccountsWithDueMail(db, now, ['imap_smtp'])).map((a) => a.accountId)).toContain(accountId);
      const again = await claim('j#4');
      expect(again.claimed.map((r) => r.id)).toEqual([claimed.id]);
      // A retry scheduled after the jump waits for its time as before.
      const later = new Date(now.getTime() + longestOutboxDelayMs());
      expect(await scheduleOutboxRetry(db, claimed.id, 'j#4', { at: later, now, error })).toBe(true);
      expect((await claim('j#5')).claimed).toEqual([]);
      tick(longestOutboxDelayMs());
      expect((await claim('j#6')).claimed.map((r) => r.id)).toEqual([claimed.id]);
      tick(HOURS_5);
    });

    it('ends a sending hold set before the clock went back', async () => {
      await enqueue();
      const hold = {
        until: new Date(now.getTime() + SENDER_THROTTLE_HOLD_MS),
        code: 'SMTP_SENDER_THROTTLED',
        message: 'Sender throttled',
        remedy: null,
      };
      expect(await holdAccountSending(db, accountId, hold, now)).toBe(true);
      expect(await getSendingHold(db, accountId, now)).toEqual(hold);
      tick(-HOURS_5);
      expect(await getSendingHold(db, accountId, now)).toBeNull();
      expect((await listAccountsWithDueMail(db, now, ['imap_smtp'])).map((a) => a.accountId)).toContain(accountId);
      // A new hold may be set; it holds as long as it says.
      const next = { ...hold, until: new Date(now.getTime() + SENDER_THROTTLE_HOLD_MS) };
      expect(await holdAccountSending(db, accountId, next, now)).toBe(true);
      expect((await listAccountsWithDueMail(db, now, ['imap_smtp'])).map((a) => a.accountId)).not.toContain(accountId);
      tick(SENDER_THROTTLE_HOLD_MS + HOURS_5);
    });
  });

  describe('idempotency keys', () => {
    it('reserve, replay the stored answer, and refuse another request under the same key', async () => {
      const request = {
        owner: 'user:1',
        key: `k-${engine}`,
        requestHash: 'h1',
        expiresAt: new Date(now.getTime() + 86_400_000),
      };
      const first = await reserveIdempotencyKey(db, request);
      if (first.kind !== 'new') throw new Error('expected a new key');
      await completeIdempotencyKey(db, first.id, 202, { id: 7 });
      expect(await reserveIdempotencyKey(db, request)).toEqual({ kind: 'replay', status: 202, response: { id: 7 } });
      expect(await reserveIdempotencyKey(db, { ...request, requestHash: 'h2' })).toEqual({ kind: 'mismatch' });
      tick(86_400_000);
      expect(
        (await reserveIdempotencyKey(db, { ...request, requestHash: 'h2', expiresAt: new Date(now.getTime() + 1000) }))
          .kind,
      ).toBe('new');
    });
  });
});
