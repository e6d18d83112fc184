/**
 * Issue 14's app-only acceptance with Exchange Online's RBAC for Applications, against the emulator
 * over loopback TLS: the daemon app holds NO Microsoft Graph application permission in Entra (its
 * admin consent withdrawn before the first sign-in), only the Exchange role assignments
 * `Application Mail.ReadWrite` and `Application Mail.Send` in a management scope that covers the
 * shared mailbox developers@. Postern, on a certificate and no delegate, reads the customer's
 * message and replies through Graph; the doctor says the permission comes from Exchange. Once the
 * scope no longer covers developers@, Graph answers 403 ErrorAccessDenied: the account shows
 * GRAPH_ACCESS_DENIED and the doctor fails the read check with the remedy naming
 * New-ManagementRoleAssignment; with the scope back, the account recovers by itself.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CONTOSO,
  SHARED,
  accountInError,
  replyThroughGraph,
  startAppOnlyGraph,
  type AppOnlyGraph,
} from '../helpers/graph-app-only.js';
import { until } from '../helpers/until.js';
import { createAccount } from '../doctor/helpers.js';

const assignmentSchema = z.object({ id: z.string(), role: z.string(), mailboxes: z.array(z.string()) });
const ASSIGNMENTS = `/tenants/${CONTOSO.tenantId}/exchange/management-role-assignments`;

let h: AppOnlyGraph;
/** The `Application Mail.ReadWrite` assignment, whose scope the tests change. */
let readWrite: string;

beforeAll(async () => {
  h = await startAppOnlyGraph({
    key: 'RBAC',
    messageId: '<rbac@fabrikam.example>',
    async beforeSignIn(pair) {
      // No Entra application permission: the tenant's admin consent to the daemon is withdrawn.
      await pair.emulator.control('POST', '/consents/revoke', {
        tenant: CONTOSO.tenantId,
        appId: CONTOSO.daemon.appId,
        user: 'admin',
      });
      // The daemon's service principal is registered in Exchange by the seed (it has FullAccess on developers@).
      for (const role of ['Application Mail.ReadWrite', 'Application Mail.Send']) {
        const created = assignmentSchema.parse(
          await pair.emulator.control('POST', ASSIGNMENTS, {
            appId: CONTOSO.daemon.appId,
            role,
            mailboxes: [SHARED],
          }),
        );
        if (role === 'Application Mail.ReadWrite') readWrite = created.id;
      }
    },
  });
}, 120_000);
afterAll(async () => {
  await h?.close();
});

const doctor = () => h.pair.postern.runtime.services.doctor.diagnose({ accountId: h.accountId });
const checksOf = async () => (await doctor()).sections.flatMap((s) => s.checks);

it(
  'reads and replies through Graph with no Entra mail permission, the mailbox inside the RBAC scope',
  { timeout: 180_000 },
  async () => {
    await replyThroughGraph(h, '<rbac@fabrikam.example>', 'Restart at step 6.');
    const checks = await checksOf();
    const read = checks.find((c) => c.id === 'account.graph-inbound');
    expect(read?.result, JSON.stringify(read)).toBe('ok');
    expect(read?.evidence).toContain('carries no Mail.ReadWrite role');
    expect(read?.evidence).toContain('RBAC for Applications');
    // Sending cannot be tried without sending: a warning that names both ways.
    const send = checks.find((c) => c.id === 'account.graph-outbound');
    expect(send?.result).toBe('warning');
    expect(send?.remedy).toContain("-Role 'Application Mail.Send'");
    expect(checks.find((c) => c.id === 'account.graph-folder')?.result).toBe('ok');
    // The connection test goes on to Graph rather than stopping at the token's missing role.
    const tested = (await h.api('POST', `/api/email/accounts/${h.accountId}/test`)).json<{
      ok: boolean;
      steps: Array<{ step: string; ok: boolean; detail: string }>;
    }>();
    expect(tested.ok, JSON.stringify(tested)).toBe(true);
    expect(tested.steps.map((s) => s.step)).toEqual(['grant', 'graph-token', 'folder']);
    expect(tested.steps[1]?.detail).toContain('RBAC for Applications');
  },
);

it(
  'is refused with the RBAC remedy once the scope no longer covers the mailbox, and recovers when it does again',
  { timeout: 180_000 },
  async () => {
    // Set-ManagementScope: the recipient filter now matches andrea@ only.
    await h.pair.emulator.control('PATCH', `${ASSIGNMENTS}/${readWrite}`, { mailboxes: [CONTOSO.andrea.upn] });
    const account = await accountInError(h, 'GRAPH_ACCESS_DENIED');
    expect(account.status).not.toBe('connected');
    expect(account.last_error_remedy).toContain('RBAC for Applications');
    expect(account.last_error_remedy).toContain('New-ManagementRoleAssignment');

    const checks = await checksOf();
    const read = checks.find((c) => c.id === 'account.graph-inbound');
    expect(read, JSON.stringify(checks)).toMatchObject({ result: 'failed', code: 'GRAPH_ACCESS_DENIED' });
    expect(read?.evidence).toContain('403 ErrorAccessDenied');
    expect(read?.remedy).toContain(
      `New-ManagementRoleAssignment -App ${CONTOSO.daemon.appId} -Role 'Application Mail.ReadWrite' -CustomResourceScope`,
    );
    expect(read?.remedy).toContain(SHARED);
    expect(read?.remedy).toContain('grant admin consent');
    const tested = (await h.api('POST', `/api/email/accounts/${h.accountId}/test`)).json<{
      ok: boolean;
      steps: Array<{ step: string; ok: boolean }>;
      error: { code: string; remedy: string | null };
    }>();
    expect(tested.ok).toBe(false);
    expect(tested.steps.at(-1)).toMatchObject({ step: 'folder', ok: false });
    expect(tested.error.code).toBe('GRAPH_ACCESS_DENIED');
    expect(tested.error.remedy).toContain('RBAC for Applications');

    // The scope covers developers@ again: the mailbox worker's next round succeeds by itself.
    await h.pair.emulator.control('PATCH', `${ASSIGNMENTS}/${readWrite}`, { mailboxes: [SHARED] });
    await until(
      'the account connected again',
      async () => {
        const row = await h
          .db()
          .selectFrom('email_accounts')
          .select(['status', 'last_error_code'])
          .where('id', '=', h.accountId)
          .executeTakeFirstOrThrow();
        return row.status === 'connected' && row.last_error_code === null ? row : undefined;
      },
      60_000,
    );
    expect((await checksOf()).find((c) => c.id === 'account.graph-inbound')?.result).toBe('ok');
  },
);

it('keeps the control API strict: known roles only, an Exchange service principal first, listed as made', async () => {
  const control = h.pair.emulator.control;
  await expect(
    control('POST', ASSIGNMENTS, { appId: CONTOSO.daemon.appId, role: 'Application Mail.Everything', mailboxes: [] }),
  ).rejects.toThrow(/→ 400/);
  // The web app has no service principal in Exchange (New-ServicePrincipal): Exchange cannot assign it a role.
  await expect(
    control('POST', ASSIGNMENTS, { appId: CONTOSO.web.appId, role: 'Application Mail.Read', mailboxes: [SHARED] }),
  ).rejects.toThrow(/→ 404/);
  const listed = z.array(assignmentSchema).parse(await control('GET', ASSIGNMENTS));
  expect(listed.map((a) => a.role).sort()).toEqual(['Application Mail.ReadWrite', 'Application Mail.Send']);
  const send = listed.find((a) => a.role === 'Application Mail.Send');
  await control('DELETE', `${ASSIGNMENTS}/${send?.id ?? 'none'}`);
  await expect(control('DELETE', `${ASSIGNMENTS}/${send?.id ?? 'none'}`)).rejects.toThrow(/→ 404/);
});

it(
  'app-only SMTP: Application SMTP.SendAsApp in the scope stands for the missing role, and the doctor lets SMTP AUTH tell',
  {
    timeout: 120_000,
  },
  async () => {
    // Entra: IMAP.AccessAsApp only (no SMTP.SendAsApp); Exchange: the SMTP role for developers@.
    await h.pair.emulator.control('POST', '/consents', {
      tenant: CONTOSO.tenantId,
      appId: CONTOSO.daemon.appId,
      roles: ['https://outlook.office365.com/IMAP.AccessAsApp'],
    });
    const smtpRole = assignmentSchema.parse(
      await h.pair.emulator.control('POST', ASSIGNMENTS, {
        appId: CONTOSO.daemon.appId,
        role: 'Application SMTP.SendAsApp',
        mailboxes: [SHARED],
      }),
    );
    const accountId = await createAccount(h.pair, h.providerId, {
      name: 'Developers (IMAP and SMTP)',
      key: 'RBSM',
      emailAddress: SHARED,
      username: SHARED,
      transport: 'imap_smtp',
    });
    const checks = async () =>
      (await h.pair.postern.runtime.services.doctor.diagnose({ accountId })).sections.flatMap((s) => s.checks);
    const inScope = await checks();
    const scopes = inScope.find((c) => c.id === 'account.scopes');
    expect(scopes?.result, JSON.stringify(scopes)).toBe('warning');
    expect(scopes?.remedy).toContain("-Role 'Application SMTP.SendAsApp'");
    expect(inScope.find((c) => c.id === 'account.smtp')?.result).toBe('ok');

    // Without the assignment Exchange refuses SMTP AUTH (535 5.7.3).
    await h.pair.emulator.control('DELETE', `${ASSIGNMENTS}/${smtpRole.id}`);
    const smtp = (await checks()).find((c) => c.id === 'account.smtp');
    expect(smtp?.result, JSON.stringify(smtp)).toBe('failed');
  },
);
