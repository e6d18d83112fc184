/**
 * The Exchange control routes under `/_emulator/exchange/...`, driven over HTTPS with the control
 * token, as tests and the demo use them: deliver mail, read folders, set flags, read what was sent
 * and what left the tenant, inject faults.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { encodeXOAuth2 } from '../../emulator/exchange/xoauth2.js';
import {
  CONTOSO,
  passwordToken,
  smtpTransport,
  startExchangeEmulator,
  type ExchangeEmulator,
} from './helpers/emulator-exchange.js';
import { RawClient } from './helpers/raw-client.js';

const ANDREA = CONTOSO.andrea.upn;
let x: ExchangeEmulator;
let token: string;

const delivery = z.object({
  delivered: z.array(
    z.object({ mailbox: z.string(), folder: z.string(), uid: z.number(), uidValidity: z.number(), id: z.string() }),
  ),
  external: z.array(z.string()),
});
const messageList = z.object({
  messages: z.array(
    z.object({
      uid: z.number(),
      flags: z.array(z.string()),
      subject: z.string().nullable(),
      messageId: z.string().nullable(),
      raw: z.string().optional(),
    }),
  ),
});

async function session(): Promise<RawClient> {
  const client = await RawClient.connect(x.imapPort, x.ca);
  await client.line();
  await client.command('a1', `AUTHENTICATE XOAUTH2 ${encodeXOAuth2(ANDREA, token)}`);
  return client;
}

beforeAll(async () => {
  x = await startExchangeEmulator();
  token = await passwordToken(x.emu, CONTOSO.andrea);
});

afterAll(() => x.stop());

describe('delivering mail', () => {
  it('delivers a message from fields to emulated and outside recipients', async () => {
    const result = delivery.parse(
      await x.emu.control('POST', '/exchange/messages', {
        from: 'Customer <customer@example.org>',
        to: [ANDREA, 'partner@example.net'],
        subject: 'Where is my order?',
        text: 'Order 42 has not arrived.',
        messageId: '<order-42@example.org>',
        attachments: [
          { filename: 'receipt.txt', contentType: 'text/plain', contentBase64: Buffer.from('paid').toString('base64') },
        ],
      }),
    );
    expect(result.delivered).toEqual([
      {
        mailbox: ANDREA,
        folder: 'Inbox',
        uid: expect.any(Number),
        uidValidity: expect.any(Number),
        id: expect.any(String),
      },
    ]);
    expect(result.external).toEqual(['partner@example.net']);
    const { messages } = messageList.parse(
      await x.emu.control('GET', `/exchange/mailboxes/${ANDREA}/folders/Inbox/messages?raw=true`),
    );
    const order = messages.find((m) => m.messageId === '<order-42@example.org>');
    expect(order?.subject).toBe('Where is my order?');
    expect(order?.raw).toContain('filename=receipt.txt');
  });

  it('delivers raw MIME, or stores it straight into a folder with flags and an internal date', async () => {
    const raw = 'From: a@example.org\nTo: andrea@contoso.com\nSubject: Raw one\n\nbody\n';
    expect(
      delivery.parse(await x.emu.control('POST', '/exchange/messages', { raw, to: ANDREA })).delivered,
    ).toHaveLength(1);
    const stored = delivery.parse(
      await x.emu.control('POST', '/exchange/messages', {
        raw,
        mailbox: ANDREA,
        folder: 'Junk Email',
        flags: ['\\Seen'],
        internalDate: '2024-12-24T18:00:00Z',
      }),
    );
    expect(stored.delivered[0]?.folder).toBe('Junk Email');
    const { messages } = messageList.parse(
      await x.emu.control('GET', `/exchange/mailboxes/${ANDREA}/folders/Junk Email/messages?raw=true`),
    );
    expect(messages.at(-1)).toMatchObject({ flags: ['\\Seen'], subject: 'Raw one' });
    expect(messages.at(-1)?.raw).toContain('\r\nSubject: Raw one\r\n');
  });

  it('rejects an invalid body with the control API error shape', async () => {
    const response = await x.emu.handle.control('POST', '/exchange/messages', { subject: 'nobody to deliver to' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'invalid' } });
    const missing = await x.emu.handle.control('GET', `/exchange/mailboxes/${ANDREA}/folders/Nowhere/messages`);
    expect(missing.status).toBe(404);
  });
});

describe('flags and removal as other sessions see them', () => {
  it('pushes FETCH FLAGS and EXPUNGE to an IDLE session', async () => {
    const { delivered } = delivery.parse(
      await x.emu.control('POST', '/exchange/messages', { to: ANDREA, subject: 'Flag me', text: 'x' }),
    );
    const uid = delivered[0]?.uid ?? 0;
    const client = await session();
    const select = await client.command('a2', 'SELECT INBOX');
    const exists = Number(/^\* (\d+) EXISTS$/.exec(select[0] ?? '')?.[1]);
    client.send('a3 IDLE');
    await client.line();
    await x.emu.control('POST', `/exchange/mailboxes/${ANDREA}/folders/Inbox/messages/${uid}/flags`, {
      add: ['\\Seen', '\\Flagged'],
    });
    expect(await client.line()).toBe(`* ${exists} FETCH (FLAGS (\\Seen \\Flagged))`);
    await x.emu.control('DELETE', `/exchange/mailboxes/${ANDREA}/folders/Inbox/messages/${uid}`);
    expect(await client.line()).toBe(`* ${exists} EXPUNGE`);
    client.send('DONE');
    expect(await client.line()).toBe('a3 OK IDLE completed.');
    client.close();
  });
});

describe('sent mail and the outside sink', () => {
  it('lists submissions and outside deliveries, and clears them', async () => {
    await x.emu.control('DELETE', '/exchange/sent');
    await x.emu.control('DELETE', '/exchange/sink');
    const transport = smtpTransport(x, ANDREA, token);
    await transport.sendMail({
      from: ANDREA,
      to: 'customer@example.org',
      cc: CONTOSO.marco.upn,
      subject: 'Shipped',
      text: 'On its way.',
    });
    transport.close();
    const sent = z.object({
      sent: z.array(
        z.object({
          subject: z.string().nullable(),
          recipients: z.array(z.string()),
          state: z.string(),
          sentItemsUid: z.number().nullable(),
          raw: z.string().optional(),
        }),
      ),
    });
    const listed = sent.parse(await x.emu.control('GET', '/exchange/sent?raw=true'));
    expect(listed.sent).toEqual([
      expect.objectContaining({
        subject: 'Shipped',
        recipients: ['customer@example.org', CONTOSO.marco.upn],
        state: 'delivered',
        sentItemsUid: expect.any(Number),
      }),
    ]);
    expect(listed.sent[0]?.raw).toContain('On its way.');
    const sink = z
      .object({ messages: z.array(z.object({ recipients: z.array(z.string()), subject: z.string().nullable() })) })
      .parse(await x.emu.control('GET', '/exchange/sink'));
    expect(sink.messages).toEqual([
      expect.objectContaining({ recipients: ['customer@example.org'], subject: 'Shipped' }),
    ]);
    await x.emu.control('DELETE', '/exchange/sink');
    expect(
      z.object({ messages: z.array(z.unknown()) }).parse(await x.emu.control('GET', '/exchange/sink')).messages,
    ).toEqual([]);
  });
});

describe('faults', () => {
  it('throttles IMAP commands, then lists and clears faults', async () => {
    await x.emu.control('POST', '/exchange/faults/imap/throttle', { count: 1, backoffMs: 1000, mailbox: ANDREA });
    const client = await session();
    expect(await client.command('a2', 'NOOP')).toEqual([
      'a2 NO Request is throttled. Suggested Backoff Time: 1000 milliseconds',
    ]);
    expect(await client.command('a3', 'NOOP')).toEqual(['a3 OK NOOP completed.']);
    await x.emu.control('PUT', '/exchange/faults/imap/delay', { ms: 30 });
    const started = Date.now();
    await client.command('a4', 'NOOP');
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(await x.emu.control('GET', '/exchange/faults')).toMatchObject({ imapThrottle: 0, imapDelayMs: 30 });
    await x.emu.control('DELETE', '/exchange/faults');
    expect(await x.emu.control('GET', '/exchange/faults')).toMatchObject({ imapDelayMs: 0, imapDropEvery: false });
    client.close();
  });

  it('drops IMAP connections now and on an interval', async () => {
    const client = await session();
    expect(await x.emu.control('POST', '/exchange/faults/imap/drop', { mailbox: ANDREA })).toEqual({ dropped: 1 });
    await client.waitClosed();
    await x.emu.control('PUT', '/exchange/faults/imap/drop-every', { seconds: 0.05 });
    const second = await session();
    await second.waitClosed(1000);
    await x.emu.control('PUT', '/exchange/faults/imap/drop-every', { seconds: null });
  });

  it('resets signed-in sessions (TCP RST) right after the sign-in, or at a named command', async () => {
    const resetOf = (client: RawClient): Promise<string | undefined> =>
      new Promise((resolve) => {
        client.socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
        client.socket.once('close', () => resolve(undefined));
      });
    expect(
      await x.emu.control('POST', '/exchange/faults/imap/drop-after-login', { mailbox: ANDREA, command: 'examine' }),
    ).toMatchObject({ imapDropAfterLogin: 1 });
    const first = await session();
    expect(await first.command('a2', 'NOOP')).toEqual(['a2 OK NOOP completed.']);
    const firstReset = resetOf(first);
    first.send('a3 EXAMINE INBOX');
    expect(await firstReset).toBe('ECONNRESET');
    await first.waitClosed();

    await x.emu.control('POST', '/exchange/faults/imap/drop-after-login', {});
    const second = await session();
    const secondReset = resetOf(second);
    second.send('a2 NOOP');
    expect(await secondReset).toBe('ECONNRESET');
    expect(await x.emu.control('GET', '/exchange/faults')).toMatchObject({ imapDropAfterLogin: 0 });
    // Sessions that sign in afterwards are served as usual; a misspelt option is refused.
    const third = await session();
    expect(await third.command('a2', 'NOOP')).toEqual(['a2 OK NOOP completed.']);
    third.close();
    await expect(
      x.emu.control('POST', '/exchange/faults/imap/drop-after-login', { mailbox: ANDREA, commmand: 'SELECT' }),
    ).rejects.toThrow(/400/);
  });

  it('fails the next SMTP transactions with the scripted reply', async () => {
    await x.emu.control('POST', '/exchange/faults/smtp', { count: 1, code: 451 });
    const transport = smtpTransport(x, ANDREA, token);
    await expect(transport.sendMail({ from: ANDREA, to: 'customer@example.org', text: 'x' })).rejects.toMatchObject({
      responseCode: 451,
      response: '451 4.3.0 Temporary server error. Please try again later',
    });
    await expect(transport.sendMail({ from: ANDREA, to: 'customer@example.org', text: 'x' })).resolves.toMatchObject({
      accepted: ['customer@example.org'],
    });
    transport.close();
    expect(await x.emu.control('GET', '/exchange/faults')).toMatchObject({ smtpFailures: 0 });
  });
});
