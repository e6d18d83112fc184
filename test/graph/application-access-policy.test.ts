/**
 * Application access policies on the emulated Graph (issue 14, points 5–6): an app-only token's
 * Mail.* roles reach every mailbox of the tenant until `New-ApplicationAccessPolicy` limits them;
 * a mailbox outside a RestrictAccess scope, or inside a DenyAccess one, answers
 * `403 ErrorAccessDenied` "Access to OData is disabled.", as Exchange Online does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestEmulator } from '../emulator/helpers/emulator.js';
import {
  appToken,
  collection,
  CONTOSO,
  deliver,
  expectGraphError,
  GraphClient,
  SHARED,
  startGraphEmulator,
} from './helpers/graph-emulator.js';

let emu: TestEmulator;
let daemon: GraphClient;
const POLICIES = `/tenants/${CONTOSO.tenantId}/exchange/application-access-policies`;
const inbox = (mailbox: string) => `/users/${mailbox}/mailFolders/inbox/messages?$select=subject`;

beforeAll(async () => {
  emu = await startGraphEmulator();
  daemon = new GraphClient(emu, await appToken(emu));
  await deliver(emu, { to: SHARED, subject: 'In scope', text: '.' });
  await deliver(emu, { to: CONTOSO.andrea.upn, subject: 'Out of scope', text: '.' });
});
afterAll(() => emu.stop());

async function withPolicy(body: Record<string, unknown>, fn: () => Promise<void>): Promise<void> {
  const created = (await emu.control('POST', POLICIES, { appId: CONTOSO.daemon.appId, ...body })) as { id: string };
  try {
    await fn();
  } finally {
    await emu.control('DELETE', `${POLICIES}/${created.id}`);
  }
}

describe('application access policies', () => {
  it('without a policy, the app reads every mailbox', async () => {
    expect(collection(await daemon.get(inbox(CONTOSO.andrea.upn))).value.map((m) => m.subject)).toContain(
      'Out of scope',
    );
  });

  it('RestrictAccess: the scope group is readable, any other mailbox is ErrorAccessDenied', async () => {
    await withPolicy({ accessRight: 'RestrictAccess', mailboxes: [SHARED] }, async () => {
      expect(collection(await daemon.get(inbox(SHARED))).value.map((m) => m.subject)).toContain('In scope');
      expectGraphError(
        await daemon.get(inbox(CONTOSO.andrea.upn)),
        403,
        'ErrorAccessDenied',
        'Access to OData is disabled.',
      );
    });
    expect((await daemon.get(inbox(CONTOSO.andrea.upn))).status).toBe(200);
  });

  it('DenyAccess: the scope group is refused, others stay readable', async () => {
    await withPolicy({ accessRight: 'DenyAccess', mailboxes: [SHARED] }, async () => {
      expectGraphError(await daemon.get(inbox(SHARED)), 403, 'ErrorAccessDenied', 'Access to OData is disabled.');
      expect((await daemon.get(inbox(CONTOSO.andrea.upn))).status).toBe(200);
    });
  });
});
