/**
 * Transport `auto` on an app-only grant whose tenant lets the app in only through Exchange Online's
 * RBAC for Applications (issue 14, points 4 and 5), against the emulator over loopback TLS: the
 * daemon app signs in with a certificate Postern generated, holds NO Entra application permission
 * (its admin consent withdrawn: no IMAP.AccessAsApp, no SMTP.SendAsApp, no Graph role), and the
 * Exchange role assignments `Application Mail.ReadWrite` and `Application Mail.Send` in a
 * management scope covering the shared mailbox developers@. No delegate.
 *
 * - Inside the scope: IMAP refuses the app (`NO AUTHENTICATE failed.`), Graph opens the folder, so
 *   reading switches to Graph and the customer's message is stored; the agent's reply meets SMTP's
 *   `535 5.7.3` and leaves through Graph `sendMail` in the same delivery — in the customer's sink
 *   exactly once, the two switches told once each, the account page and the doctor saying why.
 * - Outside the scope (andrea@'s mailbox): Graph answers 403 ErrorAccessDenied too, so the
 *   message fails with GRAPH_ACCESS_DENIED, its remedy naming the RBAC role assignment for the
 *   mailbox and the Exchange service principal for SMTP; the refusal is remembered for three minutes
 *   (a second message fails without asking Graph, even once the scope covers the mailbox), then
 *   Graph is asked again, accepts, and sending switches. The doctor shows SMTP_APP_NOT_REGISTERED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { listEvents } from '../../src/store/index.js';
import { GRAPH_REFUSAL_MEMORY_MS } from '../../src/services/accounts/transport-switch.js';
import {
  CONTOSO,
  CUSTOMER,
  SHARED,
  replyThroughGraph,
  startAppOnlyGraph,
  type AppOnlyGraph,
} from '../helpers/graph-app-only.js';
import type { Pair } from '../providers/helpers.js';
import { until } from '../helpers/until.js';
import { sink } from './helpers.js';

const ASSIGNMENTS = `/tenants/${CONTOSO.tenantId}/exchange/management-role-assignments`;
const assignmentSchema = z.object({ id: z.string() });
const MESSAGE_ID = '<rbac-auto@fabrikam.example>';
const ANDREA = CONTOSO.andrea.upn;

const effective = z.object({
  transport: z.string(),
  effectiveTransport: z.object({
    inbound: z.object({ via: z.string(), reason: z.string().nullable() }),
    outbound: z.object({ via: z.string(), reason: z.string().nullable() }),
  }),
});
const switchData = z.object({ direction: z.string() }).passthrough();
const messageView = z.object({
  state: z.string(),
  messageId: z.string(),
  delivery: z.object({
    attempts: z.number(),
    serverResponse: z.string().nullable(),
    error: z.object({ code: z.string(), message: z.string(), remedy: z.string().nullable() }).nullable(),
  }),
});

let h: AppOnlyGraph;
/** The `Application Mail.Send` assignment, whose scope the second part widens. */
let mailSend: string;
/** The daemon's Enterprise application object id (its Exchange service principal's). */
let servicePrincipalId: string;

/** The emulator's IMAP and SMTP listeners on loopback (its certificate names 127.0.0.1). */
function servers(pair: Pair): Record<string, string | number> {
  const { urls } = pair.emulator.handle;
  return {
    imapHost: '127.0.0.1',
    imapPort: Number(new URL(urls.imap ?? 'x://0:0').port),
    smtpHost: '127.0.0.1',
    smtpPort: Number(new URL(urls.smtp ?? 'x://0:0').port),
  };
}

beforeAll(async () => {
  h = await startAppOnlyGraph({
    key: 'RBAU',
    messageId: MESSAGE_ID,
    async beforeSignIn(pair) {
      // No Entra application permission at all: the tenant's admin consent is withdrawn.
      await pair.emulator.control('POST', '/consents/revoke', {
        tenant: CONTOSO.tenantId,
        appId: CONTOSO.daemon.appId,
        user: 'admin',
      });
      for (const role of ['Application Mail.ReadWrite', 'Application Mail.Send']) {
        const created = assignmentSchema.parse(
          await pair.emulator.control('POST', ASSIGNMENTS, { appId: CONTOSO.daemon.appId, role, mailboxes: [SHARED] }),
        );
        if (role === 'Application Mail.Send') mailSend = created.id;
      }
    },
    // Transport auto (the default), on the emulator's IMAP and SMTP.
    account: (pair) => ({ transport: 'auto', ...servers(pair) }),
  });
  const apps = z
    .array(z.object({ appId: z.string(), servicePrincipalId: z.string() }))
    .parse(await h.pair.emulator.control('GET', '/apps'));
  servicePrincipalId = apps.find((a) => a.appId === CONTOSO.daemon.appId)?.servicePrincipalId ?? '';
  expect(servicePrincipalId).not.toBe('');
}, 120_000);
afterAll(async () => {
  await h?.close();
});

async function switches(accountId: number) {
  return (
    await listEvents(h.pair.postern.runtime.db, {
      scope: 'account',
      scopeId: accountId,
      types: ['account.transport_switched'],
    })
  ).items;
}

async function accountView(id: number): Promise<z.infer<typeof effective>> {
  return effective.parse((await h.api('GET', `/api/email/accounts/${id}`)).json());
}

async function messageOf(id: number): Promise<z.infer<typeof messageView>> {
  return messageView.parse((await h.api('GET', `/api/messages/${id}`)).json());
}

async function checksOf(accountId: number) {
  return (await h.pair.postern.runtime.services.doctor.diagnose({ accountId })).sections.flatMap((s) => s.checks);
}

/** Queues a new message on an account and dispatches the outbox until nothing is queued or sending. */
async function sendNew(accountId: number, subject: string): Promise<z.infer<typeof messageView> & { id: number }> {
  const queued = await h.api('POST', `/api/email/accounts/${accountId}/messages`, {
    to: [CUSTOMER],
    subject,
    text: 'About your ticket.',
  });
  expect(queued.status, queued.body).toBe(202);
  const id = queued.json<{ id: number }>().id;
  await until(
    'the outbox empty',
    async () => {
      await h.dispatcher.runOnce();
      const open = await h
        .db()
        .selectFrom('outbox')
        .select('id')
        .where('state', 'in', ['queued', 'sending'])
        .executeTakeFirst();
      return open === undefined ? true : undefined;
    },
    60_000,
  );
  return { id, ...(await messageOf(id)) };
}

describe('developers@ inside the RBAC scope, SMTP and IMAP refusing the app', () => {
  it(
    'reads through Graph, and the reply leaves through Graph exactly once, each switch told once',
    { timeout: 180_000 },
    async () => {
      // Mail in (through Graph, once IMAP refused the app) → conversation → reply through Graph.
      const reply = await replyThroughGraph(h, MESSAGE_ID, 'We are on it.');
      const replies = (await sink(h.pair.emulator, CUSTOMER)).filter((m) => m.messageId === reply.messageId);
      expect(replies).toHaveLength(1);
      expect(replies[0]?.envelopeFrom).toBe(SHARED);
      expect(replies[0]?.subject).toMatch(/^Re: The engine stopped/);
      expect(await messageOf(reply.id)).toMatchObject({
        state: 'sent',
        delivery: { attempts: 1, error: null, serverResponse: '202 Accepted by Microsoft Graph (sendMail)' },
      });

      expect(await accountView(h.accountId)).toEqual({
        transport: 'auto',
        effectiveTransport: {
          inbound: { via: 'graph', reason: "Exchange refuses the app's IMAP sign-in (NO AUTHENTICATE failed.)" },
          outbound: { via: 'graph', reason: "Exchange refuses the app's SMTP sign-in (535 5.7.3)" },
        },
      });
      const told = await switches(h.accountId);
      const data = told.map((e) => switchData.parse(e.data));
      expect(data.sort((a, b) => a.direction.localeCompare(b.direction))).toEqual([
        expect.objectContaining({ direction: 'inbound', from: 'imap', to: 'graph', code: 'IMAP_APP_NOT_REGISTERED' }),
        expect.objectContaining({ direction: 'outbound', from: 'smtp', to: 'graph', code: 'SMTP_APP_NOT_REGISTERED' }),
      ]);

      // The next message goes straight to Graph: no second switch, still once in the sink.
      const next = await sendNew(h.accountId, 'Second through Graph');
      expect(next).toMatchObject({ state: 'sent', delivery: { attempts: 1, error: null } });
      expect((await sink(h.pair.emulator, CUSTOMER)).filter((m) => m.messageId === next.messageId)).toHaveLength(1);
      expect(await switches(h.accountId)).toHaveLength(2);

      const transport = (await checksOf(h.accountId)).find((c) => c.id === 'account.transport');
      expect(transport?.evidence).toContain('Sending through Microsoft Graph since');
      expect(transport?.evidence).toContain("because Exchange refuses the app's SMTP sign-in (535 5.7.3)");
      expect(transport?.evidence).toContain("because Exchange refuses the app's IMAP sign-in");
    },
  );
});

describe("andrea@'s mailbox outside the RBAC scope", () => {
  let accountId: number;

  beforeAll(async () => {
    const created = await h.api('POST', '/api/email/accounts', {
      name: 'Andrea (app-only)',
      key: 'RBAN',
      emailAddress: ANDREA,
      username: ANDREA,
      providerId: h.providerId,
      transport: 'auto',
      pollIntervalSeconds: 10,
      ...servers(h.pair),
    });
    expect(created.status, created.body).toBe(201);
    accountId = created.json<{ id: number }>().id;
  });

  it(
    'reading stays on IMAP with the remedy naming both ways, and the doctor names the service principal for SMTP',
    { timeout: 120_000 },
    async () => {
      const account = await until(
        'the IMAP refusal on the account',
        async () => {
          const row = await h
            .db()
            .selectFrom('email_accounts')
            .select(['last_error_code', 'last_error_remedy'])
            .where('id', '=', accountId)
            .executeTakeFirstOrThrow();
          return row.last_error_code === 'IMAP_APP_NOT_REGISTERED' &&
            row.last_error_remedy?.includes('Or let Postern read through Microsoft Graph') === true
            ? row
            : undefined;
        },
        60_000,
      );
      expect(account.last_error_remedy).toContain(
        `New-ManagementRoleAssignment -App ${CONTOSO.daemon.appId} -Role 'Application Mail.ReadWrite'`,
      );
      expect(account.last_error_remedy).toContain(ANDREA);
      expect((await accountView(accountId)).effectiveTransport.inbound.via).toBe('imap');

      const checks = await checksOf(accountId);
      const smtp = checks.find((c) => c.id === 'account.smtp');
      expect(smtp, JSON.stringify(checks)).toMatchObject({ result: 'failed', code: 'SMTP_APP_NOT_REGISTERED' });
      expect(smtp?.remedy).toContain(
        `New-ServicePrincipal -AppId ${CONTOSO.daemon.appId} -ObjectId ${servicePrincipalId}`,
      );
      expect(smtp?.remedy).toContain(`Add-MailboxPermission -Identity ${ANDREA} -User ${servicePrincipalId}`);
      expect(smtp?.remedy).toContain("-Role 'Application SMTP.SendAsApp'");
    },
  );

  it(
    'a message refused by SMTP and Graph fails with ErrorAccessDenied and both remedies; the refusal is remembered, then Graph is asked again',
    { timeout: 180_000 },
    async () => {
      const first = await sendNew(accountId, 'Refused both ways');
      expect(first).toMatchObject({ state: 'failed', delivery: { error: { code: 'GRAPH_ACCESS_DENIED' } } });
      const error = first.delivery.error;
      expect(error?.message).toContain('535 5.7.3');
      expect(error?.message).toContain('403 ErrorAccessDenied');
      expect(error?.remedy).toContain(
        `New-ManagementRoleAssignment -App ${CONTOSO.daemon.appId} -Role 'Application Mail.Send' -CustomResourceScope`,
      );
      expect(error?.remedy).toContain(ANDREA);
      expect(error?.remedy).toContain('Postern will then send through Microsoft Graph by itself');
      expect(error?.remedy).toContain(
        `New-ServicePrincipal -AppId ${CONTOSO.daemon.appId} -ObjectId ${servicePrincipalId}`,
      );
      expect((await sink(h.pair.emulator, CUSTOMER)).filter((m) => m.messageId === first.messageId)).toHaveLength(0);
      expect(await switches(accountId)).toHaveLength(0);
      expect((await accountView(accountId)).effectiveTransport.outbound.via).toBe('smtp');

      // The scope now covers andrea@ for sending, but Graph's refusal is remembered: not asked again yet.
      await h.pair.emulator.control('PATCH', `${ASSIGNMENTS}/${mailSend}`, { mailboxes: [SHARED, ANDREA] });
      const second = await sendNew(accountId, 'Still remembered');
      expect(second).toMatchObject({ state: 'failed', delivery: { error: { code: 'GRAPH_ACCESS_DENIED' } } });
      expect((await sink(h.pair.emulator, CUSTOMER)).filter((m) => m.messageId === second.messageId)).toHaveLength(0);

      // After the memory ends, Graph is asked with the message in hand, accepts it, and sending switches.
      h.pair.emulator.handle.clock.advance(GRAPH_REFUSAL_MEMORY_MS + 1000);
      const third = await sendNew(accountId, 'Through Graph at last');
      expect(third).toMatchObject({
        state: 'sent',
        delivery: { attempts: 1, error: null, serverResponse: '202 Accepted by Microsoft Graph (sendMail)' },
      });
      expect((await sink(h.pair.emulator, CUSTOMER)).filter((m) => m.messageId === third.messageId)).toHaveLength(1);
      const told = await switches(accountId);
      expect(told.map((e) => e.data)).toEqual([
        expect.objectContaining({ direction: 'outbound', code: 'SMTP_APP_NOT_REGISTERED' }),
      ]);
    },
  );
});
