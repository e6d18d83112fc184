/**
 * The emulator's basic-authentication switch, over real sockets with Postern's clients (imapflow,
 * nodemailer) and raw transcripts: off (the default), passwords are refused exactly as Exchange
 * Online refuses them; on (`PUT /_emulator/exchange/settings/basic-auth`), a sample-tenant user's
 * password opens their own mailbox on IMAP and submits on SMTP, as a server with passwords would.
 */
import { ImapFlow } from 'imapflow';
import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { encodeSaslPlain } from '../../emulator/exchange/sasl-plain.js';
import { CONTOSO, startExchangeEmulator, type ExchangeEmulator } from './helpers/emulator-exchange.js';
import { RawClient } from './helpers/raw-client.js';
import { SmtpRawClient } from './helpers/smtp-raw-client.js';

const ANDREA = CONTOSO.andrea;
const MARCO = CONTOSO.marco;
const SETTINGS = '/exchange/settings/basic-auth';
let x: ExchangeEmulator;
const flows: ImapFlow[] = [];
const raws: Array<RawClient | SmtpRawClient> = [];
const transports: Transporter[] = [];

const settings = z.object({ imap: z.boolean(), smtp: z.boolean() }).strict();
const messageList = z.object({
  messages: z.array(z.object({ uid: z.number(), subject: z.string().nullable(), from: z.string().nullable() })),
});

function imapflow(auth: { user: string; pass: string; loginMethod?: string }): ImapFlow {
  const flow = new ImapFlow({
    host: '127.0.0.1',
    port: x.imapPort,
    secure: true,
    tls: { ca: x.ca, servername: 'localhost' },
    auth,
    logger: false,
    disableAutoIdle: true,
  });
  flows.push(flow);
  return flow;
}

function smtp(auth: { user: string; pass: string }, authMethod?: 'PLAIN' | 'LOGIN'): Transporter {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: x.smtpPort,
    secure: false,
    requireTLS: true,
    tls: { ca: x.ca, servername: 'localhost' },
    auth,
    ...(authMethod === undefined ? {} : { authMethod }),
  });
  transports.push(transport);
  return transport;
}

/** A raw IMAP session, greeting read. */
async function imapRaw(): Promise<RawClient> {
  const client = await RawClient.connect(x.imapPort, x.ca);
  raws.push(client);
  await client.line();
  return client;
}

/** A raw SMTP session after STARTTLS and the second EHLO; returns that EHLO reply too. */
async function smtpRaw(): Promise<{ client: SmtpRawClient; ehlo: string[] }> {
  const client = await SmtpRawClient.connect(x.smtpPort);
  raws.push(client);
  await client.reply();
  await client.command('EHLO client.example');
  await client.startTls(x.ca);
  return { client, ehlo: await client.command('EHLO client.example') };
}

async function put(body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await x.emu.handle.control('PUT', SETTINGS, body);
  return { status: response.status, body: await response.json() };
}

async function inboxSubjects(address: string): Promise<Array<string | null>> {
  return messageList
    .parse(await x.emu.control('GET', `/exchange/mailboxes/${address}/folders/Inbox/messages`))
    .messages.map((m) => m.subject);
}

beforeAll(async () => {
  x = await startExchangeEmulator();
});

afterEach(async () => {
  for (const flow of flows.splice(0)) await flow.logout().catch(() => flow.close());
  for (const client of raws.splice(0)) client.close();
  for (const transport of transports.splice(0)) transport.close();
});

afterAll(() => x.stop());

describe('basic authentication off (the default, as Exchange Online)', () => {
  let capabilityOff: string[];

  it('reports both protocols off', async () => {
    expect(settings.parse(await x.emu.control('GET', SETTINGS))).toEqual({ imap: false, smtp: false });
  });

  it('refuses IMAP LOGIN and AUTHENTICATE PLAIN (SASL-IR and continuation) with the exact texts', async () => {
    const client = await imapRaw();
    capabilityOff = await client.command('c0', 'CAPABILITY');
    expect(await client.command('a1', `LOGIN ${ANDREA.upn} "${ANDREA.password}"`)).toEqual(['a1 NO LOGIN failed.']);
    expect(await client.command('a2', `AUTHENTICATE PLAIN ${encodeSaslPlain(ANDREA.upn, ANDREA.password)}`)).toEqual([
      'a2 NO AUTHENTICATE failed.',
    ]);
    client.send('a3 AUTHENTICATE PLAIN');
    expect(await client.line()).toBe('+ ');
    client.send(encodeSaslPlain(ANDREA.upn, ANDREA.password));
    expect(await client.until('a3')).toEqual(['a3 NO AUTHENTICATE failed.']);
    await expect(imapflow({ user: ANDREA.upn, pass: ANDREA.password }).connect()).rejects.toMatchObject({
      authenticationFailed: true,
    });
  });

  it('advertises the same capabilities as Exchange Online, AUTH=PLAIN included', () => {
    expect(capabilityOff).toEqual([
      '* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+',
      'c0 OK CAPABILITY completed.',
    ]);
  });

  it('refuses SMTP AUTH PLAIN as unknown and AUTH LOGIN as basic authentication; EHLO offers LOGIN and XOAUTH2', async () => {
    const { client, ehlo } = await smtpRaw();
    expect(ehlo).toContain('250-AUTH LOGIN XOAUTH2');
    expect(await client.command(`AUTH PLAIN ${encodeSaslPlain(ANDREA.upn, ANDREA.password)}`)).toEqual([
      '504 5.7.4 Unrecognized authentication type',
    ]);
    expect(await client.command('AUTH PLAIN')).toEqual(['504 5.7.4 Unrecognized authentication type']);
    expect(await client.command(`AUTH LOGIN ${Buffer.from(ANDREA.upn).toString('base64')}`)).toEqual([
      '334 UGFzc3dvcmQ6',
    ]);
    expect(await client.command(Buffer.from(ANDREA.password).toString('base64'))).toEqual([
      '535 5.7.139 Authentication unsuccessful, basic authentication is disabled.',
    ]);
    await expect(
      smtp({ user: ANDREA.upn, pass: ANDREA.password }).sendMail({ from: ANDREA.upn, to: MARCO.upn, text: 'x' }),
    ).rejects.toMatchObject({
      code: 'EAUTH',
      response: '535 5.7.139 Authentication unsuccessful, basic authentication is disabled.',
    });
  });
});

describe('the control route', () => {
  it('rejects a bad body with 400 in the control API error shape, leaving the settings as they were', async () => {
    for (const body of [{ imap: 'yes' }, { imap: true, smpt: true }, ['imap'], 'on']) {
      const response = await put(body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { code: 'invalid', message: expect.any(String) } });
    }
    const empty = await x.emu.handle.control('PUT', SETTINGS);
    expect(empty.status).toBe(400);
    expect(settings.parse(await x.emu.control('GET', SETTINGS))).toEqual({ imap: false, smtp: false });
  });

  it('changes only the protocols named, and returns the resulting settings', async () => {
    expect(await put({ smtp: true })).toEqual({ status: 200, body: { imap: false, smtp: true } });
    expect(await put({})).toEqual({ status: 200, body: { imap: false, smtp: true } });
    expect(await put({ imap: true, smtp: true })).toEqual({ status: 200, body: { imap: true, smtp: true } });
    expect(settings.parse(await x.emu.control('GET', SETTINGS))).toEqual({ imap: true, smtp: true });
  });
});

describe('basic authentication on for IMAP', () => {
  it('logs imapflow in with AUTHENTICATE PLAIN, opens INBOX, sees delivered mail and gets EXISTS in IDLE', async () => {
    await x.emu.control('POST', '/exchange/messages', { to: ANDREA.upn, subject: 'Before login', text: 'waiting' });
    const flow = imapflow({ user: ANDREA.upn, pass: ANDREA.password });
    await flow.connect();
    expect(flow.authenticated).toBe(true);
    const before = (await flow.mailboxOpen('INBOX')).exists;
    const subjects: string[] = [];
    for await (const message of flow.fetch('1:*', { envelope: true })) subjects.push(message.envelope?.subject ?? '');
    expect(subjects).toContain('Before login');
    const exists = new Promise<number>((resolve) =>
      flow.on('exists', (event: { count: number }) => resolve(event.count)),
    );
    const idling = flow.idle();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await x.emu.control('POST', '/exchange/messages', { to: ANDREA.upn, subject: 'During IDLE', text: 'new' });
    expect(await exists).toBe(before + 1);
    await flow.messageFlagsAdd({ uid: '1:*' }, ['\\Seen'], { uid: true });
    await idling;
  });

  it("logs imapflow in with LOGIN and with an explicit AUTH=PLAIN, also by an alias of the user's mailbox", async () => {
    await x.emu.control('PATCH', `/mailboxes/${ANDREA.upn}`, { aliases: ['andrea.rossi@contoso.com'] });
    for (const auth of [
      { user: ANDREA.upn, pass: ANDREA.password, loginMethod: 'LOGIN' },
      { user: ANDREA.upn, pass: ANDREA.password, loginMethod: 'AUTH=PLAIN' },
      { user: 'Andrea.Rossi@contoso.com', pass: ANDREA.password, loginMethod: 'LOGIN' },
    ]) {
      const flow = imapflow(auth);
      await flow.connect();
      expect(await flow.status('INBOX', { messages: true })).toMatchObject({ messages: expect.any(Number) });
      await flow.logout();
    }
  });

  it('answers raw LOGIN and AUTHENTICATE PLAIN (SASL-IR, continuation, authzid) with Exchange texts; CAPABILITY is unchanged', async () => {
    const client = await imapRaw();
    expect(await client.command('c0', 'CAPABILITY')).toEqual([
      '* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+',
      'c0 OK CAPABILITY completed.',
    ]);
    expect(
      await client.command(
        'a1',
        `AUTHENTICATE PLAIN ${encodeSaslPlain(ANDREA.upn, ANDREA.password, 'developers@contoso.com')}`,
      ),
    ).toEqual(['a1 NO AUTHENTICATE failed.']);
    client.send('a2 AUTHENTICATE PLAIN');
    expect(await client.line()).toBe('+ ');
    client.send(encodeSaslPlain(ANDREA.upn, ANDREA.password, ANDREA.upn));
    expect(await client.until('a2')).toEqual(['a2 OK AUTHENTICATE completed.']);
    expect((await client.command('a3', 'SELECT INBOX')).at(-1)).toBe('a3 OK [READ-WRITE] SELECT completed.');
    const login = await imapRaw();
    expect(await login.command('b1', `LOGIN ${MARCO.upn} "${MARCO.password}"`)).toEqual(['b1 OK LOGIN completed.']);
    expect((await login.command('b2', 'SELECT INBOX')).at(-1)).toBe('b2 OK [READ-WRITE] SELECT completed.');
  });

  it('refuses a wrong password, an unknown user, a disabled user, a user without mailbox and a shared mailbox', async () => {
    const client = await imapRaw();
    const attempts: Array<[string, string]> = [
      [ANDREA.upn, 'Andrea#2024'],
      ['nobody@contoso.com', ANDREA.password],
      [CONTOSO.luca.upn, CONTOSO.luca.password],
      [CONTOSO.admin.upn, CONTOSO.admin.password],
      ['developers@contoso.com', ANDREA.password],
    ];
    let tag = 0;
    for (const [user, password] of attempts) {
      tag += 1;
      expect(await client.command(`l${tag}`, `LOGIN ${user} "${password}"`)).toEqual([`l${tag} NO LOGIN failed.`]);
      expect(await client.command(`p${tag}`, `AUTHENTICATE PLAIN ${encodeSaslPlain(user, password)}`)).toEqual([
        `p${tag} NO AUTHENTICATE failed.`,
      ]);
    }
    await expect(imapflow({ user: ANDREA.upn, pass: 'wrong' }).connect()).rejects.toMatchObject({
      authenticationFailed: true,
    });
  });

  it('refuses the same way when IMAP is disabled on the mailbox', async () => {
    await x.emu.control('PATCH', `/mailboxes/${MARCO.upn}`, { imapEnabled: false });
    try {
      const client = await imapRaw();
      expect(await client.command('a1', `LOGIN ${MARCO.upn} "${MARCO.password}"`)).toEqual(['a1 NO LOGIN failed.']);
      expect(await client.command('a2', `AUTHENTICATE PLAIN ${encodeSaslPlain(MARCO.upn, MARCO.password)}`)).toEqual([
        'a2 NO AUTHENTICATE failed.',
      ]);
    } finally {
      await x.emu.control('PATCH', `/mailboxes/${MARCO.upn}`, { imapEnabled: true });
    }
  });

  it('keeps a password session past any token lifetime (no AccessTokenExpired)', async () => {
    const client = await imapRaw();
    expect(await client.command('a1', `LOGIN ${ANDREA.upn} "${ANDREA.password}"`)).toEqual(['a1 OK LOGIN completed.']);
    await client.command('a2', 'SELECT INBOX');
    await x.emu.control('POST', '/clock', { advanceDays: 2 });
    try {
      await x.emu.control('POST', '/exchange/clock-changed');
      expect((await client.command('a3', 'NOOP')).at(-1)).toBe('a3 OK NOOP completed.');
      expect(client.closed).toBe(false);
    } finally {
      await x.emu.control('POST', '/clock', { reset: true });
    }
  });
});

describe('basic authentication on for SMTP', () => {
  it('submits with nodemailer (PLAIN, then LOGIN) into another emulated mailbox', async () => {
    const plain = smtp({ user: ANDREA.upn, pass: ANDREA.password });
    await expect(
      plain.sendMail({ from: ANDREA.upn, to: MARCO.upn, subject: 'Basic PLAIN to Marco', text: 'Hello Marco' }),
    ).resolves.toMatchObject({ accepted: [MARCO.upn] });
    const login = smtp({ user: ANDREA.upn, pass: ANDREA.password }, 'LOGIN');
    await expect(
      login.sendMail({ from: ANDREA.upn, to: MARCO.upn, subject: 'Basic LOGIN to Marco', text: 'Hello again' }),
    ).resolves.toMatchObject({ accepted: [MARCO.upn] });
    expect(await inboxSubjects(MARCO.upn)).toEqual(
      expect.arrayContaining(['Basic PLAIN to Marco', 'Basic LOGIN to Marco']),
    );
    const sent = z.object({
      sent: z.array(
        z.object({ mailbox: z.string(), subject: z.string().nullable(), sentItemsUid: z.number().nullable() }),
      ),
    });
    const records = sent.parse(await x.emu.control('GET', `/exchange/sent?mailbox=${ANDREA.upn}`)).sent;
    expect(records.filter((r) => r.subject?.startsWith('Basic ') === true)).toHaveLength(2);
  });

  it('offers AUTH PLAIN in EHLO, answers raw PLAIN with 235, and refuses wrong credentials with 535 5.7.3', async () => {
    const { client, ehlo } = await smtpRaw();
    expect(ehlo).toContain('250-AUTH LOGIN PLAIN XOAUTH2');
    expect((await client.command(`AUTH PLAIN ${encodeSaslPlain(ANDREA.upn, 'wrong')}`))[0]).toMatch(
      /^535 5\.7\.3 Authentication unsuccessful \[/,
    );
    expect((await client.command(`AUTH PLAIN ${encodeSaslPlain(ANDREA.upn, ANDREA.password, MARCO.upn)}`))[0]).toMatch(
      /^535 5\.7\.3 /,
    );
    expect(await client.command(`AUTH PLAIN ${encodeSaslPlain(ANDREA.upn, ANDREA.password)}`)).toEqual([
      '235 2.7.0 Authentication successful',
    ]);
    await expect(smtp({ user: CONTOSO.luca.upn, pass: CONTOSO.luca.password }).verify()).rejects.toMatchObject({
      code: 'EAUTH',
      responseCode: 535,
    });
  });

  it('applies Send As as for the user: own and delegated addresses pass, others get SendAsDenied', async () => {
    const andrea = smtp({ user: ANDREA.upn, pass: ANDREA.password });
    await expect(
      andrea.sendMail({ from: 'developers@contoso.com', to: MARCO.upn, subject: 'From the team', text: 'x' }),
    ).resolves.toMatchObject({ accepted: [MARCO.upn] });
    const marco = smtp({ user: MARCO.upn, pass: MARCO.password });
    await expect(marco.sendMail({ from: 'developers@contoso.com', to: ANDREA.upn, text: 'x' })).rejects.toMatchObject({
      responseCode: 554,
      response: expect.stringContaining('5.2.252 SendAsDenied'),
    });
  });

  it("keeps the mailbox's SMTP AUTH setting: off gives 535 5.7.139", async () => {
    await x.emu.control('PATCH', `/mailboxes/${MARCO.upn}`, { smtpAuthEnabled: false });
    try {
      await expect(smtp({ user: MARCO.upn, pass: MARCO.password }).verify()).rejects.toMatchObject({
        responseCode: 535,
        response:
          '535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.',
      });
    } finally {
      await x.emu.control('PATCH', `/mailboxes/${MARCO.upn}`, { smtpAuthEnabled: null });
    }
  });

  it('switched off again for SMTP alone: SMTP refuses as Exchange Online while IMAP still takes passwords', async () => {
    expect(await put({ smtp: false })).toEqual({ status: 200, body: { imap: true, smtp: false } });
    await expect(smtp({ user: ANDREA.upn, pass: ANDREA.password }).verify()).rejects.toMatchObject({
      response: '535 5.7.139 Authentication unsuccessful, basic authentication is disabled.',
    });
    const flow = imapflow({ user: ANDREA.upn, pass: ANDREA.password });
    await flow.connect();
    expect(flow.authenticated).toBe(true);
  });
});
