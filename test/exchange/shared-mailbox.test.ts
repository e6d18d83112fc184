/**
 * The reference guide's shared-mailbox example, end to end with real tokens from the emulator's
 * identity endpoints: andrea reads developers@ by IMAP (`user=developers@`, andrea's token) and
 * sends as developers@ by SMTP (login andrea, MAIL FROM developers@), and is refused both once the
 * delegations are removed. Also app-only access, and token expiry on the emulator clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { encodeXOAuth2 } from '../../emulator/exchange/xoauth2.js';
import {
  CONTOSO,
  appToken,
  imapClient,
  passwordToken,
  smtpTransport,
  startExchangeEmulator,
  type ExchangeEmulator,
} from './helpers/emulator-exchange.js';
import { RawClient } from './helpers/raw-client.js';

const SHARED = 'developers@contoso.com';
let x: ExchangeEmulator;
let andreaToken: string;

const sentList = z.object({
  sent: z.array(
    z.object({
      mailbox: z.string(),
      envelopeFrom: z.string(),
      from: z.string().nullable(),
      recipients: z.array(z.string()),
      state: z.string(),
    }),
  ),
});
const sinkList = z.object({
  messages: z.array(z.object({ recipients: z.array(z.string()), subject: z.string().nullable() })),
});

beforeAll(async () => {
  x = await startExchangeEmulator();
  andreaToken = await passwordToken(x.emu, CONTOSO.andrea);
});

afterAll(() => x.stop());

describe('shared mailbox developers@ with delegate andrea@', () => {
  it('andrea reads developers@ by IMAP with her own token (mail sent to the alias included)', async () => {
    await x.emu.control('POST', '/exchange/messages', {
      to: 'dev@contoso.com',
      from: 'customer@example.org',
      subject: 'Build is red',
      text: 'Please look.',
    });
    const flow = imapClient(x, SHARED, andreaToken);
    await flow.connect();
    await flow.mailboxOpen('INBOX');
    const subjects: string[] = [];
    for await (const message of flow.fetch('1:*', { envelope: true })) subjects.push(message.envelope?.subject ?? '');
    await flow.logout();
    expect(subjects).toContain('Build is red');
  });

  it('andrea sends as developers@ by SMTP: accepted, copied to her Sent Items, delivered outside', async () => {
    const transport = smtpTransport(x, CONTOSO.andrea.upn, andreaToken);
    const info = await transport.sendMail({
      from: `Developers <${SHARED}>`,
      to: 'customer@example.org',
      subject: 'Re: Build is red',
      text: 'Fixed.',
    });
    transport.close();
    expect(info.response).toMatch(/^250 2\.0\.0 OK /);
    const { sent } = sentList.parse(await x.emu.control('GET', `/exchange/sent?mailbox=${CONTOSO.andrea.upn}`));
    expect(sent.at(-1)).toMatchObject({
      mailbox: CONTOSO.andrea.upn,
      envelopeFrom: SHARED,
      recipients: ['customer@example.org'],
      state: 'delivered',
    });
    const { messages } = sinkList.parse(await x.emu.control('GET', '/exchange/sink?to=customer@example.org'));
    expect(messages.map((m) => m.subject)).toContain('Re: Build is red');
  });

  it("logging in to SMTP as developers@ with andrea's token is refused with 535 5.7.3", async () => {
    const transport = smtpTransport(x, SHARED, andreaToken);
    await expect(transport.sendMail({ from: SHARED, to: 'customer@example.org', text: 'x' })).rejects.toMatchObject({
      response: expect.stringMatching(/^535 5\.7\.3 /),
    });
    transport.close();
  });

  it('refuses both once the FullAccess and Send As delegations are removed', async () => {
    await x.emu.control('DELETE', `/mailboxes/${SHARED}/delegates/${CONTOSO.andrea.upn}`);
    const raw = await RawClient.connect(x.imapPort, x.ca);
    await raw.line();
    expect(await raw.command('a1', `AUTHENTICATE XOAUTH2 ${encodeXOAuth2(SHARED, andreaToken)}`)).toEqual([
      'a1 OK AUTHENTICATE completed.',
    ]);
    expect(await raw.command('a2', 'SELECT INBOX')).toEqual(['a2 BAD User is authenticated but not connected.']);
    raw.close();

    const flow = imapClient(x, SHARED, andreaToken);
    await expect(flow.connect().then(() => flow.mailboxOpen('INBOX'))).rejects.toThrow();
    flow.close();

    const transport = smtpTransport(x, CONTOSO.andrea.upn, andreaToken);
    await expect(transport.sendMail({ from: SHARED, to: 'customer@example.org', text: 'x' })).rejects.toMatchObject({
      responseCode: 554,
      response: expect.stringMatching(
        /^554 5\.2\.252 SendAsDenied; andrea@contoso\.com not allowed to send as developers@contoso\.com;/,
      ),
    });
    transport.close();
    await x.emu.control('POST', `/mailboxes/${SHARED}/delegates`, { user: CONTOSO.andrea.upn });
  });
});

describe('tokens from the identity platform', () => {
  it('lets the daemon read developers@ app-only (service principal FullAccess), not andrea@', async () => {
    const token = await appToken(x.emu);
    const raw = await RawClient.connect(x.imapPort, x.ca);
    await raw.line();
    expect(await raw.command('a1', `AUTHENTICATE XOAUTH2 ${encodeXOAuth2(SHARED, token)}`)).toEqual([
      'a1 OK AUTHENTICATE completed.',
    ]);
    expect((await raw.command('a2', 'SELECT INBOX')).at(-1)).toBe('a2 OK [READ-WRITE] SELECT completed.');
    raw.close();
    const other = await RawClient.connect(x.imapPort, x.ca);
    await other.line();
    await other.command('a1', `AUTHENTICATE XOAUTH2 ${encodeXOAuth2(CONTOSO.andrea.upn, token)}`);
    expect(await other.command('a2', 'SELECT INBOX')).toEqual(['a2 BAD User is authenticated but not connected.']);
    other.close();
  });

  it('ends an IDLE session when the emulator clock passes the token expiry', async () => {
    const token = await passwordToken(x.emu, CONTOSO.andrea);
    const raw = await RawClient.connect(x.imapPort, x.ca);
    await raw.line();
    await raw.command('a1', `AUTHENTICATE XOAUTH2 ${encodeXOAuth2(CONTOSO.andrea.upn, token)}`);
    await raw.command('a2', 'SELECT INBOX');
    raw.send('a3 IDLE');
    expect(await raw.line()).toBe('+ IDLE accepted, awaiting DONE command.');
    await x.emu.control('POST', '/clock', { advanceSeconds: 2 * 3600 });
    expect(await raw.line()).toBe('* BYE Session invalidated - AccessTokenExpired');
    await raw.waitClosed();
    await x.emu.control('POST', '/clock', { reset: true });
  });
});
