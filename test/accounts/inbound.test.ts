import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailboxWorkers } from '../../src/workers/mailbox-workers.js';
import { CONTOSO, authenticatedProvider, startPair, type Pair } from '../providers/helpers.js';
import { until } from '../helpers/until.js';

/**
 * The guide's shared mailbox example end to end, with the real mailbox workers: a provider
 * authenticated as andrea@, the account developers@ with andrea@ as modern authentication email,
 * mail delivered to developers@ by the emulator.
 */
let pair: Pair;
let workers: MailboxWorkers;
let accountId: number;
let providerId: number;

beforeAll(async () => {
  pair = await startPair();
  ({ providerId } = await authenticatedProvider(pair));
  const roles = await pair.postern.runtime.startRoles(['mailboxSync'], {
    mailboxSync: { tuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 } } },
  });
  if (roles.mailboxSync === undefined) throw new Error('the mailbox workers did not start');
  workers = roles.mailboxSync;
  const created = await pair.postern.app.inject({
    method: 'POST',
    url: '/api/email/accounts',
    headers: { authorization: pair.admin },
    payload: {
      name: 'Developers',
      key: 'DEV',
      emailAddress: 'developers@contoso.com',
      username: 'developers@contoso.com',
      providerId,
      modernAuthEmail: CONTOSO.andrea.upn,
      imapHost: '127.0.0.1',
      imapPort: Number(new URL(pair.emulator.handle.urls.imap ?? '').port),
      smtpHost: '127.0.0.1',
      smtpPort: Number(new URL(pair.emulator.handle.urls.smtp ?? '').port),
      firstSync: { kind: 'all' },
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  accountId = created.json<{ id: number }>().id;
});
afterAll(async () => {
  await pair.close();
});

const db = () => pair.postern.runtime.db.kysely;
const accountRow = () =>
  db().selectFrom('email_accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();

describe('inbound mail through the mailbox workers', () => {
  it('connects, shows the account connected, and the connection test reports each step', async () => {
    await until('connected', async () => ((await accountRow()).status === 'connected' ? true : undefined));
    const test = await pair.postern.app.inject({
      method: 'POST',
      url: `/api/email/accounts/${accountId}/test`,
      headers: { authorization: pair.admin },
    });
    expect(test.json()).toMatchObject({ ok: true, error: null });
    type Step = { step: string; ok: boolean; skipped?: boolean; detail: string };
    expect(test.json<{ steps: Step[] }>().steps.map((s) => s.step)).toEqual([
      'grant',
      'token',
      'imap-login',
      'folder',
      'smtp-auth',
      'send-as',
    ]);
    // SMTP AUTH is checked as the delegate; Send As, which only a submission checks, waits to be asked.
    const steps = test.json<{ steps: Step[] }>().steps;
    expect(steps.find((s) => s.step === 'smtp-auth')).toMatchObject({ ok: true });
    expect(steps.find((s) => s.step === 'send-as')).toMatchObject({ skipped: true });
    const withSend = await pair.postern.app.inject({
      method: 'POST',
      url: `/api/email/accounts/${accountId}/test`,
      headers: { authorization: pair.admin },
      payload: { sendTest: true },
    });
    expect(withSend.json()).toMatchObject({ ok: true, error: null });
    const sendAs = withSend.json<{ steps: Step[] }>().steps.find((s) => s.step === 'send-as');
    expect(sendAs).toMatchObject({ ok: true });
    expect(sendAs?.skipped).toBeUndefined();
    expect(sendAs?.detail).toContain(`submitted by ${CONTOSO.andrea.upn}`);
  });

  it('turns a customer mail to developers@ into an interaction and saves the sender as a contact in the default list', async () => {
    await pair.emulator.control('POST', '/exchange/messages', {
      from: 'Carla Customer <carla@customer.example>',
      to: 'developers@contoso.com',
      subject: 'The build is red',
      text: 'Since this morning the pipeline fails.',
      messageId: '<first@customer.example>',
    });
    const message = await until('the message', async () =>
      db()
        .selectFrom('messages')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('message_id', '=', '<first@customer.example>')
        .executeTakeFirst(),
    );
    const interaction = await db()
      .selectFrom('interactions')
      .selectAll()
      .where('id', '=', message.interaction_id ?? -1)
      .executeTakeFirstOrThrow();
    expect(interaction.subject).toBe('The build is red');
    const account = await accountRow();
    const contact = await pair.postern.app.inject({
      method: 'GET',
      url: '/api/contacts?q=carla%40customer.example',
      headers: { authorization: pair.admin },
    });
    expect(contact.json().items).toHaveLength(1);
    expect(contact.json().items[0]).toMatchObject({ name: 'Carla Customer', listId: account.default_list_id });

    // The customer answers: the reply threads into the same interaction.
    await pair.emulator.control('POST', '/exchange/messages', {
      from: 'carla@customer.example',
      to: 'developers@contoso.com',
      subject: 'Re: The build is red',
      text: 'Still red.',
      messageId: '<second@customer.example>',
      inReplyTo: '<first@customer.example>',
      references: '<first@customer.example>',
    });
    const reply = await until('the reply', async () =>
      db().selectFrom('messages').selectAll().where('message_id', '=', '<second@customer.example>').executeTakeFirst(),
    );
    expect(reply.interaction_id).toBe(message.interaction_id);
    // Marked seen in the mailbox (the default after-fetch action).
    const inbox = async () =>
      (
        (await pair.emulator.control('GET', '/exchange/mailboxes/developers@contoso.com/folders/INBOX/messages')) as {
          messages: Array<{ flags: string[] }>;
        }
      ).messages;
    await until('seen flags', async () =>
      (await inbox()).every((m) => m.flags.includes('\\Seen')) ? true : undefined,
    );
    expect((await inbox()).length).toBe(2);
  });

  it('shows the account disconnected with the reason when re-authentication is required, and reconnects once the grant is renewed', async () => {
    await pair.emulator.control('POST', `/users/${CONTOSO.andrea.id}/revoke-sessions`);
    // The next token refresh fails; force it by moving past the token's life.
    pair.emulator.handle.clock.advance(2 * 60 * 60 * 1000);
    await pair.emulator.control('POST', '/exchange/faults/imap/drop', {});
    const down = await until('disconnected', async () => {
      const row = await accountRow();
      return row.status === 'disconnected' && row.last_error_code === 'AUTH_SESSIONS_REVOKED' ? row : undefined;
    });
    expect(down.last_error_remedy).toMatch(/Authenticate/);

    // The administrator authenticates again as andrea@: the worker reconnects by itself.
    const { authenticate } = await import('../providers/helpers.js');
    const again = await authenticate(pair, providerId, {
      username: CONTOSO.andrea.upn,
      password: CONTOSO.andrea.password,
    });
    expect(again.response.headers.location).toContain('authentication=success');
    await until('reconnected', async () => ((await accountRow()).status === 'connected' ? true : undefined), 20_000);
    const events = await pair.postern.app.inject({
      method: 'GET',
      url: `/api/email/accounts/${accountId}/events`,
      headers: { authorization: pair.admin },
    });
    const types = events.json().items.map((e: { type: string }) => e.type);
    expect(types).toContain('account.disconnected');
    expect(types[0]).toBe('account.connected');
  });

  it('stops the worker when the account is disabled, without restart', async () => {
    await pair.postern.app.inject({
      method: 'POST',
      url: `/api/email/accounts/${accountId}/disable`,
      headers: { authorization: pair.admin },
    });
    await until('disabled', async () => ((await accountRow()).status === 'disabled' ? true : undefined));
    expect(workers.running()).not.toContain(accountId);
    await pair.postern.app.inject({
      method: 'POST',
      url: `/api/email/accounts/${accountId}/enable`,
      headers: { authorization: pair.admin },
    });
    await until('connected again', async () => ((await accountRow()).status === 'connected' ? true : undefined));
  });
});
