import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from '../helpers/until.js';
import { customerMessage, startInteropHarness, type InteropHarness } from './helpers/harness.js';

/**
 * An account of service `imap` (a username and password, Modern Authentication off) on a real
 * Dovecot (IMAP over implicit TLS) and a real Postfix (submission, STARTTLS, SASL through
 * Dovecot), whose certificates a private CA signed: trusted through the PEM stored on the
 * account, not NODE_EXTRA_CA_CERTS (which this process does not have for that CA).
 */
const USER = 'support@company.example';
const PASSWORD = 'support password on dovecot';

let h: InteropHarness;
let accountId: number;

const accountReply = z.object({
  id: z.number(),
  status: z.string(),
  lastError: z.object({ code: z.string(), message: z.string(), remedy: z.string().nullable() }).nullable(),
  tlsCa: z.array(z.object({ fingerprintSha256: z.string(), subject: z.string(), notAfter: z.string() })),
});
const interactionsReply = z.object({ items: z.array(z.object({ id: z.number(), subject: z.string() })) });

const account = async () => accountReply.parse((await h.api('GET', `/api/email/accounts/${accountId}`)).json());

beforeAll(async () => {
  h = await startInteropHarness({ [USER]: PASSWORD });
});
afterAll(async () => {
  await h?.close();
});

describe('a password account on Dovecot and Postfix with a private CA', () => {
  it('refuses a CA field that holds no certificate, and without the CA the server is not trusted', async () => {
    const junk = await h.api('POST', '/api/email/accounts', {
      name: 'Support',
      key: 'SUP',
      emailAddress: USER,
      username: USER,
      service: 'imap',
      modernAuth: false,
      password: PASSWORD,
      imapHost: '127.0.0.1',
      imapPort: h.servers.imapsPort,
      tlsCaPem: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n',
    });
    expect(junk.statusCode, junk.body).toBe(400);
    expect(junk.body).toContain('tlsCaPem');

    const created = await h.api('POST', '/api/email/accounts', {
      name: 'Support',
      key: 'SUP',
      emailAddress: USER,
      username: USER,
      service: 'imap',
      modernAuth: false,
      password: PASSWORD,
      imapHost: '127.0.0.1',
      imapPort: h.servers.imapsPort,
      smtpHost: '127.0.0.1',
      smtpPort: h.servers.submissionPort,
      firstSync: { kind: 'all' },
    });
    expect(created.statusCode, created.body).toBe(201);
    accountId = accountReply.parse(created.json()).id;
    const test = await h.api('POST', `/api/email/accounts/${accountId}/test`);
    expect(test.json(), h.servers.logs()).toMatchObject({ ok: false, error: { code: 'IMAP_TLS_FAILED' } });
  });

  it('trusts the CA stored on the account, shown by fingerprint and subject, and connects', async () => {
    const patched = await h.api('PATCH', `/api/email/accounts/${accountId}`, { tlsCaPem: h.servers.caPem });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.body).not.toContain('BEGIN CERTIFICATE');
    const shown = accountReply.parse(patched.json()).tlsCa;
    expect(shown).toHaveLength(1);
    expect(shown[0]?.fingerprintSha256).toMatch(/^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$/);
    expect(shown[0]?.subject).toContain('CN=');
    await until('connected', async () => ((await account()).status === 'connected' ? true : undefined), 30_000).catch(
      async (error: unknown) => {
        throw new Error(`${String(error)} ${JSON.stringify(await account())}${h.servers.logs()}`);
      },
    );
    const test = await h.api('POST', `/api/email/accounts/${accountId}/test`);
    expect(test.json(), h.servers.logs()).toMatchObject({ ok: true, error: null });
  });

  it('reads a message from Dovecot into a conversation and sends the reply through Postfix', async () => {
    await h.servers.append(
      USER,
      PASSWORD,
      customerMessage({
        to: USER,
        subject: 'Printer on fire',
        messageId: '<printer@customer.example>',
        text: 'It smells of toner.',
      }),
    );
    const conversation = await until(
      'the conversation',
      async () => {
        const list = interactionsReply.parse(
          (await h.api('GET', `/api/email/accounts/${accountId}/interactions`)).json(),
        );
        return list.items.find((item) => item.subject === 'Printer on fire');
      },
      30_000,
    );
    const queued = await h.api('POST', `/api/interactions/${conversation.id}/reply`, {
      text: 'A technician is on the way.',
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const delivered = await until(
      'the reply relayed by Postfix',
      async () => h.servers.sunk.find((message) => message.subject?.startsWith('Re: Printer on fire') === true),
      30_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)} ${JSON.stringify(h.servers.sunk.map((m) => m.subject))}${h.servers.logs()}`);
    });
    expect(delivered.envelopeFrom).toBe(USER);
    expect(delivered.recipients).toEqual(['carla@customer.example']);
    expect(delivered.inReplyTo).toBe('<printer@customer.example>');
    // Postfix's own trace header: the message really passed through it.
    expect(delivered.raw).toContain('by postfix.interop.test');
  });
});
