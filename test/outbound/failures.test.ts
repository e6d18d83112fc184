/**
 * What Exchange refuses, and what Postern does about it: the shared mailbox without Send As, SMTP
 * AUTH disabled for the tenant, temporary 421 replies, the retry window, cancel and retry, and a
 * failed reply reopening the conversation "Send and close" closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../../src/store/index.js';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import {
  CONTOSO,
  createAccount,
  dispatchUntilIdle,
  receive,
  sent,
  sink,
  startOutbound,
  type OutboundHarness,
} from './helpers.js';

let h: OutboundHarness;
let shared: number;
let personal: number;
const SHARED = 'developers@contoso.com';

interface MessageView {
  state: string;
  delivery: {
    attempts: number;
    error: { code: string; message: string; remedy: string | null } | null;
    serverResponse: string | null;
  };
}

async function newMessage(accountId: number, to = 'customer@fabrikam.example', text = 'Hello'): Promise<number> {
  const response = await h.api('POST', `/api/email/accounts/${accountId}/messages`, {
    to: [to],
    subject: 'About your ticket',
    text,
  });
  expect(response.statusCode, response.body).toBe(202);
  return response.json<{ id: number }>().id;
}

async function view(id: number): Promise<MessageView> {
  return (await h.api('GET', `/api/messages/${id}`)).json<MessageView>();
}

beforeAll(async () => {
  h = await startOutbound();
  shared = await createAccount(h, {
    key: 'DEV',
    name: 'Developers',
    emailAddress: SHARED,
    modernAuthEmail: CONTOSO.andrea.upn,
  });
  personal = await createAccount(h, { key: 'AND', name: 'Andrea', emailAddress: CONTOSO.andrea.upn });
});
afterAll(async () => h.close());

describe('the shared mailbox developers@ with its delegate andrea@', () => {
  it('sends as developers@ while andrea@ signs in', async () => {
    const id = await newMessage(shared, 'shared-test@fabrikam.example');
    await dispatchUntilIdle(h);
    expect((await view(id)).state).toBe('sent');
    const [record] = (await sent(h)).filter((r) => r.recipients.includes('shared-test@fabrikam.example'));
    expect(record).toMatchObject({ mailbox: CONTOSO.andrea.upn, envelopeFrom: SHARED });
    const [out] = await sink(h, 'shared-test@fabrikam.example');
    const parsed = await parseMessage(Buffer.from(out?.raw ?? '', 'utf8'));
    expect(parsed.from).toEqual([{ name: 'Developers', address: SHARED }]);
  });

  it('fails at once with the SendAsDenied diagnosis when the delegate has no Send As, and is sent after the right is granted and the message retried', async () => {
    await h.control('DELETE', `/mailboxes/${SHARED}/delegates/${CONTOSO.andrea.upn}?rights=SendAs`);
    const id = await newMessage(shared, 'sendas@fabrikam.example');
    await dispatchUntilIdle(h);
    const failed = await view(id);
    expect(failed).toMatchObject({
      state: 'failed',
      delivery: { attempts: 1, error: { code: 'SMTP_SEND_AS_DENIED' } },
    });
    expect(failed.delivery.error?.message).toContain('the delegate has no Send As right on the shared mailbox');
    expect(failed.delivery.error?.remedy).toContain(
      `Add-RecipientPermission ${SHARED} -Trustee ${CONTOSO.andrea.upn} -AccessRights SendAs`,
    );
    const timeline = await listEvents(h.pair.postern.runtime.db, {
      scope: 'account',
      scopeId: shared,
      types: ['account.send_failed'],
    });
    expect(timeline.items[0]?.data).toMatchObject({
      code: 'SMTP_SEND_AS_DENIED',
      response: expect.stringContaining('554 5.2.252 SendAsDenied'),
    });

    await h.control('POST', `/mailboxes/${SHARED}/delegates`, { user: CONTOSO.andrea.upn, rights: ['SendAs'] });
    const retried = await h.api('POST', `/api/messages/${id}/retry`);
    expect(retried.json()).toMatchObject({ state: 'queued' });
    await dispatchUntilIdle(h);
    expect(await view(id)).toMatchObject({ state: 'sent', delivery: { attempts: 2, error: null } });
  });

  it.each([
    ['5.7.60', /^550 5\.7\.60 SMTP; Client does not have permissions to send as this sender/],
    ['5.2.0', /^554 5\.2\.0 STOREDRV\.Submission\.Exception:SendAsDeniedException/],
  ])('recognises the %s wording of a Send As denial as the same diagnosis', async (form, wording) => {
    await h.control('DELETE', `/mailboxes/${SHARED}/delegates/${CONTOSO.andrea.upn}?rights=SendAs`);
    await h.control('PUT', '/exchange/faults/smtp/send-as-denial', { form });
    try {
      const id = await newMessage(shared, `sendas-${form}@fabrikam.example`);
      await dispatchUntilIdle(h);
      const failed = await view(id);
      expect(failed).toMatchObject({
        state: 'failed',
        delivery: { attempts: 1, error: { code: 'SMTP_SEND_AS_DENIED' } },
      });
      expect(failed.delivery.error?.remedy).toContain('Add-RecipientPermission');
      const timeline = await listEvents(h.pair.postern.runtime.db, {
        scope: 'message',
        scopeId: id,
        types: ['message.failed'],
      });
      expect(timeline.items[0]?.data).toMatchObject({ response: expect.stringMatching(wording) });
    } finally {
      await h.control('PUT', '/exchange/faults/smtp/send-as-denial', { form: '5.2.252' });
      await h.control('POST', `/mailboxes/${SHARED}/delegates`, { user: CONTOSO.andrea.upn, rights: ['SendAs'] });
    }
  });
});

describe('SMTP AUTH', () => {
  it('disabled for the tenant: failed with the 5.7.139 remedy; enabled for the mailbox and retried: sent', async () => {
    await h.control('PATCH', `/mailboxes/${CONTOSO.andrea.upn}`, { smtpAuthEnabled: null });
    await h.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { smtpAuthDisabledByDefault: true });
    try {
      const id = await newMessage(personal, 'smtpauth@fabrikam.example');
      await dispatchUntilIdle(h);
      const failed = await view(id);
      expect(failed).toMatchObject({
        state: 'failed',
        delivery: { attempts: 1, error: { code: 'SMTP_AUTH_DISABLED' } },
      });
      expect(failed.delivery.error?.message).toContain('disabled for the tenant');
      expect(failed.delivery.error?.remedy).toContain(
        'SMTP AUTH is disabled for the tenant (or this mailbox): enable authenticated SMTP for the mailbox, or use the Graph transport',
      );

      await h.control('PATCH', `/mailboxes/${CONTOSO.andrea.upn}`, { smtpAuthEnabled: true });
      expect((await h.api('POST', `/api/messages/${id}/retry`)).statusCode).toBe(200);
      await dispatchUntilIdle(h);
      expect(await view(id)).toMatchObject({ state: 'sent', delivery: { attempts: 2 } });
    } finally {
      await h.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { smtpAuthDisabledByDefault: false });
      await h.control('PATCH', `/mailboxes/${CONTOSO.andrea.upn}`, { smtpAuthEnabled: true });
    }
  });
});

describe('"Send and close"', () => {
  it('reopens the conversation when its reply fails: the failure is not hidden in the Closed tab', async () => {
    const { interactionId } = await receive(h, personal, {
      from: 'Ada Lovelace <ada.close@fabrikam.example>',
      to: CONTOSO.andrea.upn,
      subject: 'Close me after',
      text: 'Thanks in advance',
    });
    // A 451 with no retry window left: the reply fails for good.
    await h.api('PATCH', `/api/email/accounts/${personal}/sending`, { retryForHours: 0 });
    await h.control('POST', '/exchange/faults/smtp', { count: 1, code: 451 });
    try {
      const replied = await h.api('POST', `/api/interactions/${interactionId}/reply`, { text: 'Done.', close: true });
      expect(replied.statusCode, replied.body).toBe(202);
      expect((await h.api('GET', `/api/interactions/${interactionId}`)).json()).toMatchObject({ status: 'closed' });
      await dispatchUntilIdle(h);
      expect(await view(replied.json<{ id: number }>().id)).toMatchObject({ state: 'failed' });
      expect((await h.api('GET', `/api/interactions/${interactionId}`)).json()).toMatchObject({
        status: 'open',
        closedAt: null,
      });
    } finally {
      await h.api('PATCH', `/api/email/accounts/${personal}/sending`, { retryForHours: 24 });
    }
  });
});

describe('temporary failures', () => {
  it('421 for the next 5 transactions: every affected message is sent later, none fails', async () => {
    await h.control('POST', '/exchange/faults/smtp', { count: 5, code: 421 });
    const ids: number[] = [];
    for (let i = 0; i < 8; i += 1) ids.push(await newMessage(personal, `fault${i}@fabrikam.example`));
    await dispatchUntilIdle(h, { stepMs: 15_000 });
    expect(await h.control('GET', '/exchange/faults')).toMatchObject({ smtpFailures: 0 });
    const views = await Promise.all(ids.map(view));
    expect(views.map((v) => v.state)).toEqual(Array(8).fill('sent'));
    expect(views.filter((v) => v.delivery.attempts > 1)).toHaveLength(5);
    const retries = await listEvents(h.pair.postern.runtime.db, {
      scope: 'message',
      types: ['message.retry_scheduled'],
      limit: 100,
    });
    expect(retries.items.filter((e) => ids.includes(e.scopeId ?? 0))).toHaveLength(5);
    expect(retries.items[0]?.data).toMatchObject({
      code: 'SMTP_TEMPORARY_FAILURE',
      response: expect.stringMatching(/^421 4\.3\.2/),
    });
  });

  it('gives up when the retry window is over', async () => {
    await h.api('PATCH', `/api/email/accounts/${personal}/sending`, { retryForHours: 0 });
    await h.control('POST', '/exchange/faults/smtp', { count: 1, code: 451 });
    try {
      const id = await newMessage(personal, 'window@fabrikam.example');
      await dispatchUntilIdle(h);
      const failed = await view(id);
      expect(failed).toMatchObject({ state: 'failed', delivery: { error: { code: 'OUTBOX_RETRIES_EXHAUSTED' } } });
      expect(failed.delivery.error?.message).toContain('451 4.3.0');
    } finally {
      await h.api('PATCH', `/api/email/accounts/${personal}/sending`, { retryForHours: 24 });
    }
  });
});

describe('cancel and retry', () => {
  it('cancels a queued message, refuses to cancel a sent one or retry a queued one, and sends a cancelled one on retry', async () => {
    const id = await newMessage(personal, 'cancel@fabrikam.example');
    expect((await h.api('POST', `/api/messages/${id}/retry`)).json().error.code).toBe('OUTBOX_NOT_RETRYABLE');
    const cancelled = await h.api('POST', `/api/messages/${id}/cancel`);
    expect(cancelled.json()).toMatchObject({ state: 'cancelled' });
    await dispatchUntilIdle(h);
    expect(await sink(h, 'cancel@fabrikam.example')).toHaveLength(0);
    await h.api('POST', `/api/messages/${id}/retry`);
    await dispatchUntilIdle(h);
    expect((await view(id)).state).toBe('sent');
    const refused = await h.api('POST', `/api/messages/${id}/cancel`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'OUTBOX_NOT_CANCELLABLE', details: { state: 'sent' } });
  });
});
