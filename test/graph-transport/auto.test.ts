/**
 * Transport `auto` against the emulator over loopback TLS, on both engines: a Cloud Provider on its
 * default scopes (Exchange's and Graph's mail permissions, one consent) with andrea@ signed in, and
 * the shared mailbox developers@ with andrea@ as its delegate.
 *
 * - SMTP AUTH disabled for the tenant (535 5.7.139): the message in hand leaves through Graph in the
 *   same delivery, once; the switch is stored, shown and told once; later messages go straight to
 *   Graph.
 * - IMAP disabled for the mailbox ("authenticated but not connected"): Graph opens the folder with
 *   the same grant, so reading switches to Graph and the mailbox worker restarts on the Graph engine.
 * - A grant without the Graph permission: the refusal keeps its code, and its remedy names the
 *   permission to add and says that Postern then switches by itself.
 * - Transports `imap_smtp` and `graph`, and accounts that existed before, are unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEmailAccount, listEvents, requireEmailAccount } from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';
import { until } from '../helpers/until.js';
import { authenticate } from '../providers/helpers.js';
import {
  CONTOSO,
  SHARED,
  dispatchUntilIdle,
  newMessage,
  sent,
  startGraphOutbound,
  view,
  type GraphOutbound,
} from './outbound-harness.js';

const CUSTOMER = 'ada.lovelace@fabrikam.example';

const effective = z.object({
  transport: z.string(),
  effectiveTransport: z.object({
    inbound: z.object({ via: z.string(), reason: z.string().nullable(), since: z.string().nullable() }),
    outbound: z.object({ via: z.string(), reason: z.string().nullable(), since: z.string().nullable() }),
  }),
});

forEachEngine((_engine, openFresh) => {
  let h: GraphOutbound;
  /** A provider on the default scopes: both resources consented at once. */
  let autoProvider: number;
  /** A provider that asks for Exchange's permissions only. */
  let exchangeOnly: number;

  beforeAll(async () => {
    const db = await openFresh();
    h = await startGraphOutbound(db.url);
    for (const [name, scopes] of [
      ['Contoso Auto', undefined],
      [
        'Contoso Exchange',
        [
          'https://outlook.office.com/IMAP.AccessAsUser.All',
          'https://outlook.office.com/SMTP.Send',
          'openid',
          'profile',
          'email',
          'offline_access',
        ],
      ],
    ] as const) {
      const created = await h.api('POST', '/api/cloudProviders', {
        name,
        applicationId: CONTOSO.web.appId,
        tenantId: CONTOSO.tenantId,
        clientSecret: CONTOSO.web.secret,
        clientSecretExpiresAt: '2099-12-31',
        cloud: 'custom',
        authorityUrl: h.emulator.base,
        caFile: h.emulator.handle.caFile,
        ...(scopes === undefined ? {} : { scopes }),
      });
      expect(created.statusCode, created.body).toBe(201);
      const id = created.json<{ id: number }>().id;
      const { response } = await authenticate(h.pair, id, {
        username: CONTOSO.andrea.upn,
        password: CONTOSO.andrea.password,
      });
      expect(response.headers.location).toContain('authentication=success');
      if (scopes === undefined) autoProvider = id;
      else exchangeOnly = id;
    }
  }, 90_000);
  afterAll(async () => h?.close());

  let keys = 0;
  /** Creates developers@ on a provider, with the transport given (none: the default). */
  async function createShared(providerId: number, transport?: string): Promise<number> {
    keys += 1;
    const response = await h.api('POST', '/api/email/accounts', {
      name: 'Developers',
      key: `D${keys}`,
      emailAddress: SHARED,
      username: SHARED,
      providerId,
      modernAuthEmail: CONTOSO.andrea.upn,
      ...servers(),
      ...(transport === undefined ? {} : { transport }),
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ id: number }>().id;
  }

  /** The emulator's IMAP and SMTP listeners on loopback (its certificate names 127.0.0.1). */
  function servers(): Record<string, string | number> {
    const { urls } = h.emulator.handle;
    return {
      imapHost: '127.0.0.1',
      imapPort: Number(new URL(urls.imap ?? 'x://0:0').port),
      smtpHost: '127.0.0.1',
      smtpPort: Number(new URL(urls.smtp ?? 'x://0:0').port),
    };
  }

  async function accountView(id: number): Promise<z.infer<typeof effective>> {
    return effective.parse((await h.api('GET', `/api/email/accounts/${id}`)).json());
  }

  async function switches(id: number) {
    return (await listEvents(h.db, { scope: 'account', scopeId: id, types: ['account.transport_switched'] })).items;
  }

  /** Runs `work` with SMTP AUTH disabled for the whole tenant, as many tenants keep it. */
  async function withSmtpAuthDisabled(work: () => Promise<void>): Promise<void> {
    await h.control('PATCH', `/mailboxes/${CONTOSO.andrea.upn}`, { smtpAuthEnabled: null });
    await h.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { smtpAuthDisabledByDefault: true });
    try {
      await work();
    } finally {
      await h.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { smtpAuthDisabledByDefault: false });
      await h.control('PATCH', `/mailboxes/${CONTOSO.andrea.upn}`, { smtpAuthEnabled: true });
    }
  }

  describe('sending', () => {
    it('is the default for a new Outlook365 account, starting on IMAP and SMTP', async () => {
      const id = await createShared(autoProvider);
      expect(await accountView(id)).toEqual({
        transport: 'auto',
        effectiveTransport: {
          inbound: { via: 'imap', reason: null, since: null },
          outbound: { via: 'smtp', reason: null, since: null },
        },
      });
      await h.api('POST', `/api/email/accounts/${id}/disable`);
    });

    it('SMTP AUTH disabled: the message in hand leaves through Graph once, the switch is stored and told once', async () => {
      const id = await createShared(autoProvider);
      await withSmtpAuthDisabled(async () => {
        const first = await newMessage(h, id, { to: CUSTOMER, subject: 'First through Graph' });
        await dispatchUntilIdle(h);
        const firstId = (await h.api('GET', `/api/messages/${first}`)).json<{ messageId: string }>().messageId;
        expect(await view(h, first)).toMatchObject({
          state: 'sent',
          delivery: { attempts: 1, error: null, serverResponse: '202 Accepted by Microsoft Graph (sendMail)' },
        });
        const records = (await sent(h)).filter((r) => r.messageId === firstId);
        expect(records).toHaveLength(1);
        expect(records[0]).toMatchObject({ via: 'graph', mailbox: SHARED, envelopeFrom: SHARED });

        const shown = await accountView(id);
        expect(shown.effectiveTransport.inbound).toEqual({ via: 'imap', reason: null, since: null });
        expect(shown.effectiveTransport.outbound).toMatchObject({
          via: 'graph',
          reason: 'SMTP AUTH is disabled for the mailbox (535 5.7.139)',
          since: expect.any(String),
        });
        const told = await switches(id);
        expect(told).toHaveLength(1);
        expect(told[0]?.data).toMatchObject({
          direction: 'outbound',
          from: 'smtp',
          to: 'graph',
          code: 'SMTP_AUTH_DISABLED',
        });

        // The next message goes straight to Graph: no second switch.
        const second = await newMessage(h, id, { to: CUSTOMER, subject: 'Second through Graph' });
        await dispatchUntilIdle(h);
        const secondId = (await h.api('GET', `/api/messages/${second}`)).json<{ messageId: string }>().messageId;
        expect(await view(h, second)).toMatchObject({ state: 'sent', delivery: { attempts: 1 } });
        expect((await sent(h)).filter((r) => r.messageId === secondId).map((r) => r.via)).toEqual(['graph']);
        expect(await switches(id)).toHaveLength(1);
      });
      await h.api('POST', `/api/email/accounts/${id}/disable`);
    });

    it('the grant lacks Mail.Send.Shared: the 5.7.139 refusal names the permission and the switch Postern then makes', async () => {
      const id = await createShared(exchangeOnly);
      expect((await accountView(id)).transport).toBe('auto');
      await withSmtpAuthDisabled(async () => {
        const message = await newMessage(h, id, { to: CUSTOMER });
        await dispatchUntilIdle(h);
        const failed = await view(h, message);
        expect(failed).toMatchObject({ state: 'failed', delivery: { error: { code: 'SMTP_AUTH_DISABLED' } } });
        expect(failed.delivery.error?.remedy).toContain('Add the delegated permission Mail.Send.Shared');
        expect(failed.delivery.error?.remedy).toContain(
          'https://graph.microsoft.com/Mail.Send.Shared to the Cloud Provider',
        );
        expect(failed.delivery.error?.remedy).toContain('Postern will then send through Microsoft Graph by itself');
      });
      expect((await accountView(id)).effectiveTransport.outbound.via).toBe('smtp');
      expect(await switches(id)).toHaveLength(0);
      await h.api('POST', `/api/email/accounts/${id}/disable`);
    });

    it('transport imap_smtp stays on SMTP: failed with the 5.7.139 remedy, nothing switched', async () => {
      const id = await createShared(autoProvider, 'imap_smtp');
      await withSmtpAuthDisabled(async () => {
        const message = await newMessage(h, id, { to: CUSTOMER });
        await dispatchUntilIdle(h);
        const failed = await view(h, message);
        expect(failed).toMatchObject({ state: 'failed', delivery: { error: { code: 'SMTP_AUTH_DISABLED' } } });
        expect(failed.delivery.error?.remedy).not.toContain('by itself');
      });
      expect(await accountView(id)).toMatchObject({
        transport: 'imap_smtp',
        effectiveTransport: { outbound: { via: 'smtp' } },
      });
      expect(await switches(id)).toHaveLength(0);
      await h.api('POST', `/api/email/accounts/${id}/disable`);
    });

    it('transport graph sends through Graph with SMTP AUTH enabled, and is shown so', async () => {
      const id = await createShared(autoProvider, 'graph');
      const message = await newMessage(h, id, { to: CUSTOMER });
      await dispatchUntilIdle(h);
      const messageId = (await h.api('GET', `/api/messages/${message}`)).json<{ messageId: string }>().messageId;
      expect((await sent(h)).filter((r) => r.messageId === messageId).map((r) => r.via)).toEqual(['graph']);
      expect(await accountView(id)).toMatchObject({
        transport: 'graph',
        effectiveTransport: { inbound: { via: 'graph', since: null }, outbound: { via: 'graph', since: null } },
      });
      expect(await switches(id)).toHaveLength(0);
      await h.api('POST', `/api/email/accounts/${id}/disable`);
    });

    it('transport graph: the connection test and the doctor go through Graph, and name a missing permission', async () => {
      const id = await createShared(autoProvider, 'graph');
      const tested = (await h.api('POST', `/api/email/accounts/${id}/test`)).json<{
        ok: boolean;
        steps: Array<{ step: string; ok: boolean; detail: string }>;
      }>();
      expect(tested.ok).toBe(true);
      expect(tested.steps.map((s) => s.step)).toEqual(['grant', 'graph-token', 'folder']);
      expect(tested.steps[1]?.detail).toContain('Mail.ReadWrite.Shared');
      const diagnosis = await h.postern.runtime.services.doctor.diagnose({ accountId: id });
      const checks = diagnosis.sections.at(-1)?.checks ?? [];
      expect(Object.fromEntries(checks.map((c) => [c.id, c.result]))).toMatchObject({
        'account.grant': 'ok',
        'account.graph-inbound': 'ok',
        'account.graph-outbound': 'ok',
        'account.graph-audience': 'ok',
        'account.graph-folder': 'ok',
      });
      expect(checks.find((c) => c.id === 'account.imap')).toBeUndefined();
      await h.api('POST', `/api/email/accounts/${id}/disable`);

      // On a provider that asks for Exchange's permissions only: the step says which one to add.
      const without = await createShared(exchangeOnly, 'graph');
      const refused = (await h.api('POST', `/api/email/accounts/${without}/test`)).json<{
        ok: boolean;
        steps: Array<{ step: string; ok: boolean }>;
        error: { code: string; remedy: string | null };
      }>();
      expect(refused.ok).toBe(false);
      expect(refused.steps.at(-1)).toMatchObject({ step: 'graph-token', ok: false });
      expect(refused.error.code).toBe('GRAPH_PERMISSION_MISSING');
      expect(refused.error.remedy).toContain('Add the delegated permission Mail.ReadWrite.Shared');
      await h.api('POST', `/api/email/accounts/${without}/disable`);
    });

    it('an account stored before transport auto keeps imap_smtp, and a change of another field keeps it', async () => {
      // As an earlier release stored it: the column's default.
      const before = await createEmailAccount(h.db, {
        name: 'Andrea',
        key: 'OLD',
        emailAddress: CONTOSO.andrea.upn,
        username: CONTOSO.andrea.upn,
        providerId: autoProvider,
        ...servers(),
      });
      expect(before.transport).toBe('imap_smtp');
      const changed = await h.api('PATCH', `/api/email/accounts/${before.id}`, { description: 'kept' });
      expect(changed.statusCode, changed.body).toBe(200);
      expect(await accountView(before.id)).toMatchObject({
        transport: 'imap_smtp',
        effectiveTransport: { inbound: { via: 'imap' }, outbound: { via: 'smtp' } },
      });
      await h.api('POST', `/api/email/accounts/${before.id}/disable`);
    });
  });

  describe('reading', () => {
    it(
      'IMAP disabled for developers@: Graph opens the folder, reading switches and the worker restarts on Graph',
      { timeout: 120_000 },
      async () => {
        await h.control('PATCH', `/mailboxes/${SHARED}`, { imapEnabled: false });
        try {
          await h.control('POST', '/exchange/messages', {
            from: `Ada Lovelace <${CUSTOMER}>`,
            to: SHARED,
            subject: 'Read me through Graph',
            text: 'IMAP is off here.',
            messageId: '<auto-inbound@fabrikam.example>',
          });
          const id = await createShared(autoProvider);
          await h.api('PATCH', `/api/email/accounts/${id}`, { firstSync: { kind: 'all' }, pollIntervalSeconds: 10 });
          const roles = await h.postern.runtime.startRoles(['mailboxSync'], {
            mailboxSync: {
              tuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 } },
              graphTuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 } },
            },
          });
          expect(roles.mailboxSync).toBeDefined();
          const stored = await until(
            'the message read through Graph',
            async () =>
              h.db.kysely
                .selectFrom('messages')
                .select(['graph_id', 'uid'])
                .where('account_id', '=', id)
                .where('message_id', '=', '<auto-inbound@fabrikam.example>')
                .executeTakeFirst(),
            60_000,
          );
          expect(stored.graph_id).toEqual(expect.any(String));
          expect(stored.uid).toBeNull();
          const account = await requireEmailAccount(h.db, id);
          expect(account.effective.inbound).toMatchObject({ via: 'graph', reason: 'IMAP is disabled for the mailbox' });
          expect(account.effective.outbound.via).toBe('smtp');
          const told = await switches(id);
          expect(told).toHaveLength(1);
          expect(told[0]?.data).toMatchObject({
            direction: 'inbound',
            from: 'imap',
            to: 'graph',
            code: 'IMAP_NOT_CONNECTED',
          });
          await until('connected through Graph', async () =>
            (await requireEmailAccount(h.db, id)).status === 'connected' ? true : undefined,
          );

          // The connection test and the doctor follow: the folder through Graph, and why.
          const tested = (await h.api('POST', `/api/email/accounts/${id}/test`)).json<{
            ok: boolean;
            steps: Array<{ step: string; detail: string }>;
          }>();
          expect(tested.ok).toBe(true);
          expect(tested.steps.map((s) => s.step)).toEqual(['grant', 'graph-token', 'folder']);
          expect(tested.steps[2]?.detail).toContain('through Microsoft Graph');
          const diagnosis = await h.postern.runtime.services.doctor.diagnose({ accountId: id });
          const checks = diagnosis.sections.at(-1)?.checks ?? [];
          expect(checks.find((c) => c.id === 'account.transport')?.evidence).toContain(
            'Reading through Microsoft Graph since',
          );
          expect(checks.find((c) => c.id === 'account.transport')?.evidence).toContain(
            'because IMAP is disabled for the mailbox',
          );
          expect(checks.find((c) => c.id === 'account.graph-folder')?.result).toBe('ok');
          expect(checks.find((c) => c.id === 'account.imap')).toBeUndefined();
        } finally {
          await h.control('PATCH', `/mailboxes/${SHARED}`, { imapEnabled: true });
        }
      },
    );

    it(
      'IMAP disabled, the grant without Mail.ReadWrite.Shared: the account shows IMAP_NOT_CONNECTED with the permission to add',
      { timeout: 120_000 },
      async () => {
        await h.control('PATCH', `/mailboxes/${SHARED}`, { imapEnabled: false });
        try {
          // The mailbox workers of the previous test are running and pick the new account up.
          const id = await createShared(exchangeOnly);
          const account = await until(
            'the IMAP refusal on the account',
            async () => {
              const current = await requireEmailAccount(h.db, id);
              return current.lastError?.code === 'IMAP_NOT_CONNECTED' ? current : undefined;
            },
            60_000,
          );
          expect(account.lastError?.remedy).toContain('Add the delegated permission Mail.ReadWrite.Shared');
          expect(account.lastError?.remedy).toContain('Postern will then read through Microsoft Graph by itself');
          expect(account.effective.inbound.via).toBe('imap');
          expect(await switches(id)).toHaveLength(0);
          await h.api('POST', `/api/email/accounts/${id}/disable`);
        } finally {
          await h.control('PATCH', `/mailboxes/${SHARED}`, { imapEnabled: true });
        }
      },
    );
  });
});
