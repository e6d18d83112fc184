/**
 * The SMTP submitter against a plain smtp-server on loopback (the emulator suites cover XOAUTH2
 * with Exchange's replies): STARTTLS is required, the raw message and the envelope go out
 * unchanged, pools are reused per account and replaced when their settings change, and a
 * temporary refusal is reported once — nodemailer does not re-queue behind the outbox's back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { isPosternError } from '../../src/errors/index.js';
import { SmtpSubmitter, type SubmissionRequest } from '../../src/mail/smtp/submission.js';
import { selfSignedCertificate } from '../exchange/helpers/self-signed.js';

interface Received {
  user: string;
  from: string;
  to: string[];
  raw: string;
  secure: boolean;
}

const received: Received[] = [];
let mailFromCount = 0;
let refuseNext = 0;
let connections = 0;
let server: SMTPServer;
let port: number;
const cert = selfSignedCertificate();

beforeAll(async () => {
  server = new SMTPServer({
    key: cert.key,
    cert: cert.cert,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    disableReverseLookup: true,
    onConnect: (_session, callback) => {
      connections += 1;
      callback();
    },
    onAuth: (auth, _session, callback) => {
      if (auth.password === 'right') callback(null, { user: auth.username });
      else callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    onMailFrom: (_address, _session, callback) => {
      mailFromCount += 1;
      if (refuseNext > 0) {
        refuseNext -= 1;
        callback(Object.assign(new Error('4.3.0 Try again later'), { responseCode: 451 }));
      } else callback();
    },
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          user: typeof session.user === 'string' ? session.user : '',
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
        });
        callback(null, 'Queued as 42');
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  port = address.port;
});

afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

function request(overrides: Partial<SubmissionRequest> = {}): SubmissionRequest {
  return {
    poolKey: 'account:1',
    endpoint: { host: '127.0.0.1', port, ca: cert.cert },
    credentials: { kind: 'password', user: 'support@example.org', password: 'right' },
    maxConnections: 2,
    envelope: { from: 'support@example.org', to: ['a@example.net', 'hidden@example.net'] },
    raw: Buffer.from(
      'From: Support <support@example.org>\r\nTo: a@example.net\r\nSubject: Hi\r\n\r\n.leading dot\r\nbye\r\n',
    ),
    ...overrides,
  };
}

describe('SmtpSubmitter', () => {
  it('submits the raw message unchanged over STARTTLS with the given envelope', async () => {
    const submitter = new SmtpSubmitter();
    const result = await submitter.submit(request());
    expect(result).toMatchObject({
      response: expect.stringContaining('250'),
      accepted: ['a@example.net', 'hidden@example.net'],
      rejected: [],
    });
    const last = received.at(-1);
    expect(last).toMatchObject({
      user: 'support@example.org',
      from: 'support@example.org',
      to: ['a@example.net', 'hidden@example.net'],
      secure: true,
    });
    expect(last?.raw).toBe(request().raw.toString('utf8'));
    submitter.close();
  });

  it('reuses one pool per account and replaces it when its settings change', async () => {
    const submitter = new SmtpSubmitter();
    const before = connections;
    await submitter.submit(request());
    await submitter.submit(request());
    expect(connections - before).toBe(1);
    await submitter.submit(request({ maxConnections: 3 }));
    expect(connections - before).toBe(2);
    await submitter.submit(request({ poolKey: 'account:2' }));
    expect(submitter.poolCount).toBe(2);
    submitter.close();
    expect(submitter.poolCount).toBe(0);
  });

  it('reports a temporary refusal once, without re-queuing it, and a wrong password as a sign-in failure', async () => {
    const submitter = new SmtpSubmitter();
    refuseNext = 1;
    const before = mailFromCount;
    const temporary = await submitter.submit(request()).catch((e: unknown) => e);
    expect(isPosternError(temporary, 'SMTP_TEMPORARY_FAILURE')).toBe(true);
    expect(mailFromCount - before).toBe(1);
    const denied = await submitter
      .submit(
        request({ poolKey: 'account:3', credentials: { kind: 'password', user: 'x@example.org', password: 'wrong' } }),
      )
      .catch((e: unknown) => e);
    expect(isPosternError(denied, 'SMTP_AUTH_FAILED') && denied.details).toMatchObject({
      responseCode: 535,
      login: 'x@example.org',
    });
    submitter.close();
  });

  it('refuses a server whose certificate it does not trust', async () => {
    const submitter = new SmtpSubmitter();
    const error = await submitter
      .submit(request({ poolKey: 'account:4', endpoint: { host: '127.0.0.1', port, ca: null } }))
      .catch((e: unknown) => e);
    expect(isPosternError(error, 'SMTP_TLS_FAILED') && error.kind).toBe('needs-admin');
    submitter.close();
  });
});
