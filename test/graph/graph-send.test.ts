/**
 * Sending through the emulated Graph API behaves like SMTP submission in the emulator: emulated
 * recipients get the message in their Inbox, others land in the outside sink, the sender keeps a
 * copy in Sent Items (unless saveToSentItems is false), and the sent log records it `via: graph`.
 * JSON and base64 MIME bodies, reply, Send As for the shared mailbox, and the refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TestEmulator } from '../emulator/helpers/emulator.js';
import {
  appToken,
  collection,
  CONTOSO,
  deliver,
  expectGraphError,
  GraphClient,
  SHARED,
  startGraphEmulator,
  storeSubjects,
  userToken,
} from './helpers/graph-emulator.js';

let emu: TestEmulator;
let andrea: GraphClient;
let marco: GraphClient;

const sinkSchema = z.object({
  messages: z.array(
    z.object({
      recipients: z.array(z.string()),
      subject: z.string().nullable(),
      envelopeFrom: z.string(),
      raw: z.string().optional(),
    }),
  ),
});
const sentSchema = z.object({
  sent: z.array(
    z.object({
      via: z.string(),
      mailbox: z.string(),
      envelopeFrom: z.string(),
      recipients: z.array(z.string()),
      subject: z.string().nullable(),
      state: z.string(),
      sentItemsUid: z.number().nullable(),
    }),
  ),
});

async function sink(to: string): Promise<z.infer<typeof sinkSchema>['messages']> {
  return sinkSchema.parse(await emu.control('GET', `/exchange/sink?to=${encodeURIComponent(to)}&raw=true`)).messages;
}

async function rawOf(mailbox: string, folder: string, subject: string): Promise<string> {
  const listing = z
    .object({ messages: z.array(z.object({ subject: z.string().nullable(), raw: z.string() })) })
    .parse(
      await emu.control(
        'GET',
        `/exchange/mailboxes/${mailbox}/folders/${encodeURIComponent(folder)}/messages?raw=true`,
      ),
    );
  const found = listing.messages.find((m) => m.subject === subject);
  if (found === undefined) throw new Error(`no "${subject}" in ${mailbox}/${folder}`);
  return found.raw;
}

beforeAll(async () => {
  emu = await startGraphEmulator();
  andrea = new GraphClient(emu, await userToken(emu, CONTOSO.andrea));
  marco = new GraphClient(emu, await userToken(emu, CONTOSO.marco));
});

afterAll(() => emu.stop());

describe('sendMail (JSON)', () => {
  it('delivers to an emulated mailbox and to the outside sink, keeps Bcc only in Sent Items, records via graph', async () => {
    const response = await andrea.post('/me/sendMail', {
      message: {
        subject: 'Quarterly numbers',
        body: { contentType: 'HTML', content: '<p>See the <b>attached</b> sheet.</p>' },
        toRecipients: [{ emailAddress: { address: CONTOSO.marco.upn, name: 'Marco' } }],
        ccRecipients: [{ emailAddress: { address: 'customer@example.org' } }],
        bccRecipients: [{ emailAddress: { address: 'auditor@example.net' } }],
        attachments: [
          {
            '@odata.type': '#microsoft.graph.fileAttachment',
            name: 'numbers.csv',
            contentType: 'text/csv',
            contentBytes: Buffer.from('q,amount\n1,100\n').toString('base64'),
          },
        ],
        internetMessageHeaders: [{ name: 'X-Postern-Ticket', value: 'T-42' }],
      },
    });
    expect(response.status).toBe(202);
    expect(response.text).toBe('');

    const inbox = collection(
      await marco.get('/me/mailFolders/inbox/messages?$select=subject,from,hasAttachments,ccRecipients,bccRecipients'),
    );
    expect(inbox.value[0]).toMatchObject({
      subject: 'Quarterly numbers',
      from: { emailAddress: { name: 'Andrea Rossi', address: CONTOSO.andrea.upn } },
      hasAttachments: true,
      ccRecipients: [{ emailAddress: { address: 'customer@example.org' } }],
      bccRecipients: [],
    });
    expect(await rawOf(CONTOSO.marco.upn, 'Inbox', 'Quarterly numbers')).toMatch(/^X-Postern-Ticket: T-42\r$/m);

    const outside = await sink('customer@example.org');
    expect(outside.map((m) => m.subject)).toContain('Quarterly numbers');
    expect(outside.find((m) => m.subject === 'Quarterly numbers')).toMatchObject({
      envelopeFrom: CONTOSO.andrea.upn,
      recipients: ['customer@example.org', 'auditor@example.net'],
    });
    expect(outside.find((m) => m.subject === 'Quarterly numbers')?.raw).not.toMatch(/^Bcc:/im);

    const sentItems = collection(
      await andrea.get('/me/mailFolders/sentitems/messages?$select=subject,bccRecipients,isRead'),
    );
    expect(sentItems.value[0]).toMatchObject({
      subject: 'Quarterly numbers',
      isRead: true,
      bccRecipients: [{ emailAddress: { address: 'auditor@example.net' } }],
    });

    const { sent } = sentSchema.parse(await emu.control('GET', `/exchange/sent?mailbox=${CONTOSO.andrea.upn}`));
    expect(sent.at(-1)).toMatchObject({
      via: 'graph',
      mailbox: CONTOSO.andrea.upn,
      envelopeFrom: CONTOSO.andrea.upn,
      state: 'delivered',
      subject: 'Quarterly numbers',
    });
    expect(sent.at(-1)?.recipients.sort()).toEqual(
      [CONTOSO.marco.upn, 'auditor@example.net', 'customer@example.org'].sort(),
    );
  });

  it('keeps no Sent Items copy when saveToSentItems is "false"', async () => {
    const before = await storeSubjects(emu, CONTOSO.andrea.upn, 'Sent Items');
    const response = await andrea.post('/me/sendMail', {
      message: {
        subject: 'No copy',
        body: { contentType: 'Text', content: 'x' },
        toRecipients: [{ emailAddress: { address: 'customer@example.org' } }],
      },
      saveToSentItems: 'false',
    });
    expect(response.status).toBe(202);
    expect((await sink('customer@example.org')).map((m) => m.subject)).toContain('No copy');
    expect(await storeSubjects(emu, CONTOSO.andrea.upn, 'Sent Items')).toEqual(before);
  });

  it('refuses a message without recipients and an unknown property', async () => {
    expectGraphError(
      await andrea.post('/me/sendMail', { message: { subject: 'nobody' } }),
      400,
      'ErrorInvalidRecipients',
    );
    expectGraphError(
      await andrea.post('/me/sendMail', {
        message: { subject: 'x', colour: 'red', toRecipients: [{ emailAddress: { address: 'a@example.org' } }] },
      }),
      400,
      'RequestBodyRead',
    );
    expectGraphError(
      await andrea.call('POST', '/me/sendMail', {
        text: '{"message":',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'BadRequest',
    );
  });
});

describe('sendMail (MIME)', () => {
  it('takes base64 MIME with Content-Type text/plain, keeps its Message-ID, and delivers it', async () => {
    const mime = [
      `From: Andrea Rossi <${CONTOSO.andrea.upn}>`,
      `To: ${CONTOSO.marco.upn}, customer@example.org`,
      'Subject: MIME hello',
      'Message-ID: <mime-hello-1@postern.test>',
      'In-Reply-To: <earlier@example.org>',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Sent as MIME.',
      '',
    ].join('\r\n');
    const response = await andrea.call('POST', '/me/sendMail', { text: Buffer.from(mime).toString('base64') });
    expect(response.status).toBe(202);
    const received = collection(await marco.get('/me/mailFolders/inbox/messages?$select=subject,internetMessageId'));
    expect(received.value[0]).toMatchObject({
      subject: 'MIME hello',
      internetMessageId: '<mime-hello-1@postern.test>',
    });
    expect((await sink('customer@example.org')).find((m) => m.subject === 'MIME hello')?.raw).toContain(
      'In-Reply-To: <earlier@example.org>',
    );
    expect(await storeSubjects(emu, CONTOSO.andrea.upn, 'Sent Items')).toContain('MIME hello');
  });

  it('answers bad base64 with 400 ErrorMimeContentInvalidBase64String', async () => {
    expectGraphError(
      await andrea.call('POST', '/me/sendMail', { text: 'this is not base64!' }),
      400,
      'ErrorMimeContentInvalidBase64String',
      'Invalid base64 string for MIME content.',
    );
  });
});

describe('reply', () => {
  it('replies to the sender (202) with RE:, In-Reply-To and References, and marks the original answered', async () => {
    await deliver(emu, {
      to: CONTOSO.andrea.upn,
      from: 'Bea <bea@example.org>',
      subject: 'Broken login',
      text: 'I cannot sign in.',
      messageId: '<login-1@example.org>',
    });
    const inbox = collection(
      await andrea.get(
        '/me/mailFolders/inbox/messages?$select=subject&$filter=receivedDateTime ge 2000-01-01T00:00:00Z',
      ),
    );
    const original = inbox.value.find((m) => m.subject === 'Broken login');
    const response = await andrea.post(`/me/messages/${String(original?.id)}/reply`, {
      comment: 'Try resetting your password.',
    });
    expect(response.status).toBe(202);
    const reply = (await sink('bea@example.org')).find((m) => m.subject === 'RE: Broken login');
    expect(reply?.raw).toMatch(/^In-Reply-To: <login-1@example\.org>\r$/m);
    expect(reply?.raw).toMatch(/^References: <login-1@example\.org>\r$/m);
    expect(reply?.raw).toContain('Try resetting your password.');
    const store = z
      .object({ messages: z.array(z.object({ subject: z.string().nullable(), flags: z.array(z.string()) })) })
      .parse(await emu.control('GET', `/exchange/mailboxes/${CONTOSO.andrea.upn}/folders/Inbox/messages`));
    expect(store.messages.find((m) => m.subject === 'Broken login')?.flags).toContain('\\Answered');
    expectGraphError(
      await andrea.post(`/me/messages/${String(original?.id)}/reply`, {
        comment: 'a',
        message: { body: { contentType: 'text', content: 'b' } },
      }),
      400,
      'ErrorInvalidRequest',
    );
  });
});

describe('Send As', () => {
  it('lets andrea send as developers@ (her Sent Items), and from developers@ itself (its Sent Items)', async () => {
    const asShared = await andrea.post('/me/sendMail', {
      message: {
        subject: 'From the team',
        from: { emailAddress: { address: SHARED } },
        toRecipients: [{ emailAddress: { address: 'customer@example.org' } }],
      },
    });
    expect(asShared.status).toBe(202);
    expect((await sink('customer@example.org')).find((m) => m.subject === 'From the team')).toMatchObject({
      envelopeFrom: SHARED,
    });
    expect(await storeSubjects(emu, CONTOSO.andrea.upn, 'Sent Items')).toContain('From the team');

    const fromShared = await andrea.post(`/users/${SHARED}/sendMail`, {
      message: { subject: 'Team newsletter', toRecipients: [{ emailAddress: { address: 'customer@example.org' } }] },
    });
    expect(fromShared.status).toBe(202);
    expect(await storeSubjects(emu, SHARED, 'Sent Items')).toContain('Team newsletter');
  });

  it('refuses marco sending as developers@: 403 ErrorSendAsDenied', async () => {
    const response = await marco.post('/me/sendMail', {
      message: {
        subject: 'Not mine',
        from: { emailAddress: { address: SHARED } },
        toRecipients: [{ emailAddress: { address: 'customer@example.org' } }],
      },
    });
    expectGraphError(
      response,
      403,
      'ErrorSendAsDenied',
      'The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account. Cannot submit message.',
    );
    expect((await sink('customer@example.org')).map((m) => m.subject)).not.toContain('Not mine');
  });

  it('lets the daemon (app-only Mail.Send) send from any mailbox of the tenant', async () => {
    const daemon = new GraphClient(emu, await appToken(emu));
    const response = await daemon.post(`/users/${CONTOSO.marco.upn}/sendMail`, {
      message: { subject: 'Nightly report', toRecipients: [{ emailAddress: { address: CONTOSO.andrea.upn } }] },
    });
    expect(response.status).toBe(202);
    expect(await storeSubjects(emu, CONTOSO.andrea.upn, 'Inbox')).toContain('Nightly report');
    expect(await storeSubjects(emu, CONTOSO.marco.upn, 'Sent Items')).toContain('Nightly report');
  });
});
