/**
 * SMTP submission against the emulator: raw transcripts asserting Exchange Online's replies
 * (reference §5, §7) and nodemailer sending with XOAUTH2 over STARTTLS.
 */
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeXOAuth2 } from '../../emulator/exchange/xoauth2.js';
import { sampleMessage, startExchangeHarness, type ExchangeHarness } from './helpers/exchange-harness.js';
import { SmtpRawClient } from './helpers/smtp-raw-client.js';

const ANDREA = 'andrea@contoso.com';
const MARCO = 'marco@contoso.com';
const SHARED = 'developers@contoso.com';
const HOST = 'SY5P282CA0097.outlook.office365.com';
let h: ExchangeHarness;
const open: SmtpRawClient[] = [];

async function connect(): Promise<SmtpRawClient> {
  const client = await SmtpRawClient.connect(h.smtpPort);
  open.push(client);
  await client.reply();
  return client;
}

async function secured(): Promise<SmtpRawClient> {
  const client = await connect();
  await client.command('EHLO client.example');
  await client.startTls(h.ca);
  await client.command('EHLO client.example');
  return client;
}

async function authenticated(user = ANDREA, token = h.tenant.userToken(user)): Promise<SmtpRawClient> {
  const client = await secured();
  expect(await client.command(`AUTH XOAUTH2 ${encodeXOAuth2(user, token)}`)).toEqual([
    '235 2.7.0 Authentication successful',
  ]);
  return client;
}

/** Runs one mail transaction and returns the reply to the final dot. */
async function transaction(client: SmtpRawClient, from: string, to: string[], message: Buffer): Promise<string[]> {
  expect(await client.command(`MAIL FROM:<${from}>`)).toEqual(['250 2.1.0 Sender OK']);
  for (const rcpt of to) expect(await client.command(`RCPT TO:<${rcpt}>`)).toEqual(['250 2.1.5 Recipient OK']);
  expect(await client.command('DATA')).toEqual(['354 Start mail input; end with <CRLF>.<CRLF>']);
  client.send(`${message.toString('utf8').replace(/\r\n$/, '')}\r\n.`);
  return client.reply();
}

beforeAll(async () => {
  h = await startExchangeHarness();
  h.tenant.addUser(ANDREA);
  h.tenant.addUser(MARCO);
  h.tenant.addSharedMailbox(SHARED);
});

afterEach(() => {
  for (const client of open.splice(0)) client.close();
  h.service.faults.clear();
  h.service.smtp.limits.reset();
});

afterAll(() => h.stop());

describe('connection and authentication', () => {
  it('greets and lists extensions before and after STARTTLS as Exchange does', async () => {
    const client = await SmtpRawClient.connect(h.smtpPort);
    open.push(client);
    const [greeting] = await client.reply();
    expect(greeting).toMatch(
      new RegExp(
        `^220 ${HOST} Microsoft ESMTP MAIL Service ready at \\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000 \\[[0-9A-F]{16}\\]$`,
      ),
    );
    expect(await client.command('EHLO client.example')).toEqual([
      `250-${HOST} Hello [127.0.0.1]`,
      '250-SIZE 157286400',
      '250-PIPELINING',
      '250-DSN',
      '250-ENHANCEDSTATUSCODES',
      '250-STARTTLS',
      '250-8BITMIME',
      '250-BINARYMIME',
      '250-CHUNKING',
      '250 SMTPUTF8',
    ]);
    expect(await client.command(`AUTH XOAUTH2 ${encodeXOAuth2(ANDREA, h.tenant.userToken(ANDREA))}`)).toEqual([
      '504 5.7.4 Unrecognized authentication type',
    ]);
    expect(await client.startTls(h.ca)).toBe('220 2.0.0 SMTP server ready');
    expect(await client.command('EHLO client.example')).toEqual([
      `250-${HOST} Hello [127.0.0.1]`,
      '250-SIZE 157286400',
      '250-PIPELINING',
      '250-DSN',
      '250-ENHANCEDSTATUSCODES',
      '250-AUTH LOGIN XOAUTH2',
      '250-8BITMIME',
      '250-BINARYMIME',
      '250-CHUNKING',
      '250 SMTPUTF8',
    ]);
    expect(await client.command('MAIL FROM:<andrea@contoso.com>')).toEqual([
      '530 5.7.57 Client not authenticated to send mail',
    ]);
    expect(await client.command('QUIT')).toEqual(['221 2.0.0 Service closing transmission channel']);
  });

  it('authenticates with XOAUTH2 after a 334 continuation', async () => {
    const client = await secured();
    expect(await client.command('AUTH XOAUTH2')).toEqual(['334 ']);
    expect(await client.command(encodeXOAuth2(ANDREA, h.tenant.userToken(ANDREA)))).toEqual([
      '235 2.7.0 Authentication successful',
    ]);
  });

  it('refuses AUTH LOGIN: basic authentication is disabled', async () => {
    const client = await secured();
    expect(await client.command('AUTH LOGIN')).toEqual(['334 VXNlcm5hbWU6']);
    expect(await client.command(Buffer.from(ANDREA).toString('base64'))).toEqual(['334 UGFzc3dvcmQ6']);
    expect(await client.command(Buffer.from('secret').toString('base64'))).toEqual([
      '535 5.7.139 Authentication unsuccessful, basic authentication is disabled.',
    ]);
  });

  it('answers 535 5.7.3 for a bad token, a token without SMTP.Send, and a shared mailbox as login', async () => {
    const pattern = new RegExp(
      `^535 5\\.7\\.3 Authentication unsuccessful \\[${HOST} \\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z [0-9A-F]{16}\\]$`,
    );
    const client = await secured();
    const [bad] = await client.command(`AUTH XOAUTH2 ${encodeXOAuth2(ANDREA, 'garbage')}`);
    expect(bad).toMatch(pattern);
    const [noScope] = await client.command(
      `AUTH XOAUTH2 ${encodeXOAuth2(ANDREA, h.tenant.userToken(ANDREA, { scopes: ['IMAP.AccessAsUser.All'] }))}`,
    );
    expect(noScope).toMatch(pattern);
    // Even with Send As and SMTP AUTH enabled on the shared mailbox, it cannot be the login.
    h.tenant.mailbox(SHARED).sendAs.push(h.tenant.userId(ANDREA));
    h.tenant.mailbox(SHARED).smtpAuthEnabled = true;
    const [shared] = await client.command(`AUTH XOAUTH2 ${encodeXOAuth2(SHARED, h.tenant.userToken(ANDREA))}`);
    expect(shared).toMatch(pattern);
    h.tenant.mailbox(SHARED).sendAs.length = 0;
    h.tenant.mailbox(SHARED).smtpAuthEnabled = null;
  });

  it('answers 535 5.7.139 when SMTP AUTH is disabled for the tenant or the mailbox', async () => {
    const client = await secured();
    h.tenant.tenantSmtpAuthEnabled = false;
    expect(await client.command(`AUTH XOAUTH2 ${encodeXOAuth2(ANDREA, h.tenant.userToken(ANDREA))}`)).toEqual([
      `535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [${HOST}]`,
    ]);
    h.tenant.mailbox(ANDREA).smtpAuthEnabled = true;
    expect(await client.command(`AUTH XOAUTH2 ${encodeXOAuth2(ANDREA, h.tenant.userToken(ANDREA))}`)).toEqual([
      '235 2.7.0 Authentication successful',
    ]);
    h.tenant.tenantSmtpAuthEnabled = true;
    h.tenant.mailbox(MARCO).smtpAuthEnabled = false;
    const other = await secured();
    expect(await other.command(`AUTH XOAUTH2 ${encodeXOAuth2(MARCO, h.tenant.userToken(MARCO))}`)).toEqual([
      '535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.',
    ]);
    h.tenant.mailbox(ANDREA).smtpAuthEnabled = null;
    h.tenant.mailbox(MARCO).smtpAuthEnabled = null;
  });
});

describe('submission', () => {
  it('accepts a message, keeps a copy in Sent Items, delivers inside and sinks outside', async () => {
    const client = await authenticated();
    const [reply] = await transaction(
      client,
      ANDREA,
      [MARCO, 'customer@example.org'],
      sampleMessage({ from: ANDREA, to: `${MARCO}, customer@example.org`, messageId: '<sent-1@contoso.com>' }),
    );
    expect(reply).toBe(`250 2.0.0 OK <sent-1@contoso.com> [Hostname=${HOST}]`);
    const sentItems = h.service.store.mailbox(ANDREA).wellKnown('sentitems');
    expect(sentItems.messages.at(-1)?.content.header('message-id')).toBe('<sent-1@contoso.com>');
    expect(sentItems.messages.at(-1)?.flags.has('\\Seen')).toBe(true);
    expect(h.service.store.mailbox(MARCO).wellKnown('inbox').messages.at(-1)?.content.header('message-id')).toBe(
      '<sent-1@contoso.com>',
    );
    const sunk = h.service.router.sink.at(-1);
    expect(sunk?.recipients).toEqual(['customer@example.org']);
    expect(sunk?.content.header('message-id')).toBe('<sent-1@contoso.com>');
    expect(await client.command('RSET')).toEqual(['250 2.0.0 Resetting']);
    expect(await client.command('NOOP')).toEqual(['250 2.0.0 OK']);
  });

  it('adds Message-ID and Date when missing, and keeps Bcc only in the Sent Items copy', async () => {
    const client = await authenticated();
    const bare = Buffer.from(
      `From: ${ANDREA}\r\nTo: customer@example.org\r\nBcc: ${MARCO}\r\nSubject: Bare\r\n\r\nHello\r\n`,
    );
    const [reply] = await transaction(client, ANDREA, ['customer@example.org', MARCO], bare);
    const messageId = /^250 2\.0\.0 OK (<[^>]+>) /.exec(reply ?? '')?.[1];
    expect(messageId).toMatch(/^<[0-9A-F]{32}@sy5p282ca0097\.outlook\.office365\.com>$/);
    const copy = h.service.store.mailbox(ANDREA).wellKnown('sentitems').messages.at(-1);
    expect(copy?.content.header('message-id')).toBe(messageId);
    expect(copy?.content.header('date')).toMatch(/ \+0000$/);
    expect(copy?.content.header('bcc')).toBe(MARCO);
    const delivered = h.service.store.mailbox(MARCO).wellKnown('inbox').messages.at(-1);
    expect(delivered?.content.header('message-id')).toBe(messageId);
    expect(delivered?.content.header('bcc')).toBeUndefined();
    expect(h.service.router.sink.at(-1)?.content.header('bcc')).toBeUndefined();
  });

  it('refuses MAIL FROM or From: other than the login without Send As, after the final dot', async () => {
    const client = await authenticated(MARCO);
    const [spoofEnvelope] = await transaction(
      client,
      ANDREA,
      ['customer@example.org'],
      sampleMessage({ from: ANDREA }),
    );
    expect(spoofEnvelope).toMatch(
      /^554 5\.2\.252 SendAsDenied; marco@contoso\.com not allowed to send as andrea@contoso\.com; STOREDRV\.Submission\.Exception:SendAsDeniedException\.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message \[BeginDiagnosticData\]Cannot submit message\./,
    );
    const [spoofHeader] = await transaction(
      client,
      MARCO,
      ['customer@example.org'],
      sampleMessage({ from: `Andrea <${ANDREA}>` }),
    );
    expect(spoofHeader).toMatch(
      /^554 5\.2\.252 SendAsDenied; marco@contoso\.com not allowed to send as andrea@contoso\.com;/,
    );
  });

  it('limits a mailbox to 3 concurrent submissions with 432 4.3.2', async () => {
    const clients = [await authenticated(), await authenticated(), await authenticated()];
    for (const c of clients) expect(await c.command(`MAIL FROM:<${ANDREA}>`)).toEqual(['250 2.1.0 Sender OK']);
    const fourth = await authenticated();
    expect(await fourth.command(`MAIL FROM:<${ANDREA}>`)).toEqual([
      '432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded',
    ]);
    expect(await clients[0]?.command('RSET')).toEqual(['250 2.0.0 Resetting']);
    expect(await fourth.command(`MAIL FROM:<${ANDREA}>`)).toEqual(['250 2.1.0 Sender OK']);
  });

  it('refuses a submission over 10,000 recipients in a rolling day with 554 5.2.0', async () => {
    h.service.smtp.limits.takeRecipients(ANDREA, 9_999);
    const client = await authenticated();
    const [over] = await transaction(
      client,
      ANDREA,
      ['a@example.org', 'b@example.org'],
      sampleMessage({ from: ANDREA }),
    );
    expect(over).toBe(
      `554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.[EndDiagnosticData] [Hostname=${HOST}]`,
    );
    const [fits] = await transaction(client, ANDREA, ['a@example.org'], sampleMessage({ from: ANDREA }));
    expect(fits).toMatch(/^250 2\.0\.0 OK /);
    h.clock.advance(24 * 3_600_000 + 1);
    const [nextDay] = await transaction(
      client,
      ANDREA,
      ['a@example.org', 'b@example.org'],
      sampleMessage({ from: ANDREA }),
    );
    expect(nextDay).toMatch(/^250 2\.0\.0 OK /);
  });

  it('delays, not refuses, messages beyond 30 a minute', async () => {
    h.service.router.clearSent();
    const client = await authenticated(MARCO);
    for (let i = 0; i < 31; i += 1) {
      const [reply] = await transaction(client, MARCO, [ANDREA], sampleMessage({ from: MARCO, subject: `Burst ${i}` }));
      expect(reply).toMatch(/^250 2\.0\.0 OK /);
    }
    const sent = h.service.router.sent;
    expect(sent).toHaveLength(31);
    expect(sent.slice(0, 30).every((r) => r.deliveredAt !== null)).toBe(true);
    expect(sent[30]?.deliveredAt).toBeNull();
    expect(h.service.smtp.queue.size).toBe(1);
    h.clock.advance(60_000);
    expect(h.service.smtp.queue.flushDue()).toBe(1);
    expect(sent[30]?.deliveredAt).not.toBeNull();
    expect(h.service.store.mailbox(ANDREA).wellKnown('inbox').messages.at(-1)?.content.header('subject')).toBe(
      'Burst 30',
    );
  });

  it('answers 421 (and closes) or 4xx for the next transactions when the fault is set', async () => {
    h.service.faults.failSmtp({ count: 1, code: 451, text: '4.3.0 Temporary server error. Please try again later' });
    const client = await authenticated();
    expect(await client.command(`MAIL FROM:<${ANDREA}>`)).toEqual([
      '451 4.3.0 Temporary server error. Please try again later',
    ]);
    expect(await client.command(`MAIL FROM:<${ANDREA}>`)).toEqual(['250 2.1.0 Sender OK']);
    h.service.faults.failSmtp({
      count: 1,
      code: 421,
      text: '4.3.2 Service not available, closing transmission channel',
    });
    const other = await authenticated(MARCO);
    expect(await other.command(`MAIL FROM:<${MARCO}>`)).toEqual([
      '421 4.3.2 Service not available, closing transmission channel',
    ]);
    await expect(other.reply(500)).rejects.toThrow(/closed/);
    expect(h.service.faults.pending().smtpFailures).toBe(0);
  });
});

describe('nodemailer', () => {
  it('sends with XOAUTH2 over STARTTLS to inside, outside and Bcc recipients', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: h.smtpPort,
      secure: false,
      requireTLS: true,
      tls: { ca: h.ca, servername: 'localhost' },
      auth: { type: 'OAuth2', user: ANDREA, accessToken: h.tenant.userToken(ANDREA) },
    });
    const info = await transport.sendMail({
      from: `Andrea Rossi <${ANDREA}>`,
      to: 'customer@example.org',
      bcc: MARCO,
      subject: 'Your order',
      text: 'It has shipped.',
    });
    transport.close();
    expect(info.accepted).toEqual(['customer@example.org', MARCO]);
    expect(info.response).toMatch(new RegExp(`^250 2\\.0\\.0 OK <.+> \\[Hostname=${HOST}\\]$`));
    const delivered = h.service.store.mailbox(MARCO).wellKnown('inbox').messages.at(-1);
    expect(delivered?.content.header('subject')).toBe('Your order');
    expect(delivered?.content.header('bcc')).toBeUndefined();
    const copy = h.service.store.mailbox(ANDREA).wellKnown('sentitems').messages.at(-1);
    expect(copy?.content.header('message-id')).toBe(info.messageId);
    expect(h.service.router.sink.at(-1)?.recipients).toEqual(['customer@example.org']);
  });

  it('fails with the 535 5.7.3 text nodemailer reports when the token is refused', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: h.smtpPort,
      secure: false,
      requireTLS: true,
      tls: { ca: h.ca, servername: 'localhost' },
      auth: { type: 'OAuth2', user: ANDREA, accessToken: 'expired-token' },
    });
    await expect(transport.sendMail({ from: ANDREA, to: MARCO, text: 'x' })).rejects.toMatchObject({
      responseCode: 535,
      response: expect.stringMatching(/^535 5\.7\.3 Authentication unsuccessful/),
    });
    transport.close();
  });
});
