/**
 * Exchange Online's continuous-error throttling of SMTP AUTH submissions (`550 5.2.252 Sender
 * throttled due to continuous send as denied errors.`), against the emulator's fault: Postern
 * holds the whole account's sending until the hold ends — no message fails, none is retried into
 * the block — tells the account's timeline and sending status why, until when and what to do,
 * then sends everything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SENDER_THROTTLE_HOLD_MS } from '../../src/domain/outbox-policy.js';
import { listEvents } from '../../src/store/index.js';
import { CONTOSO, createAccount, dispatchUntilIdle, sent, startOutbound, type OutboundHarness } from './helpers.js';

let h: OutboundHarness;
let shared: number;
const SHARED = 'developers@contoso.com';

const messageView = z.object({
  state: z.string(),
  delivery: z.object({
    attempts: z.number(),
    error: z.object({ code: z.string(), message: z.string(), remedy: z.string().nullable() }).nullable(),
  }),
});
const faults = z.object({
  senderThrottles: z.array(z.object({ mailbox: z.string(), kind: z.string(), until: z.string(), refused: z.number() })),
});
const sendingView = z.object({
  hold: z
    .object({ until: z.string(), code: z.string(), message: z.string(), remedy: z.string().nullable() })
    .nullable(),
  outbox: z.object({ queued: z.number(), sent: z.number(), failed: z.number() }),
});

async function newMessage(accountId: number, to: string): Promise<number> {
  const response = await h.api('POST', `/api/email/accounts/${accountId}/messages`, {
    to: [to],
    subject: 'About your ticket',
    text: 'Hello',
  });
  expect(response.statusCode, response.body).toBe(202);
  return response.json<{ id: number }>().id;
}

async function view(id: number): Promise<z.infer<typeof messageView>> {
  return messageView.parse((await h.api('GET', `/api/messages/${id}`)).json());
}

async function sending(accountId: number): Promise<z.infer<typeof sendingView>> {
  return sendingView.parse((await h.api('GET', `/api/email/accounts/${accountId}/sending`)).json());
}

beforeAll(async () => {
  h = await startOutbound();
  shared = await createAccount(h, {
    key: 'DEV',
    name: 'Developers',
    emailAddress: SHARED,
    modernAuthEmail: CONTOSO.andrea.upn,
  });
});
afterAll(async () => h.close());

describe('550 5.2.252 Sender throttled due to continuous send as denied errors', () => {
  it("holds the account's sending with one submission into the block, says why, until when and what to do, and sends everything after the hold", async () => {
    // One submission at a time, so that the order is certain: the first refusal holds the rest.
    await h.api('PATCH', `/api/email/accounts/${shared}/sending`, { concurrency: 1 });
    await h.control('POST', '/exchange/faults/smtp/sender-throttle', {
      mailbox: CONTOSO.andrea.upn,
      kind: 'send-as',
      seconds: 1800,
    });
    const first = await newMessage(shared, 'throttled-1@fabrikam.example');
    const second = await newMessage(shared, 'throttled-2@fabrikam.example');
    const start = h.pair.postern.runtime.db.now().getTime();

    // Twenty minutes of dispatching: nothing leaves, and one submission met the block.
    for (let round = 0; round < 20; round += 1) {
      await h.dispatcher.runOnce();
      h.pair.emulator.handle.clock.advance(60_000);
    }
    expect(faults.parse(await h.control('GET', '/exchange/faults')).senderThrottles).toMatchObject([
      { mailbox: CONTOSO.andrea.upn, kind: 'send-as', refused: 1 },
    ]);
    const held = await view(first);
    expect(held).toMatchObject({
      state: 'queued',
      delivery: { attempts: 1, error: { code: 'SMTP_SENDER_THROTTLED' } },
    });
    expect(held.delivery.error?.message).toContain('Send As was denied');
    expect(await view(second)).toMatchObject({ state: 'queued', delivery: { attempts: 0 } });
    expect((await sent(h, CONTOSO.andrea.upn)).filter((r) => r.envelopeFrom === SHARED)).toHaveLength(0);

    const timeline = await listEvents(h.pair.postern.runtime.db, {
      scope: 'account',
      scopeId: shared,
      types: ['account.sending_held', 'account.send_failed'],
    });
    expect(timeline.items).toHaveLength(1);
    const event = timeline.items[0];
    expect(event?.type).toBe('account.sending_held');
    // An hour from the refusal, which came in the first round (the clock also runs on its own).
    const holdEnd = new Date(z.object({ heldUntil: z.string() }).parse(event?.data).heldUntil);
    expect(holdEnd.getTime() - start).toBeGreaterThanOrEqual(SENDER_THROTTLE_HOLD_MS);
    expect(holdEnd.getTime() - start).toBeLessThan(SENDER_THROTTLE_HOLD_MS + 60_000);
    expect(event?.message).toContain(`Sending is held until ${holdEnd.toISOString()}`);
    expect(event?.message).toContain('Send As was denied');
    expect(event?.data).toMatchObject({
      code: 'SMTP_SENDER_THROTTLED',
      heldUntil: holdEnd.toISOString(),
      response: '550 5.2.252 Sender throttled due to continuous send as denied errors.',
      remedy: expect.stringContaining(
        `Add-RecipientPermission ${SHARED} -Trustee ${CONTOSO.andrea.upn} -AccessRights SendAs`,
      ),
    });
    const status = await sending(shared);
    expect(status.hold).toMatchObject({ until: holdEnd.toISOString(), code: 'SMTP_SENDER_THROTTLED' });
    expect(status.hold?.message).toContain('Send As was denied');
    expect(status.hold?.remedy).toContain(`Grant ${CONTOSO.andrea.upn} Send As on ${SHARED}`);
    expect(status.outbox).toMatchObject({ queued: 2, failed: 0 });

    // Past the hold (and the emulator's block): both leave, without another refusal.
    const now = h.pair.postern.runtime.db.now().getTime();
    h.pair.emulator.handle.clock.advance(holdEnd.getTime() - now + 1000);
    await dispatchUntilIdle(h);
    expect(await view(first)).toMatchObject({ state: 'sent', delivery: { attempts: 2 } });
    expect(await view(second)).toMatchObject({ state: 'sent', delivery: { attempts: 1 } });
    expect(
      (await sent(h, CONTOSO.andrea.upn))
        .filter((r) => r.envelopeFrom === SHARED)
        .flatMap((r) => r.recipients)
        .sort(),
    ).toEqual(['throttled-1@fabrikam.example', 'throttled-2@fabrikam.example']);
    expect(faults.parse(await h.control('GET', '/exchange/faults')).senderThrottles[0]?.refused).toBe(1);
    expect((await sending(shared)).hold).toBeNull();
  });
});

describe('Exchange throttling by itself after Send As denials in a row', () => {
  it('fails the denied messages, then holds the account at the throttle instead of failing or retrying the rest', async () => {
    await h.control('DELETE', '/exchange/faults');
    await h.control('PUT', '/exchange/faults/smtp/sender-throttle/send-as-denials', { after: 2, seconds: 1800 });
    await h.control('DELETE', `/mailboxes/${SHARED}/delegates/${CONTOSO.andrea.upn}?rights=SendAs`);
    const ids: number[] = [];
    for (let i = 0; i < 4; i += 1) ids.push(await newMessage(shared, `denied-${i}@fabrikam.example`));
    for (let round = 0; round < 10; round += 1) {
      await h.dispatcher.runOnce();
      h.pair.emulator.handle.clock.advance(60_000);
    }
    const views = await Promise.all(ids.map(view));
    expect(views.map((v) => [v.state, v.delivery.error?.code ?? null])).toEqual([
      ['failed', 'SMTP_SEND_AS_DENIED'],
      ['failed', 'SMTP_SEND_AS_DENIED'],
      ['queued', 'SMTP_SENDER_THROTTLED'],
      ['queued', null],
    ]);
    expect(faults.parse(await h.control('GET', '/exchange/faults')).senderThrottles).toMatchObject([
      { mailbox: CONTOSO.andrea.upn, kind: 'send-as', refused: 1 },
    ]);
    expect((await sending(shared)).hold?.remedy).toContain(`Grant ${CONTOSO.andrea.upn} Send As on ${SHARED}`);
  });
});
