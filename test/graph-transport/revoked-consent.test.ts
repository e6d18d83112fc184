/**
 * Issue 14's "revoked consent" acceptance on the Graph transport, against the emulator over
 * loopback TLS, with the real mailbox workers:
 *
 * - app-only: the tenant's admin consent to the daemon app is withdrawn. Entra keeps issuing
 *   tokens, now without roles; once the token in hand expires, Graph refuses developers@ (403
 *   ErrorAccessDenied): the account shows GRAPH_ACCESS_DENIED and the doctor fails the read check
 *   with the remedy to grant admin consent (or RBAC for Applications). Consent granted again, the
 *   account recovers by itself with the next token.
 * - delegated: andrea@'s consent to the web app is revoked. The next refresh is refused
 *   (AADSTS65001): andrea@'s Graph account ends in AUTH_CONSENT_REQUIRED, whose remedy is to
 *   authenticate the Cloud Provider again, and the doctor shows it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Check } from '../../src/services/doctor/check.js';
import { CONTOSO, accountInError, startAppOnlyGraph, type AppOnlyGraph } from '../helpers/graph-app-only.js';
import { until } from '../helpers/until.js';
import { authenticate } from '../providers/helpers.js';

let h: AppOnlyGraph;

beforeAll(async () => {
  h = await startAppOnlyGraph({ key: 'CONS', messageId: '<consent@fabrikam.example>' });
}, 120_000);
afterAll(async () => {
  await h?.close();
});

/** Moves both clocks (Postern reads the emulator's) past the lifetime of every access token in hand. */
const outliveTokens = () => h.pair.emulator.control('POST', '/clock', { advanceSeconds: 2 * 3600 });

async function checksOf(accountId: number): Promise<Check[]> {
  const diagnosis = await h.pair.postern.runtime.services.doctor.diagnose({ accountId });
  return diagnosis.sections.flatMap((s) => s.checks);
}

async function accountRow(accountId: number) {
  return h
    .db()
    .selectFrom('email_accounts')
    .select(['status', 'last_error_code', 'last_error_remedy'])
    .where('id', '=', accountId)
    .executeTakeFirstOrThrow();
}

it(
  'app-only: admin consent withdrawn ends in GRAPH_ACCESS_DENIED with its remedy, and recovers once granted again',
  {
    timeout: 240_000,
  },
  async () => {
    await until(
      'the customer message read with the app',
      async () =>
        h
          .db()
          .selectFrom('messages')
          .select('id')
          .where('account_id', '=', h.accountId)
          .where('message_id', '=', '<consent@fabrikam.example>')
          .executeTakeFirst(),
      60_000,
    );
    await h.pair.emulator.control('POST', '/consents/revoke', {
      tenant: CONTOSO.tenantId,
      appId: CONTOSO.daemon.appId,
      user: 'admin',
    });
    await outliveTokens();
    const account = await accountInError(h, 'GRAPH_ACCESS_DENIED');
    expect(account.status).not.toBe('connected');
    expect(account.last_error_remedy).toContain('admin consent');

    const checks = await checksOf(h.accountId);
    const read = checks.find((c) => c.id === 'account.graph-inbound');
    expect(read, JSON.stringify(checks)).toMatchObject({ result: 'failed', code: 'GRAPH_ACCESS_DENIED' });
    expect(read?.evidence).toContain('carries no mail permission');
    expect(read?.remedy).toContain('Add the application permission Mail.ReadWrite');
    expect(read?.remedy).toContain('grant admin consent');

    // The administrator grants consent again: with the next token the worker reads by itself.
    await h.pair.emulator.control('POST', `/apps/${CONTOSO.daemon.appId}/admin-consent`, {});
    await outliveTokens();
    await until(
      'the app-only account connected again',
      async () => {
        const row = await accountRow(h.accountId);
        return row.status === 'connected' && row.last_error_code === null ? row : undefined;
      },
      60_000,
    );
    expect((await checksOf(h.accountId)).find((c) => c.id === 'account.graph-inbound')?.result).toBe('ok');
  },
);

it(
  'delegated: revoked consent ends in AUTH_CONSENT_REQUIRED, whose remedy is to authenticate again, shown by the doctor',
  {
    timeout: 240_000,
  },
  async () => {
    const created = await h.api('POST', '/api/cloudProviders', {
      name: 'Contoso delegated (Graph)',
      applicationId: CONTOSO.web.appId,
      tenantId: CONTOSO.tenantId,
      clientSecret: CONTOSO.web.secret,
      clientSecretExpiresAt: '2099-12-31',
      cloud: 'custom',
      authorityUrl: h.pair.emulator.base,
      caFile: h.pair.emulator.handle.caFile,
    });
    expect(created.status, created.body).toBe(201);
    const providerId = created.json<{ id: number }>().id;
    const { response } = await authenticate(h.pair, providerId, {
      username: CONTOSO.andrea.upn,
      password: CONTOSO.andrea.password,
    });
    expect(response.headers.location).toContain('authentication=success');
    const account = await h.api('POST', '/api/email/accounts', {
      name: 'Andrea',
      key: 'ANDG',
      emailAddress: CONTOSO.andrea.upn,
      username: CONTOSO.andrea.upn,
      modernAuthEmail: CONTOSO.andrea.upn,
      providerId,
      transport: 'graph',
      firstSync: { kind: 'all' },
      pollIntervalSeconds: 10,
    });
    expect(account.status, account.body).toBe(201);
    const accountId = account.json<{ id: number }>().id;
    await until(
      'the delegated account connected',
      async () => ((await accountRow(accountId)).status === 'connected' ? true : undefined),
      60_000,
    );

    // Every grant of the web app in the tenant goes: andrea@'s and the administrator's.
    await h.pair.emulator.control('POST', '/consents/revoke', {
      tenant: CONTOSO.tenantId,
      appId: CONTOSO.web.appId,
      user: 'all',
    });
    await outliveTokens();
    const refused = await until(
      'the delegated account in error',
      async () => {
        const row = await accountRow(accountId);
        return row.last_error_code === 'AUTH_CONSENT_REQUIRED' ? row : undefined;
      },
      60_000,
    );
    expect(refused.status).not.toBe('connected');
    expect(refused.last_error_remedy).toContain('Authenticate the Cloud Provider again');

    const checks = await checksOf(accountId);
    const failed = checks.filter((c) => c.result === 'failed');
    expect(
      failed.map((c) => c.code),
      JSON.stringify(checks),
    ).toContain('AUTH_CONSENT_REQUIRED');
    expect(failed.find((c) => c.code === 'AUTH_CONSENT_REQUIRED')?.remedy).toContain(
      'Authenticate the Cloud Provider again',
    );
  },
);
