/**
 * App-only accounts over IMAP and SMTP (issue 14 point 5, issue 15 point 6): a provider signing in
 * with a certificate and client credentials, no delegate, reads and sends as the shared mailbox
 * through the Exchange service principal. When Exchange does not know the service principal, or
 * knows it under the app registration's object id, IMAP answers `NO AUTHENTICATE failed.` (as in
 * field reports, not "authenticated but not connected"), and Postern names the remedy with the app
 * id and the Enterprise application's object id; missing admin consent and missing roles too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTOSO, createProvider, startPair, type Pair } from '../providers/helpers.js';
import { check, createAccount, diagnose, failures } from './helpers.js';

let pair: Pair;
let accountId: number;
let servicePrincipalId: string;
let appObjectId: string;

const api = (method: 'GET' | 'POST' | 'PUT', url: string, payload: unknown = {}) =>
  pair.postern.app.inject({
    method,
    url,
    headers: { authorization: pair.admin },
    ...(method === 'GET' ? {} : { payload: payload as Record<string, unknown> }),
  });

/** A client-credentials provider for an app, with a generated certificate uploaded to the app, signed in. */
async function appOnlyProvider(appId: string): Promise<number> {
  const providerId = await createProvider(pair, {
    applicationId: appId,
    grantType: 'client_credentials',
    clientSecret: undefined,
    clientSecretExpiresAt: undefined,
    clientCertificate: { generate: true },
  });
  const certificate = (await api('GET', `/api/cloudProviders/${providerId}/clientCertificate`)).body;
  await pair.emulator.control('POST', `/apps/${appId}/certificates`, { certificate });
  const signedIn = await api('POST', `/api/cloudProviders/${providerId}/authenticate`);
  expect(signedIn.statusCode, signedIn.body).toBe(200);
  return providerId;
}

beforeAll(async () => {
  pair = await startPair();
  const providerId = await appOnlyProvider(CONTOSO.daemon.appId);
  accountId = await createAccount(pair, providerId, {
    name: 'Developers (app-only)',
    key: 'APPO',
    emailAddress: 'developers@contoso.com',
    username: 'developers@contoso.com',
  });
  const app = (await pair.emulator.control('GET', '/apps')) as Array<{
    appId: string;
    objectId: string;
    servicePrincipalId: string;
  }>;
  const daemon = app.find((a) => a.appId === CONTOSO.daemon.appId);
  if (daemon === undefined) throw new Error('no daemon app');
  servicePrincipalId = daemon.servicePrincipalId;
  appObjectId = daemon.objectId;
});
afterAll(async () => pair.close());

/** Runs `fn` with the daemon's Exchange service principal as given, then registers it rightly again. */
async function withServicePrincipal(objectId: string | null, fn: () => Promise<void>): Promise<void> {
  const path = `/tenants/${CONTOSO.tenantId}/exchange/service-principals`;
  if (objectId === null) await pair.emulator.control('DELETE', `${path}/${CONTOSO.daemon.appId}`);
  else await pair.emulator.control('POST', path, { appId: CONTOSO.daemon.appId, objectId });
  try {
    await fn();
  } finally {
    await pair.emulator.control('POST', path, { appId: CONTOSO.daemon.appId, objectId: servicePrincipalId });
  }
}

describe('an app-only account (certificate, no delegate)', () => {
  it('signs in to IMAP and to SMTP as the shared mailbox: the connection test and the doctor find nothing wrong', async () => {
    const test = await api('POST', `/api/email/accounts/${accountId}/test`);
    expect(test.json(), test.body).toMatchObject({ ok: true });
    const diagnosis = await diagnose(pair, 'account=APPO');
    expect(failures(diagnosis)).toEqual([]);
    expect(check(diagnosis, 'account.scopes').evidence.toLowerCase()).toContain('imap.accessasapp');
    expect(check(diagnosis, 'account.imap').evidence).toContain('as developers@contoso.com with XOAUTH2');
    expect(check(diagnosis, 'account.smtp').evidence).toContain('as developers@contoso.com with XOAUTH2');
    expect(check(diagnosis, 'provider.certificate').result).toBe('ok');
  });

  it('with the service principal missing in Exchange: NO AUTHENTICATE failed., mapped to register it', async () => {
    await withServicePrincipal(null, async () => {
      const test = (await api('POST', `/api/email/accounts/${accountId}/test`)).json();
      expect(test).toMatchObject({ ok: false, error: { code: 'IMAP_APP_NOT_REGISTERED' } });
      expect(test.error.remedy).toContain('New-ServicePrincipal');
      const imap = check(await diagnose(pair, 'account=APPO'), 'account.imap');
      expect(imap).toMatchObject({ result: 'failed', code: 'IMAP_APP_NOT_REGISTERED' });
      expect(imap.evidence).toContain('NO AUTHENTICATE failed.');
      expect(imap.remedy).toContain(
        `New-ServicePrincipal -AppId ${CONTOSO.daemon.appId} -ObjectId ${servicePrincipalId}`,
      );
      expect(imap.remedy).toContain('Add-MailboxPermission -Identity developers@contoso.com');
    });
  });

  it("with the service principal registered under the app registration's object id: the same refusal", async () => {
    expect(appObjectId).not.toBe(servicePrincipalId);
    await withServicePrincipal(appObjectId, async () => {
      const imap = check(await diagnose(pair, 'account=APPO'), 'account.imap');
      expect(imap).toMatchObject({ result: 'failed', code: 'IMAP_APP_NOT_REGISTERED' });
      expect(imap.remedy).toContain(`-ObjectId ${servicePrincipalId}`);
      const smtp = check(await diagnose(pair, 'account=APPO'), 'account.smtp');
      // SMTP answers 535 5.7.3: the catalogue's app-only code, its remedy with the right ids.
      expect(smtp).toMatchObject({ result: 'failed', code: 'SMTP_APP_NOT_REGISTERED' });
      expect(smtp.remedy).toContain(
        `New-ServicePrincipal -AppId ${CONTOSO.daemon.appId} -ObjectId ${servicePrincipalId}`,
      );
      expect(smtp.remedy).toContain(
        `Add-MailboxPermission -Identity developers@contoso.com -User ${servicePrincipalId} -AccessRights FullAccess`,
      );
      expect(smtp.remedy).toContain("-Role 'Application SMTP.SendAsApp'");
    });
  });

  it('without FullAccess for the service principal: authenticated but not connected, with its remedy', async () => {
    await pair.emulator.control('PATCH', '/mailboxes/developers@contoso.com', { fullAccessApps: [] });
    try {
      const imap = check(await diagnose(pair, 'account=APPO'), 'account.imap');
      expect(imap).toMatchObject({ result: 'failed', code: 'IMAP_NOT_CONNECTED' });
      expect(imap.remedy).toContain(`-User ${servicePrincipalId} -AccessRights FullAccess`);
    } finally {
      await pair.emulator.control('PATCH', '/mailboxes/developers@contoso.com', {
        fullAccessApps: [CONTOSO.daemon.appId],
      });
    }
  });
});

describe('app-only permissions', () => {
  const LATE_APP = '9b0c1d2e-3f40-4152-8637-48596a7b8c02';

  beforeAll(async () => {
    await pair.emulator.control('POST', `/tenants/${CONTOSO.domain}/apps`, {
      appId: LATE_APP,
      displayName: 'Not yet consented',
      permissions: {
        application: ['https://outlook.office365.com/IMAP.AccessAsApp', 'https://outlook.office365.com/SMTP.SendAsApp'],
      },
    });
    await pair.emulator.control('PATCH', '/mailboxes/developers@contoso.com', {
      fullAccessApps: [CONTOSO.daemon.appId, LATE_APP],
    });
    const { servicePrincipalId: lateSp } = (
      (await pair.emulator.control('GET', '/apps')) as Array<{
        appId: string;
        servicePrincipalId: string;
      }>
    ).find((a) => a.appId === LATE_APP) ?? { servicePrincipalId: '' };
    await pair.emulator.control('POST', `/tenants/${CONTOSO.tenantId}/exchange/service-principals`, {
      appId: LATE_APP,
      objectId: lateSp,
    });
    const providerId = await appOnlyProvider(LATE_APP);
    await createAccount(pair, providerId, {
      name: 'Developers (late app)',
      key: 'LATE',
      emailAddress: 'developers@contoso.com',
      username: 'developers@contoso.com',
    });
  });

  it('names missing admin consent when the token carries no roles', async () => {
    const diagnosis = await diagnose(pair, 'account=LATE');
    const scopes = check(diagnosis, 'account.scopes');
    expect(scopes).toMatchObject({ result: 'failed', code: 'AUTH_APP_ROLES_MISSING' });
    expect(scopes.evidence).toContain('admin consent has not been granted');
    expect(scopes.remedy).toContain('admin consent link');
    expect(check(diagnosis, 'account.imap')).toMatchObject({ code: 'AUTH_APP_ROLES_MISSING' });
  });

  it('names the one role missing from the token', async () => {
    await pair.emulator.control('POST', '/consents', {
      tenant: CONTOSO.domain,
      appId: LATE_APP,
      roles: ['https://outlook.office365.com/SMTP.SendAsApp'],
    });
    const scopes = check(await diagnose(pair, 'account=LATE'), 'account.scopes');
    expect(scopes).toMatchObject({ result: 'failed', code: 'AUTH_APP_ROLES_MISSING' });
    expect(scopes.evidence).toContain('lacks IMAP.AccessAsApp');
  });
});
