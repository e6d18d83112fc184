/**
 * Issue 14's app-only acceptance on the Graph transport: a provider with a generated certificate
 * and the client-credentials grant, no delegate; the shared mailbox developers@ is read through
 * Graph by the real mailbox workers and its reply leaves through Graph's sendMail — while the
 * mailbox is inside the application's scope. Put outside it (an Application Access Policy that
 * restricts the app to another mailbox), Graph answers ErrorAccessDenied and Postern says so on the
 * account, with the remedy that names the application's scope. (RBAC for Applications and revoked
 * consent: app-rbac.test.ts and revoked-consent.test.ts.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  CONTOSO,
  accountInError,
  replyThroughGraph,
  startAppOnlyGraph,
  type AppOnlyGraph,
} from '../helpers/graph-app-only.js';

let h: AppOnlyGraph;

beforeAll(async () => {
  h = await startAppOnlyGraph();
});
afterAll(async () => {
  await h?.close();
});

it('reads and replies through Graph with the application alone, inside its scope', { timeout: 120_000 }, async () => {
  await replyThroughGraph(h, '<engine@fabrikam.example>', 'Restart at step 6.');
});

it(
  'is refused with the scope remedy once the mailbox is outside the application access policy',
  { timeout: 120_000 },
  async () => {
    await h.pair.emulator.control('POST', `/tenants/${CONTOSO.tenantId}/exchange/application-access-policies`, {
      appId: CONTOSO.daemon.appId,
      accessRight: 'RestrictAccess',
      mailboxes: [CONTOSO.andrea.upn],
    });
    // The next round (polling every 10 s) is refused; the account says why and what to do.
    const account = await accountInError(h, 'GRAPH_ACCESS_DENIED');
    expect(account.status).not.toBe('connected');
    expect(account.last_error_remedy).toContain('Application Access Policy');
  },
);
