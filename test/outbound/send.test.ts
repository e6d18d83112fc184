/**
 * Replies and new messages through the API, sent by the dispatcher to the emulator's submission
 * server over STARTTLS with XOAUTH2: what reaches the outside world, how it threads, what is
 * stored, and what the API refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { getMessageRaw, listInteractionMessages } from '../../src/store/index.js';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import {
  CONTOSO,
  createAccount,
  dispatchUntilIdle,
  receive,
  sent,
  sink,
  startOutbound,
  type OutboundHarness,
} from './helpers.js';

let h: OutboundHarness;
let andreaAccount: number;
const CUSTOMER = 'ada.lovelace@fabrikam.example';

beforeAll(async () => {
  h = await startOutbound();
  andreaAccount = await createAccount(h, { key: 'AND', name: 'Andrea at Contoso', emailAddress: CONTOSO.andrea.upn });
});
afterAll(async () => h.close());

describe('a reply to a customer', () => {
  it("reaches the outside world threaded, from the account address, and the customer's answer threads back", async () => {
    const first = await receive(h, andreaAccount, {
      from: `Ada Lovelace <${CUSTOMER}>`,
      to: CONTOSO.andrea.upn,
      subject: 'Order 42 is late',
      text: 'Where is it?',
      messageId: '<order42@fabrikam.example>',
    });
    const queued = await h.api('POST', `/api/interactions/${first.interactionId}/reply`, {
      text: 'It left the warehouse today.',
      html: '<p>It left the warehouse <b>today</b>.<script>x()</script></p>',
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const answer = queued.json<{ id: number; interactionId: number; messageId: string; state: string }>();
    expect(answer).toMatchObject({ interactionId: first.interactionId, state: 'queued' });
    expect(answer.messageId).toMatch(/^<postern\.[a-z0-9]+\.[0-9a-f]{24}@contoso\.com>$/);

    await dispatchUntilIdle(h);
    const [out] = await sink(h, CUSTOMER);
    expect(out).toBeDefined();
    if (out?.raw === undefined) throw new Error('no raw message in the sink');
    const parsed = await parseMessage(Buffer.from(out.raw, 'utf8'));
    expect(parsed.from).toEqual([{ name: 'Andrea at Contoso', address: CONTOSO.andrea.upn }]);
    expect(out.envelopeFrom).toBe(CONTOSO.andrea.upn);
    expect(parsed.messageId).toBe(answer.messageId);
    expect(parsed.inReplyTo).toEqual(['<order42@fabrikam.example>']);
    expect(parsed.references).toEqual(['<order42@fabrikam.example>']);
    expect(parsed.subject).toMatch(/^Re: Order 42 is late \[#P\d+-[0-9A-Z]{4}\]$/);
    expect(parsed.headers.get('thread-topic')).toEqual(['Order 42 is late']);
    expect(parsed.headers.get('thread-index')?.[0]).toMatch(/^[A-Za-z0-9+/]{28,}=*$/);
    expect(parsed.html).not.toContain('script');

    const view = await h.api('GET', `/api/messages/${answer.id}`);
    expect(view.json()).toMatchObject({
      state: 'sent',
      direction: 'out',
      delivery: { attempts: 1, error: null, serverResponse: expect.stringMatching(/^250 2\.0\.0 OK/) },
    });

    // The customer answers the reply: In-Reply-To names our Message-ID.
    const next = await receive(h, andreaAccount, {
      from: CUSTOMER,
      to: CONTOSO.andrea.upn,
      subject: `RE: ${parsed.subject}`,
      text: 'Thanks!',
      inReplyTo: answer.messageId,
      references: `<order42@fabrikam.example> ${answer.messageId}`,
    });
    expect(next).toMatchObject({ interactionId: first.interactionId, threadedBy: 'in-reply-to' });
    // A client that drops the headers still threads by the subject token.
    const tokenOnly = await receive(h, andreaAccount, {
      from: CUSTOMER,
      to: CONTOSO.andrea.upn,
      subject: `Fwd: ${parsed.subject}`,
      text: 'Again',
    });
    expect(tokenOnly).toMatchObject({ interactionId: first.interactionId, threadedBy: 'token' });
  });

  it('stores the exact MIME that was submitted, and appends no second Sent Items copy', async () => {
    const conversation = await receive(h, andreaAccount, {
      from: CUSTOMER,
      to: CONTOSO.andrea.upn,
      subject: 'Invoice',
      text: 'Please send the invoice.',
    });
    const pdf = Buffer.from('%PDF-1.7 invoice').toString('base64');
    const queued = await h.api('POST', `/api/interactions/${conversation.interactionId}/reply`, {
      text: 'Here it is, Zoë.',
      quote: true,
      attachments: [{ filename: 'Rechnung für Ada.pdf', contentBase64: pdf }],
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const { id, messageId } = queued.json<{ id: number; messageId: string }>();
    await dispatchUntilIdle(h);
    const submitted = (await sent(h, CONTOSO.andrea.upn)).find((record) => record.messageId === messageId);
    const stored = await getMessageRaw(h.pair.postern.runtime.db, id);
    expect(submitted?.raw).toBe(stored.toString('utf8'));
    const parsed = await parseMessage(stored);
    expect(parsed.text).toContain('Here it is, Zoë.');
    expect(parsed.text).toContain('> Please send the invoice.');
    expect(parsed.attachments.map((a) => a.filename)).toEqual(['Rechnung für Ada.pdf']);

    const sentItems = await h.control('GET', `/exchange/mailboxes/${CONTOSO.andrea.upn}/folders/Sent Items/messages`);
    const copies = z
      .object({ messages: z.array(z.object({ messageId: z.string().nullable() })) })
      .parse(sentItems)
      .messages.filter((m) => m.messageId === messageId);
    expect(copies).toHaveLength(1);

    const thread = await listInteractionMessages(h.pair.postern.runtime.db, conversation.interactionId);
    expect(thread.map((m) => [m.direction, m.deliveryState])).toEqual([
      ['in', null],
      ['out', 'sent'],
    ]);
  });

  it('derives the text part of an HTML-only reply: the sink receives multipart/alternative with both', async () => {
    const conversation = await receive(h, andreaAccount, {
      from: CUSTOMER,
      to: CONTOSO.andrea.upn,
      subject: 'Formatted answer',
      text: 'Can you list the steps?',
    });
    const queued = await h.api('POST', `/api/interactions/${conversation.interactionId}/reply`, {
      html: '<div>Hello <b>Ada</b>,</div><ul><li>open the box</li><li>read <a href="https://contoso.example/guide">the guide</a></li></ul><blockquote>as promised</blockquote>',
      quote: true,
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const { messageId } = queued.json<{ messageId: string }>();
    await dispatchUntilIdle(h);
    const out = (await sink(h, CUSTOMER)).find((record) => record.raw?.includes(messageId) === true);
    if (out?.raw === undefined) throw new Error('no raw message in the sink');
    expect(out.raw).toMatch(/^Content-Type: multipart\/alternative;/im);
    const parsed = await parseMessage(Buffer.from(out.raw, 'utf8'));
    expect(parsed.html).toContain('<b>Ada</b>');
    expect(parsed.html).toContain('<ul>');
    expect(parsed.text).toContain('Hello Ada,\n\n- open the box\n- read the guide <https://contoso.example/guide>');
    expect(parsed.text).toContain('> as promised');
    // The quoted customer's message is in the text part too, from its own text.
    expect(parsed.text).toContain('> Can you list the steps?');
  });

  it('replies to all: the customer in To, the other recipients in Cc, never the account itself', async () => {
    const conversation = await receive(h, andreaAccount, {
      from: CUSTOMER,
      to: [CONTOSO.andrea.upn, 'colleague@fabrikam.example'],
      cc: ['boss@fabrikam.example', 'ANDREA@contoso.com'],
      subject: 'Meeting',
    });
    const queued = await h.api('POST', `/api/interactions/${conversation.interactionId}/reply`, {
      text: 'Fine for us.',
      replyAll: true,
    });
    const { id } = queued.json<{ id: number }>();
    const view = (await h.api('GET', `/api/messages/${id}`)).json<{
      to: Array<{ address: string }>;
      cc: Array<{ address: string }>;
    }>();
    expect(view.to.map((a) => a.address)).toEqual([CUSTOMER]);
    expect(view.cc.map((a) => a.address)).toEqual(['colleague@fabrikam.example', 'boss@fabrikam.example']);
    await dispatchUntilIdle(h);
  });
});

describe('a new message', () => {
  it('opens a conversation with the recipient, carries its token, and is queued once per Idempotency-Key', async () => {
    const body = {
      to: [{ name: 'Zoë Müller', address: 'zoe@bücher.example' }],
      bcc: ['audit@fabrikam.example'],
      subject: 'Your subscription',
      text: 'Welcome!',
    };
    const first = await h.api('POST', `/api/email/accounts/${andreaAccount}/messages`, body, {
      'idempotency-key': 'welcome-zoe-1',
    });
    expect(first.statusCode, first.body).toBe(202);
    const again = await h.api('POST', `/api/email/accounts/${andreaAccount}/messages`, body, {
      'idempotency-key': 'welcome-zoe-1',
    });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const other = await h.api(
      'POST',
      `/api/email/accounts/${andreaAccount}/messages`,
      { ...body, text: 'Different' },
      { 'idempotency-key': 'welcome-zoe-1' },
    );
    expect(other.statusCode).toBe(422);
    expect(other.json().error.code).toBe('SEND_IDEMPOTENCY_KEY_REUSED');

    await dispatchUntilIdle(h);
    // The envelope and header carry the A-label; the emulator's SMTP server shows the Unicode domain.
    const out = await sink(h, 'zoe@bücher.example');
    expect(out).toHaveLength(1);
    expect(out[0]?.raw).toContain('<zoe@xn--bcher-kva.example>');
    expect(out[0]?.subject).toMatch(/^Your subscription \[#P\d+-[0-9A-Z]{4}\]$/);
    const audit = await sink(h, 'audit@fabrikam.example');
    expect(audit).toHaveLength(1);
    expect(audit[0]?.raw).not.toMatch(/^Bcc:/im);
  });

  it('refuses bad input and names each field', async () => {
    const response = await h.api('POST', `/api/email/accounts/${andreaAccount}/messages`, {
      to: ['not an address', 'ok@fabrikam.example'],
      cc: ['josé@example.com'],
      subject: 'x'.repeat(300),
      text: 'Hi',
      attachments: [
        { filename: '../../etc/passwd', contentBase64: 'aGk=' },
        { filename: 'a.txt', contentBase64: '!!!' },
      ],
    });
    expect(response.statusCode).toBe(400);
    const fields = response
      .json<{ error: { code: string; details: { fields: Array<{ field: string }> } } }>()
      .error.details.fields.map((f) => f.field);
    expect(fields).toEqual(['to[0]', 'cc[0]', 'attachments[0].filename', 'attachments[1].contentBase64', 'subject']);
  });

  it('refuses more recipients than the account allows per message, and a message larger than its size limit', async () => {
    const limited = await h.api('PATCH', `/api/email/accounts/${andreaAccount}/sending`, {
      maxRecipientsPerMessage: 2,
      maxMessageBytes: 64 * 1024,
    });
    expect(limited.statusCode, limited.body).toBe(200);
    const many = await h.api('POST', `/api/email/accounts/${andreaAccount}/messages`, {
      to: ['a@fabrikam.example', 'b@fabrikam.example'],
      cc: ['c@fabrikam.example'],
      subject: 'Hi',
      text: 'x',
    });
    expect(many.json().error.details.fields).toEqual([
      { field: 'to', problem: 'the message has 3 recipients; the account allows at most 2 per message' },
    ]);
    const big = await h.api('POST', `/api/email/accounts/${andreaAccount}/messages`, {
      to: ['a@fabrikam.example'],
      subject: 'Hi',
      attachments: [{ filename: 'big.bin', contentBase64: Buffer.alloc(60 * 1024).toString('base64') }],
    });
    expect(big.json().error.details.fields[0].field).toBe('attachments');
    await h.api('PATCH', `/api/email/accounts/${andreaAccount}/sending`, {
      maxRecipientsPerMessage: 500,
      maxMessageBytes: 35 * 1024 * 1024,
    });
  });

  it('lets an agent send only from the accounts assigned to it', async () => {
    const agent = await h.pair.postern.bearer('agent', 'agent-outbound');
    const mine = await createAccount(h, {
      key: 'AGT',
      emailAddress: 'developers@contoso.com',
      modernAuthEmail: CONTOSO.andrea.upn,
      agentIds: [agent.userId],
    });
    const headers = { authorization: agent.authorization };
    const ok = await h.api(
      'POST',
      `/api/email/accounts/${mine}/messages`,
      { to: [CUSTOMER], subject: 'Hello', text: 'From the team' },
      headers,
    );
    expect(ok.statusCode, ok.body).toBe(202);
    const notMine = await h.api(
      'POST',
      `/api/email/accounts/${andreaAccount}/messages`,
      { to: [CUSTOMER], subject: 'Hello', text: 'x' },
      headers,
    );
    expect(notMine.statusCode).toBe(404);
    expect(
      (await h.api('PATCH', `/api/email/accounts/${mine}/sending`, { sendPerMinute: 5 }, headers)).statusCode,
    ).toBe(403);
    expect((await h.api('GET', `/api/email/accounts/${mine}/sending`, undefined, headers)).json()).toMatchObject({
      sendPerMinute: 30,
      recipientsPerDay: 10_000,
      concurrency: 3,
      outbox: { queued: 1 },
    });
    await dispatchUntilIdle(h);
  });
});
