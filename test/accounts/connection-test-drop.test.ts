import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTOSO, authenticatedProvider, startPair, type Pair } from '../providers/helpers.js';

/**
 * The connection test (`POST /api/email/accounts/:id/test`, `postern accounts test`) when Exchange
 * resets the connection right after a successful sign-in. imapflow reports a reset of an open
 * session as an 'error' event; a client built without a listener for it ends the whole process
 * (here: vitest's worker fails the run with an unhandled error). The mailbox-access layer's
 * factory always attaches one, and the answer names the failure with its remedy.
 */
let pair: Pair;
let accountId: number;

beforeAll(async () => {
  pair = await startPair();
  const { providerId } = await authenticatedProvider(pair);
  const created = await pair.postern.app.inject({
    method: 'POST',
    url: '/api/email/accounts',
    headers: { authorization: pair.admin },
    payload: {
      name: 'Andrea',
      key: 'AND',
      emailAddress: CONTOSO.andrea.upn,
      username: CONTOSO.andrea.upn,
      providerId,
      imapHost: '127.0.0.1',
      imapPort: Number(new URL(pair.emulator.handle.urls.imap ?? '').port),
      // The test checks SMTP AUTH too: at the emulator, never at smtp.office365.com (loopback only).
      smtpHost: '127.0.0.1',
      smtpPort: Number(new URL(pair.emulator.handle.urls.smtp ?? '').port),
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  accountId = created.json<{ id: number }>().id;
});
afterAll(async () => {
  await pair?.close();
});

interface Answer {
  ok: boolean;
  steps: Array<{ step: string; ok: boolean; detail: string }>;
  error: { code: string; message: string; remedy: string | null } | null;
}

async function testConnection(): Promise<Answer> {
  const response = await pair.postern.app.inject({
    method: 'POST',
    url: `/api/email/accounts/${accountId}/test`,
    headers: { authorization: pair.admin },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<Answer>();
}

async function pendingDrops(): Promise<number> {
  const faults = (await pair.emulator.control('GET', '/exchange/faults')) as { imapDropAfterLogin: number };
  return faults.imapDropAfterLogin;
}

describe('the connection test when the server drops the connection right after the sign-in', () => {
  it('survives a reset once the session is set up, and reports the folder step failed with its remedy', async () => {
    await pair.emulator.control('POST', '/exchange/faults/imap/drop-after-login', {
      mailbox: CONTOSO.andrea.upn,
      command: 'EXAMINE',
    });
    const answer = await testConnection();
    expect(await pendingDrops()).toBe(0);
    expect(answer.ok).toBe(false);
    expect(answer.steps.map((s) => [s.step, s.ok])).toEqual([
      ['grant', true],
      ['token', true],
      ['imap-login', true],
      ['folder', false],
    ]);
    expect(answer.error).toMatchObject({
      code: 'IMAP_CONNECTION_FAILED',
      remedy: expect.stringMatching(/reconnects by itself.*check the host, the port and the network path/),
    });
  });

  it('survives a reset at the first command after the sign-in, and reports the sign-in step failed', async () => {
    await pair.emulator.control('POST', '/exchange/faults/imap/drop-after-login', { mailbox: CONTOSO.andrea.upn });
    const answer = await testConnection();
    expect(await pendingDrops()).toBe(0);
    expect(answer.ok).toBe(false);
    expect(answer.steps.at(-1)).toMatchObject({ step: 'imap-login', ok: false });
    expect(answer.error?.code).toBe('IMAP_CONNECTION_FAILED');
    expect(answer.error?.remedy).toBeTruthy();
  });

  it('still answers afterwards: the process is alive and the next test connects', async () => {
    const health = await pair.postern.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    const answer = await testConnection();
    expect(answer).toMatchObject({ ok: true, error: null });
    expect(answer.steps.map((s) => s.step)).toEqual(['grant', 'token', 'imap-login', 'folder', 'smtp-auth']);
  });

  it("logs the sessions' IMAP exchange under the account, without the XOAUTH2 string", () => {
    const log = pair.postern.logText();
    expect(log).toMatch(/"component":"mailbox-test".*"key":"AND"/);
    // base64 of "user=", how every SASL XOAUTH2 initial response begins.
    expect(log).not.toContain('dXNlcj1');
  });
});
