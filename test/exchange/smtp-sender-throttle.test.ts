/**
 * Exchange Online's continuous-error throttling of SMTP AUTH submissions in the emulator: a
 * throttled mailbox gets `550 5.2.251`–`5.2.255 Sender throttled …` at every MAIL FROM, word for
 * word as Microsoft lists them, for the fault's seconds of emulator time; other mailboxes send.
 *
 * @see https://learn.microsoft.com/exchange/mail-flow-best-practices/continuous-error-throttling-smtp-auth-submissions
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeXOAuth2 } from '../../emulator/exchange/xoauth2.js';
import type { SenderThrottleKind } from '../../emulator/exchange/faults.js';
import { CONTOSO, passwordToken, smtpTransport, startExchangeEmulator } from './helpers/emulator-exchange.js';
import type { ExchangeEmulator } from './helpers/emulator-exchange.js';
import { sampleMessage, startExchangeHarness, type ExchangeHarness } from './helpers/exchange-harness.js';
import { SmtpRawClient } from './helpers/smtp-raw-client.js';

const ANDREA = 'andrea@contoso.com';
const MARCO = 'marco@contoso.com';
let h: ExchangeHarness;
const open: SmtpRawClient[] = [];

async function authenticated(user: string): Promise<SmtpRawClient> {
  const client = await SmtpRawClient.connect(h.smtpPort);
  open.push(client);
  await client.reply();
  await client.command('EHLO client.example');
  await client.startTls(h.ca);
  await client.command('EHLO client.example');
  expect(await client.command(`AUTH XOAUTH2 ${encodeXOAuth2(user, h.tenant.userToken(user))}`)).toEqual([
    '235 2.7.0 Authentication successful',
  ]);
  return client;
}

beforeAll(async () => {
  h = await startExchangeHarness();
  h.tenant.addUser(ANDREA);
  h.tenant.addUser(MARCO);
});

afterEach(() => {
  for (const client of open.splice(0)) client.close();
  h.service.faults.clear();
  h.service.smtp.limits.reset();
});

afterAll(() => h.stop());

describe('a mailbox throttled after continuous errors', () => {
  const replies: [SenderThrottleKind, string][] = [
    ['mailbox-full', '550 5.2.251 Sender throttled due to continuous mailbox full errors.'],
    ['send-as', '550 5.2.252 Sender throttled due to continuous send as denied errors.'],
    ['license', '550 5.2.253 Sender throttled due to continuous invalid license errors.'],
    ['too-many-recipients', '550 5.2.254 Sender throttled due to continuous too many recipients errors.'],
    ['invalid-recipients', '550 5.2.255 Sender throttled due to continuous invalid recipients errors.'],
  ];

  it.each(replies)('%s: every MAIL FROM is answered %s', async (kind, reply) => {
    h.service.faults.throttleSender({ mailbox: ANDREA, kind, until: h.clock.now() + 60_000 });
    const client = await authenticated(ANDREA);
    expect(await client.command(`MAIL FROM:<${ANDREA}>`)).toEqual([reply]);
    expect(await client.command(`MAIL FROM:<${ANDREA}>`)).toEqual([reply]);
    const again = await authenticated(ANDREA);
    expect(await again.command(`MAIL FROM:<${ANDREA}>`)).toEqual([reply]);
    expect(h.service.faults.senderThrottleStates()).toEqual([
      { mailbox: ANDREA, kind, until: new Date(h.clock.now() + 60_000).toISOString(), refused: 3 },
    ]);
  });

  it('throttles only that mailbox, and ends when the emulator clock passes its end', async () => {
    h.service.faults.throttleSender({
      mailbox: 'Andrea@Contoso.com',
      kind: 'send-as',
      until: h.clock.now() + 3_600_000,
    });
    const marco = await authenticated(MARCO);
    expect(await marco.command(`MAIL FROM:<${MARCO}>`)).toEqual(['250 2.1.0 Sender OK']);
    const andrea = await authenticated(ANDREA);
    h.clock.advance(3_599_000);
    expect(await andrea.command(`MAIL FROM:<${ANDREA}>`)).toEqual([
      '550 5.2.252 Sender throttled due to continuous send as denied errors.',
    ]);
    h.clock.advance(1000);
    expect(await andrea.command(`MAIL FROM:<${ANDREA}>`)).toEqual(['250 2.1.0 Sender OK']);
    expect(h.service.faults.senderThrottleStates()[0]?.refused).toBe(1);
  });
});

describe('throttling by itself after Send As denials in a row', () => {
  async function submit(client: SmtpRawClient, from: string): Promise<string> {
    const [mailFrom] = await client.command(`MAIL FROM:<${from}>`);
    if (!mailFrom?.startsWith('250')) return mailFrom ?? '';
    expect(await client.command('RCPT TO:<customer@example.org>')).toEqual(['250 2.1.5 Recipient OK']);
    expect(await client.command('DATA')).toEqual(['354 Start mail input; end with <CRLF>.<CRLF>']);
    client.send(`${sampleMessage({ from }).toString('utf8').replace(/\r\n$/, '')}\r\n.`);
    const [reply] = await client.reply();
    return reply ?? '';
  }

  it("after 3 denials in a row the mailbox is throttled for the rule's seconds; an allowed submission starts the count again", async () => {
    h.service.faults.throttleAfterSendAsDenials({ after: 3, seconds: 600 });
    const client = await authenticated(MARCO);
    expect(await submit(client, ANDREA)).toMatch(/^554 5\.2\.252 SendAsDenied;/);
    expect(await submit(client, ANDREA)).toMatch(/^554 5\.2\.252 SendAsDenied;/);
    expect(await submit(client, MARCO)).toMatch(/^250 2\.0\.0 OK/);
    for (let i = 0; i < 2; i += 1) expect(await submit(client, ANDREA)).toMatch(/^554 5\.2\.252 SendAsDenied;/);
    expect(h.service.faults.senderThrottleStates()).toEqual([]);
    expect(await submit(client, ANDREA)).toMatch(/^554 5\.2\.252 SendAsDenied;/);
    expect(h.service.faults.senderThrottleStates()).toEqual([
      { mailbox: MARCO, kind: 'send-as', until: new Date(h.clock.now() + 600_000).toISOString(), refused: 0 },
    ]);
    expect(await submit(client, MARCO)).toBe('550 5.2.252 Sender throttled due to continuous send as denied errors.');
    h.clock.advance(600_000);
    expect(await submit(client, MARCO)).toMatch(/^250 2\.0\.0 OK/);
  });
});

describe('the control route', () => {
  let x: ExchangeEmulator;
  let token: string;

  beforeAll(async () => {
    x = await startExchangeEmulator();
    token = await passwordToken(x.emu, CONTOSO.andrea);
  });

  afterAll(() => x.stop());

  it('POST /exchange/faults/smtp/sender-throttle refuses the mailbox with 550 until the faults are cleared; a bad kind is 400', async () => {
    await expect(
      x.emu.control('POST', '/exchange/faults/smtp/sender-throttle', {
        mailbox: CONTOSO.andrea.upn,
        kind: 'quota',
        seconds: 60,
      }),
    ).rejects.toThrow(/400/);
    expect(
      await x.emu.control('POST', '/exchange/faults/smtp/sender-throttle', {
        mailbox: CONTOSO.andrea.upn,
        kind: 'license',
        seconds: 3600,
      }),
    ).toMatchObject({ senderThrottles: [{ mailbox: CONTOSO.andrea.upn, kind: 'license', refused: 0 }] });
    const transport = smtpTransport(x, CONTOSO.andrea.upn, token);
    try {
      await expect(
        transport.sendMail({ from: CONTOSO.andrea.upn, to: 'customer@example.org', text: 'x' }),
      ).rejects.toMatchObject({
        responseCode: 550,
        command: 'MAIL FROM',
        response: '550 5.2.253 Sender throttled due to continuous invalid license errors.',
      });
      expect(await x.emu.control('GET', '/exchange/faults')).toMatchObject({
        senderThrottles: [{ mailbox: CONTOSO.andrea.upn, kind: 'license', refused: 1 }],
      });
      expect(await x.emu.control('PUT', '/exchange/faults/smtp/sender-throttle/send-as-denials', { after: 5 })).toEqual(
        { rule: { after: 5, seconds: 3600 } },
      );
      await expect(
        x.emu.control('PUT', '/exchange/faults/smtp/sender-throttle/send-as-denials', { after: 0 }),
      ).rejects.toThrow(/400/);
      expect(
        await x.emu.control('PUT', '/exchange/faults/smtp/sender-throttle/send-as-denials', { after: null }),
      ).toEqual({ rule: null });
      await x.emu.control('PUT', '/exchange/faults/smtp/sender-throttle/send-as-denials', { after: 2, seconds: 60 });
      await x.emu.control('DELETE', '/exchange/faults');
      expect(await x.emu.control('GET', '/exchange/faults')).toMatchObject({
        senderThrottles: [],
        sendAsThrottleRule: null,
      });
      await expect(
        transport.sendMail({ from: CONTOSO.andrea.upn, to: 'customer@example.org', text: 'x' }),
      ).resolves.toMatchObject({ accepted: ['customer@example.org'] });
    } finally {
      transport.close();
    }
  });
});
