import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTOSO,
  authenticate,
  authenticatedProvider,
  createProvider,
  startPair,
  type Pair,
} from '../providers/helpers.js';
import { check, createAccount, diagnose, failures, sharedMailboxSetup } from './helpers.js';

const DAY_MS = 86_400_000;
let pair: Pair;

beforeAll(async () => {
  pair = await startPair();
});
afterAll(async () => pair.close());

/** Send As test messages the doctor submitted so far (the emulator records every submission). */
async function probesIn(delegate: string): Promise<number> {
  const { sent } = (await pair.emulator.control('GET', '/exchange/sent')) as {
    sent: Array<{ subject: string | null }>;
  };
  return sent.filter((record) => record.subject === `Postern check: ${delegate} can send as developers@contoso.com`)
    .length;
}

const putSecret = (providerId: number, clientSecret: string) =>
  pair.postern.app.inject({
    method: 'PUT',
    url: `/api/cloudProviders/${providerId}/clientSecret`,
    headers: { authorization: pair.admin },
    payload: { clientSecret },
  });

describe('the doctor names the cause and the remedy', () => {
  it('finds nothing wrong with a healthy shared mailbox', async () => {
    await sharedMailboxSetup(pair, 'OK');
    const before = await probesIn(CONTOSO.andrea.upn);
    const diagnosis = await diagnose(pair, 'account=OK');
    expect(failures(diagnosis)).toEqual([]);
    expect(diagnosis.ok).toBe(true);
    expect(check(diagnosis, 'account.imap').evidence).toContain('as developers@contoso.com with XOAUTH2');
    expect(check(diagnosis, 'account.identity').evidence).toContain(
      'the delegate of the shared mailbox developers@contoso.com',
    );
    expect(check(diagnosis, 'account.smtp').result).toBe('ok');
    // Looking sends nothing: Send As, which Exchange checks only on submission, waits to be asked.
    expect(check(diagnosis, 'account.send-as')).toMatchObject({ result: 'skipped' });
    expect(check(diagnosis, 'account.send-as').evidence).toContain('Send a test message');
    expect(await probesIn(CONTOSO.andrea.upn)).toBe(before);
    const asked = await diagnose(pair, 'account=OK', { sendTest: true });
    expect(check(asked, 'account.send-as').result).toBe('ok');
    expect(await probesIn(CONTOSO.andrea.upn)).toBe(before + 1);
  });

  it('refuses a parameter it does not know instead of diagnosing everything', async () => {
    const response = await pair.postern.app.inject({
      method: 'GET',
      url: '/api/diagnostics?accountId=1',
      headers: { authorization: pair.admin },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: { code: string } }>().error.code).toBe('VALIDATION_FAILED');
  });

  it('tells an expired secret from the secret ID pasted as its value', async () => {
    const { providerId } = await sharedMailboxSetup(pair, 'EXP');
    expect((await putSecret(providerId, CONTOSO.web.expiredSecret)).statusCode).toBe(200);
    const expired = check(await diagnose(pair, `provider=${providerId}`), 'provider.secret');
    expect(expired).toMatchObject({ result: 'failed', code: 'AUTH_SECRET_EXPIRED' });
    expect(expired.remedy).toMatch(/Update Client Secret/);

    expect((await putSecret(providerId, CONTOSO.web.expiredSecretId)).statusCode).toBe(200);
    const wrong = check(await diagnose(pair, `provider=${providerId}`), 'provider.secret');
    expect(wrong).toMatchObject({ result: 'failed', code: 'AUTH_SECRET_INVALID' });
    expect(wrong.remedy).toMatch(/secret ID was probably pasted instead of its value/);
  });

  it('names the missing IMAP.AccessAsUser.All permission', async () => {
    // marco@ signs in for the first time to a provider that does not ask for IMAP: he consents
    // to SMTP.Send only, and his tokens carry no IMAP permission.
    const providerId = await createProvider(pair, {
      scopes: ['https://outlook.office.com/SMTP.Send', 'offline_access', 'openid', 'profile', 'email'],
    });
    const signed = await authenticate(pair, providerId, {
      username: CONTOSO.marco.upn,
      password: CONTOSO.marco.password,
    });
    expect(signed.response.headers.location).toContain('authentication=success');
    await createAccount(pair, providerId, { name: 'No IMAP scope', key: 'NOSC', emailAddress: CONTOSO.marco.upn });
    const scopes = check(await diagnose(pair, 'account=NOSC'), 'account.scopes');
    expect(scopes.result).toBe('failed');
    expect(scopes.evidence).toContain('lacks IMAP.AccessAsUser.All');
    expect(scopes.remedy).toMatch(/add IMAP\.AccessAsUser\.All/);
  });

  it('names the missing FullAccess of the delegate on the shared mailbox', async () => {
    await sharedMailboxSetup(pair, 'NOFA');
    await pair.emulator.control(
      'DELETE',
      `/mailboxes/developers@contoso.com/delegates/${CONTOSO.andrea.id}?rights=FullAccess`,
    );
    try {
      const imap = check(await diagnose(pair, 'account=NOFA'), 'account.imap');
      expect(imap).toMatchObject({ result: 'failed', code: 'IMAP_NOT_CONNECTED' });
      expect(imap.remedy).toContain('Give andrea@contoso.com FullAccess on the shared mailbox developers@contoso.com');
    } finally {
      await pair.emulator.control('POST', '/mailboxes/developers@contoso.com/delegates', {
        user: CONTOSO.andrea.id,
        rights: ['FullAccess'],
      });
    }
  });

  it('names IMAP disabled for the mailbox', async () => {
    const { providerId } = await authenticatedProvider(pair);
    await createAccount(pair, providerId, { name: 'Andrea', key: 'NOIM', emailAddress: CONTOSO.andrea.upn });
    await pair.emulator.control('PATCH', '/mailboxes/andrea@contoso.com', { imapEnabled: false });
    try {
      const imap = check(await diagnose(pair, 'account=NOIM'), 'account.imap');
      expect(imap).toMatchObject({ result: 'failed', code: 'IMAP_NOT_CONNECTED' });
      expect(imap.remedy).toContain('IMAP is disabled for andrea@contoso.com');
    } finally {
      await pair.emulator.control('PATCH', '/mailboxes/andrea@contoso.com', { imapEnabled: true });
    }
  });

  it('names SMTP AUTH disabled for the tenant (535 5.7.139)', async () => {
    await sharedMailboxSetup(pair, 'NOSM');
    await pair.emulator.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { smtpAuthDisabledByDefault: true });
    await pair.emulator.control('PATCH', '/mailboxes/andrea@contoso.com', { smtpAuthEnabled: null });
    try {
      const smtp = check(await diagnose(pair, 'account=NOSM'), 'account.smtp');
      expect(smtp).toMatchObject({ result: 'failed', code: 'SMTP_AUTH_DISABLED' });
      expect(smtp.evidence).toContain('5.7.139');
      expect(smtp.remedy).toMatch(/SMTP AUTH/);
    } finally {
      await pair.emulator.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { smtpAuthDisabledByDefault: false });
      await pair.emulator.control('PATCH', '/mailboxes/andrea@contoso.com', { smtpAuthEnabled: true });
    }
  });

  it('names the missing Send As right of the delegate', async () => {
    await sharedMailboxSetup(pair, 'NOSA');
    await pair.emulator.control(
      'DELETE',
      `/mailboxes/developers@contoso.com/delegates/${CONTOSO.andrea.id}?rights=SendAs`,
    );
    try {
      const sendAs = check(await diagnose(pair, 'account=NOSA', { sendTest: true }), 'account.send-as');
      expect(sendAs).toMatchObject({ result: 'failed', code: 'SMTP_SEND_AS_DENIED' });
      expect(sendAs.remedy).toMatch(/Send As/);
    } finally {
      await pair.emulator.control('POST', '/mailboxes/developers@contoso.com/delegates', {
        user: CONTOSO.andrea.id,
        rights: ['SendAs'],
      });
    }
  });

  it('names a sign-in expired by inactivity (AADSTS700082)', async () => {
    await sharedMailboxSetup(pair, 'IDLE');
    pair.emulator.handle.clock.advance(91 * DAY_MS);
    const diagnosis = await diagnose(pair, 'account=IDLE');
    const token = check(diagnosis, 'account.token');
    expect(token).toMatchObject({ result: 'failed', code: 'AUTH_REAUTH_INACTIVE' });
    expect(token.evidence).toContain('AADSTS700082');
    expect(token.remedy).toMatch(/Authenticate the Cloud Provider again/);
  });
});

describe("Test connection runs the doctor's SMTP checks after IMAP", () => {
  type Step = { step: string; ok: boolean; detail: string; skipped?: boolean };
  type Tested = { ok: boolean; steps: Step[]; error: { code: string; message: string; remedy: string | null } | null };
  const testConnection = async (accountId: number, payload?: object) => {
    const response = await pair.postern.app.inject({
      method: 'POST',
      url: `/api/email/accounts/${accountId}/test`,
      headers: { authorization: pair.admin },
      ...(payload === undefined ? {} : { payload }),
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Tested>();
  };
  const step = (tested: Tested, name: string): Step => {
    const found = tested.steps.find((s) => s.step === name);
    if (found === undefined) throw new Error(`no step ${name} in ${tested.steps.map((s) => s.step).join(', ')}`);
    return found;
  };

  it('submits the Send As test message only when asked, and once', async () => {
    const { accountId } = await sharedMailboxSetup(pair, 'TC');
    const before = await probesIn(CONTOSO.andrea.upn);
    const looked = await testConnection(accountId);
    expect(looked).toMatchObject({ ok: true, error: null });
    expect(step(looked, 'smtp-auth')).toMatchObject({ ok: true });
    expect(step(looked, 'smtp-auth').detail).toContain(`as ${CONTOSO.andrea.upn} with XOAUTH2`);
    expect(step(looked, 'send-as')).toMatchObject({ ok: true, skipped: true });
    expect(step(looked, 'send-as').detail).toContain('Send a test message');
    expect(await testConnection(accountId, { sendTest: false })).toMatchObject({ ok: true });
    expect(await probesIn(CONTOSO.andrea.upn)).toBe(before);

    const sent = await testConnection(accountId, { sendTest: true });
    expect(sent).toMatchObject({ ok: true, error: null });
    expect(step(sent, 'send-as').skipped).toBeUndefined();
    expect(await probesIn(CONTOSO.andrea.upn)).toBe(before + 1);
  });

  it('refuses a body field it does not know', async () => {
    const { accountId } = await sharedMailboxSetup(pair, 'TCB');
    const response = await pair.postern.app.inject({
      method: 'POST',
      url: `/api/email/accounts/${accountId}/test`,
      headers: { authorization: pair.admin },
      payload: { sendtest: true },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: { code: string } }>().error.code).toBe('VALIDATION_FAILED');
  });

  it('fails on SMTP AUTH disabled for the tenant, with the IMAP steps passed and the remedy', async () => {
    const { accountId } = await sharedMailboxSetup(pair, 'TCSM');
    await pair.emulator.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { smtpAuthDisabledByDefault: true });
    await pair.emulator.control('PATCH', '/mailboxes/andrea@contoso.com', { smtpAuthEnabled: null });
    try {
      const tested = await testConnection(accountId);
      expect(tested.ok).toBe(false);
      expect(tested.steps.map((s) => [s.step, s.ok])).toEqual([
        ['grant', true],
        ['token', true],
        ['imap-login', true],
        ['folder', true],
        ['smtp-auth', false],
      ]);
      expect(step(tested, 'smtp-auth').detail).toContain('5.7.139');
      expect(tested.error?.code).toBe('SMTP_AUTH_DISABLED');
      expect(tested.error?.remedy).toMatch(/SMTP AUTH/);
    } finally {
      await pair.emulator.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { smtpAuthDisabledByDefault: false });
      await pair.emulator.control('PATCH', '/mailboxes/andrea@contoso.com', { smtpAuthEnabled: true });
    }
  });

  it('reports SMTP checks that throw as a failed SMTP AUTH step, not a server error', async () => {
    const { accountId } = await sharedMailboxSetup(pair, 'TCX');
    const tester = pair.postern.runtime.services.mailboxTest;
    const probe = tester.smtpProbe;
    tester.smtpProbe = () => Promise.reject(new Error('a fault of ours'));
    try {
      const tested = await testConnection(accountId);
      expect(tested.ok).toBe(false);
      expect(step(tested, 'folder').ok).toBe(true);
      expect(step(tested, 'smtp-auth').ok).toBe(false);
      expect(tested.error?.code).toBe('INTERNAL');
      expect(JSON.stringify(tested)).not.toContain('a fault of ours');
    } finally {
      tester.smtpProbe = probe;
    }
  });

  it("fails on the delegate's missing Send As right only when the test message is asked for", async () => {
    const { accountId } = await sharedMailboxSetup(pair, 'TCSA');
    await pair.emulator.control(
      'DELETE',
      `/mailboxes/developers@contoso.com/delegates/${CONTOSO.andrea.id}?rights=SendAs`,
    );
    try {
      expect(await testConnection(accountId)).toMatchObject({ ok: true });
      const tested = await testConnection(accountId, { sendTest: true });
      expect(tested.ok).toBe(false);
      expect(step(tested, 'smtp-auth').ok).toBe(true);
      expect(step(tested, 'send-as')).toMatchObject({ ok: false });
      expect(tested.error?.code).toBe('SMTP_SEND_AS_DENIED');
      expect(tested.error?.remedy).toMatch(/Send As/);
    } finally {
      await pair.emulator.control('POST', '/mailboxes/developers@contoso.com/delegates', {
        user: CONTOSO.andrea.id,
        rights: ['SendAs'],
      });
    }
  });
});
