/**
 * Non-delivery reports as Exchange Online sends them — accepted at submission, then a report in the
 * sender's Inbox — and what Postern makes of them: the report is read from the mailbox like any
 * message, and the outgoing message it is about learns, per recipient, what failed and why, with
 * advice for the agent and a `message.bounced` event on its timeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import { ingestMessage } from '../../src/services/inbound/ingest-message.js';
import { listEvents, requireEmailAccount } from '../../src/store/index.js';
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
let account: number;

beforeAll(async () => {
  h = await startOutbound();
  account = await createAccount(h, { key: 'NDR', name: 'Andrea at Contoso', emailAddress: CONTOSO.andrea.upn });
});
afterAll(async () => h?.close());

const inbox = z.object({
  messages: z.array(z.object({ uid: z.number(), raw: z.string() })),
});
const folders = z.object({ folders: z.array(z.object({ name: z.string(), uidValidity: z.number() })) });

/** Reads the newest report about `messageId` from the account's Inbox and ingests it as the sync would. */
async function ingestReport(messageId: string): Promise<number> {
  const mailbox = CONTOSO.andrea.upn;
  const listing = inbox.parse(
    await h.control('GET', `/exchange/mailboxes/${encodeURIComponent(mailbox)}/folders/Inbox/messages?raw=true`),
  );
  const report = listing.messages.findLast(
    (m) => m.raw.includes('report-type=delivery-status') && m.raw.includes(`In-Reply-To: ${messageId}`),
  );
  if (report === undefined) throw new Error(`no report about ${messageId} in the Inbox`);
  const uidValidity =
    folders
      .parse(await h.control('GET', `/exchange/mailboxes/${encodeURIComponent(mailbox)}/folders`))
      .folders.find((f) => f.name === 'Inbox')?.uidValidity ?? 1;
  const result = await ingestMessage(
    h.pair.postern.runtime.db,
    await requireEmailAccount(h.pair.postern.runtime.db, account),
    { folder: 'INBOX', uidvalidity: uidValidity, uid: report.uid, raw: Buffer.from(report.raw, 'utf8'), isJunk: false },
  );
  if (result.outcome !== 'stored') throw new Error('the report was a duplicate');
  return result.messageRowId;
}

/** Receives a message from `customer` and replies to it through the API; returns the reply. */
async function replyTo(
  customer: string,
  subject: string,
): Promise<{ id: number; interactionId: number; messageId: string }> {
  const first = await receive(h, account, { from: customer, to: CONTOSO.andrea.upn, subject, text: 'Hello' });
  const queued = await h.api('POST', `/api/interactions/${first.interactionId}/reply`, { text: 'Thank you.' });
  expect(queued.statusCode, queued.body).toBe(202);
  await dispatchUntilIdle(h);
  return queued.json();
}

const messageView = z.object({
  state: z.string(),
  bounces: z.array(
    z.object({
      address: z.string(),
      action: z.string(),
      status: z.string().nullable(),
      diagnostic: z.string().nullable(),
      advice: z.string(),
      at: z.string(),
      reportId: z.number(),
    }),
  ),
});

describe('a non-delivery report', () => {
  it('comes back from Exchange for an address of the tenant that nobody has, and marks the reply bounced', async () => {
    const reply = await replyTo('nobody@contoso.com', 'Where is my order?');
    const view = messageView.parse((await h.api('GET', `/api/messages/${reply.id}`)).json());
    expect(view).toMatchObject({ state: 'sent', bounces: [] });

    const reportId = await ingestReport(reply.messageId);
    const after = messageView.parse((await h.api('GET', `/api/messages/${reply.id}`)).json());
    expect(after.bounces).toEqual([
      {
        address: 'nobody@contoso.com',
        action: 'failed',
        status: '5.1.10',
        diagnostic: expect.stringContaining('550 5.1.10 RESOLVER.ADR.RecipientNotFound'),
        advice: expect.stringContaining('does not exist'),
        reportId,
        at: expect.any(String),
      },
    ]);
    const events = await listEvents(h.pair.postern.runtime.db, { scope: 'message', scopeId: reply.id, limit: 20 });
    const bounced = events.items.find((e) => e.type === 'message.bounced');
    expect(bounced?.message).toContain('Not delivered to nobody@contoso.com');

    // The report itself: Exchange's format, in the reply's conversation, marked as a bounce.
    const report = (await h.api('GET', `/api/messages/${reportId}`)).json<{
      interactionId: number;
      automated: { bounce: boolean };
      subject: string;
      from: Array<{ address: string }>;
    }>();
    expect(report).toMatchObject({ interactionId: reply.interactionId, automated: { bounce: true } });
    expect(report.subject).toMatch(/^Undeliverable: Re: Where is my order\?/);
    expect(report.from[0]?.address).toBe('MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.onmicrosoft.com');
    // Nothing left the tenant for the unknown address.
    expect(await sink(h, 'nobody@contoso.com')).toEqual([]);
  });

  it('names the outside server’s refusal for an address that bounces outside, and ignores reports about mail Postern did not send', async () => {
    const customer = 'gone@fabrikam.example';
    await h.control('POST', '/exchange/undeliverable', { address: customer, status: '5.1.1' });
    try {
      const reply = await replyTo(customer, 'Invoice 7');
      await ingestReport(reply.messageId);
      const after = messageView.parse((await h.api('GET', `/api/messages/${reply.id}`)).json());
      expect(after.bounces).toMatchObject([
        { address: customer, action: 'failed', status: '5.1.1', diagnostic: expect.stringContaining('User unknown') },
      ]);
      expect(await sink(h, customer)).toEqual([]);
    } finally {
      await h.control('DELETE', '/exchange/undeliverable');
    }
    // A report about a message Postern never sent is stored as a bounce, and ties to nothing.
    const stray = await receive(h, account, {
      from: 'MAILER-DAEMON@mx.fabrikam.example',
      to: CONTOSO.andrea.upn,
      subject: 'Undelivered Mail Returned to Sender',
      text: 'report',
      inReplyTo: '<never-sent@contoso.com>',
    });
    const strayView = (await h.api('GET', `/api/messages/${stray.messageRowId}`)).json<{
      automated: { bounce: boolean };
      bounces: unknown[];
    }>();
    expect(strayView).toMatchObject({ automated: { bounce: true }, bounces: [] });
  });
});

describe('the report format', () => {
  it('is multipart/report with the machine-readable status and the original message', async () => {
    const reply = await replyTo('nobody.else@contoso.com', 'Format check');
    const listing = inbox.parse(
      await h.control(
        'GET',
        `/exchange/mailboxes/${encodeURIComponent(CONTOSO.andrea.upn)}/folders/Inbox/messages?raw=true`,
      ),
    );
    const raw = listing.messages.findLast((m) => m.raw.includes(`In-Reply-To: ${reply.messageId}`))?.raw;
    expect(raw).toBeDefined();
    const parsed = await parseMessage(Buffer.from(raw ?? '', 'utf8'));
    expect(parsed.contentType).toBe('multipart/report');
    expect(parsed.reportType).toBe('delivery-status');
    expect(parsed.references).toEqual([reply.messageId]);
    expect(parsed.attachments.map((a) => a.contentType)).toEqual(['message/delivery-status', 'message/rfc822']);
    expect(parsed.headers.get('auto-submitted')).toEqual(['auto-replied']);
  });
});
