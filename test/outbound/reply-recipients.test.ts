/**
 * The composer's recipients, end to end through the API and the emulator's submission server:
 * the defaults of reply and reply all (the account's own addresses left out), a reply all sent
 * with one Cc removed and a Bcc added carries exactly those (the removed Cc neither in the
 * headers nor delivered; the Bcc delivered but in no header), an address is checked as a send
 * request checks it, and an agent of another account finds none of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import {
  CONTOSO,
  createAccount,
  dispatchUntilIdle,
  receive,
  sink,
  startOutbound,
  type OutboundHarness,
} from './helpers.js';

let h: OutboundHarness;
let accountId: number;
let interactionId: number;
const CUSTOMER = 'ada.lovelace@fabrikam.example';
const COLLEAGUE = 'colleague@fabrikam.example';
const BOSS = 'boss@fabrikam.example';
const AUDIT = 'audit@fabrikam.example';

beforeAll(async () => {
  h = await startOutbound();
  accountId = await createAccount(h, { key: 'RCP', name: 'Andrea at Contoso', emailAddress: CONTOSO.andrea.upn });
  interactionId = (
    await receive(h, accountId, {
      from: `Ada Lovelace <${CUSTOMER}>`,
      to: `${CONTOSO.andrea.upn}, Colleague <${COLLEAGUE}>`,
      cc: `Boss <${BOSS}>, ANDREA@contoso.com`,
      subject: 'Quarterly review',
      text: 'Can we meet?',
      messageId: '<review@fabrikam.example>',
    })
  ).interactionId;
});
afterAll(async () => h.close());

describe('reply recipients', () => {
  it('are the customer for a reply, and everyone but the account for reply all', async () => {
    const reply = await h.api('GET', `/api/interactions/${interactionId}/reply-recipients`);
    expect(reply.statusCode, reply.body).toBe(200);
    expect(reply.json()).toEqual({ to: [{ name: 'Ada Lovelace', address: CUSTOMER }], cc: [] });
    const all = await h.api('GET', `/api/interactions/${interactionId}/reply-recipients?replyAll=true`);
    expect(all.json()).toEqual({
      to: [{ name: 'Ada Lovelace', address: CUSTOMER }],
      cc: [
        { name: 'Colleague', address: COLLEAGUE },
        { name: 'Boss', address: BOSS },
      ],
    });
  });

  it('go out exactly as sent: a removed Cc is not in the headers nor delivered, a Bcc is delivered but not shown', async () => {
    const queued = await h.api('POST', `/api/interactions/${interactionId}/reply`, {
      text: 'Tuesday at ten.',
      replyAll: true,
      to: [{ name: 'Ada Lovelace', address: CUSTOMER }],
      cc: [{ name: 'Colleague', address: COLLEAGUE }],
      bcc: [AUDIT],
    });
    expect(queued.statusCode, queued.body).toBe(202);
    await dispatchUntilIdle(h);

    const [out] = await sink(h, CUSTOMER);
    if (out?.raw === undefined) throw new Error('the customer received nothing');
    expect([...out.recipients].sort()).toEqual([CUSTOMER, AUDIT, COLLEAGUE]);
    const parsed = await parseMessage(Buffer.from(out.raw, 'utf8'));
    expect(parsed.to.map((a) => a.address)).toEqual([CUSTOMER]);
    expect(parsed.cc.map((a) => a.address)).toEqual([COLLEAGUE]);
    expect(parsed.headers.get('bcc')).toBeUndefined();
    expect(out.raw).not.toContain(AUDIT);
    expect(out.raw).not.toContain(BOSS);
    expect(await sink(h, BOSS)).toEqual([]);
    expect(await sink(h, AUDIT)).toHaveLength(1);

    const stored = (await h.api('GET', `/api/messages/${queued.json<{ id: number }>().id}`)).json<{
      to: Array<{ address: string }>;
      cc: Array<{ address: string }>;
    }>();
    expect(stored.to.map((a) => a.address)).toEqual([CUSTOMER]);
    expect(stored.cc.map((a) => a.address)).toEqual([COLLEAGUE]);
  });

  it('refuses a reply whose added address carries a line break, naming the field', async () => {
    const refused = await h.api('POST', `/api/interactions/${interactionId}/reply`, {
      text: 'x',
      to: [CUSTOMER],
      cc: [COLLEAGUE, `x@fabrikam.example\r\nBcc: spy@evil.example`],
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.details.fields[0].field).toBe('cc[1]');
  });
});

describe('checking an address', () => {
  it('accepts an address as a send request does, with its Unicode domain', async () => {
    const ok = await h.api('POST', '/api/outbound/check-address', { address: ' zoe@bücher.example ' });
    expect(ok.json()).toEqual({ ok: true, address: { name: '', address: 'zoe@bücher.example' } });
  });

  it.each([
    ['a line break', 'x@fabrikam.example\r\nBcc: spy@evil.example'],
    ['a NUL', 'x\u0000@fabrikam.example'],
    ['no domain', 'colleague@'],
  ])('refuses %s with the reason', async (_what, address) => {
    const refused = await h.api('POST', '/api/outbound/check-address', { address });
    expect(refused.statusCode).toBe(200);
    expect(refused.json()).toMatchObject({ ok: false, problem: expect.stringMatching(/./) });
  });
});

describe('another account', () => {
  it("answers 404 to an agent who is not on the conversation's account", async () => {
    const outsider = await h.pair.postern.bearer('agent');
    const hidden = await h.api('GET', `/api/interactions/${interactionId}/reply-recipients`, undefined, {
      authorization: outsider.authorization,
    });
    expect(hidden.statusCode).toBe(404);
  });
});
