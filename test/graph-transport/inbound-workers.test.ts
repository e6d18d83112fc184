/**
 * An account on transport `graph`, end to end with the real mailbox workers: a provider whose
 * grant holds Graph's mail scopes, authenticated as andrea@, the shared mailbox developers@ with
 * andrea@ as its delegate. Mail delivered to developers@ is read through Graph (the stored message
 * carries its Graph id, never an IMAP position), the account shows connected, and a reply threads.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { CONTOSO, authenticatedProvider, startPair, type Pair } from '../providers/helpers.js';
import { until } from '../helpers/until.js';

const GRAPH = 'https://graph.microsoft.com';
let pair: Pair;
let accountId: number;

beforeAll(async () => {
  pair = await startPair();
  const { providerId } = await authenticatedProvider(pair, {
    scopes: [
      `${GRAPH}/Mail.ReadWrite`,
      `${GRAPH}/Mail.ReadWrite.Shared`,
      `${GRAPH}/Mail.Send.Shared`,
      'offline_access',
      'openid',
      'profile',
      'email',
    ],
  });
  const roles = await pair.postern.runtime.startRoles(['mailboxSync'], {
    mailboxSync: { graphTuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 } } },
  });
  if (roles.mailboxSync === undefined) throw new Error('the mailbox workers did not start');
  // Already there when the account is created: the first round (at once) reads it.
  await pair.emulator.control('POST', '/exchange/messages', {
    from: 'Gina Customer <gina@customer.example>',
    to: 'developers@contoso.com',
    subject: 'Graph, please',
    text: 'Read me through Graph.',
    messageId: '<graph-first@customer.example>',
  });
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
      transport: 'graph',
      firstSync: { kind: 'all' },
      pollIntervalSeconds: 10,
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  accountId = created.json<{ id: number }>().id;
});
afterAll(async () => {
  await pair?.close();
});

const db = () => pair.postern.runtime.db.kysely;

it(
  'reads developers@ through Graph with the mailbox workers: connected, the message stored with its Graph id, a reply threaded',
  { timeout: 90_000 },
  async () => {
    const message = await until('the message', async () =>
      db()
        .selectFrom('messages')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('message_id', '=', '<graph-first@customer.example>')
        .executeTakeFirst(),
    );
    expect(message.graph_id).toEqual(expect.any(String));
    expect(message.uid).toBeNull();
    const account = await db()
      .selectFrom('email_accounts')
      .selectAll()
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    expect(account.status).toBe('connected');

    await pair.emulator.control('POST', '/exchange/messages', {
      from: 'gina@customer.example',
      to: 'developers@contoso.com',
      subject: 'Re: Graph, please',
      text: 'Again.',
      messageId: '<graph-second@customer.example>',
      inReplyTo: '<graph-first@customer.example>',
    });
    const reply = await until('the reply', async () =>
      db()
        .selectFrom('messages')
        .selectAll()
        .where('message_id', '=', '<graph-second@customer.example>')
        .executeTakeFirst(),
    );
    expect(reply.interaction_id).toBe(message.interaction_id);
    // Marked read in the mailbox through Graph (the default after-fetch action).
    const inbox = async () =>
      (
        (await pair.emulator.control('GET', '/exchange/mailboxes/developers@contoso.com/folders/INBOX/messages')) as {
          messages: Array<{ flags: string[] }>;
        }
      ).messages;
    await until('read flags', async () =>
      (await inbox()).every((m) => m.flags.includes('\\Seen')) ? true : undefined,
    );
    const events = await db()
      .selectFrom('events')
      .select('type')
      .where('scope', '=', 'account')
      .where('scope_id', '=', accountId)
      .execute();
    expect(events.map((e) => e.type)).toContain('account.connected');
  },
);

it(
  'reads 30 messages with the token it holds, not one token-service read per Graph request',
  { timeout: 90_000 },
  async () => {
    const asked = vi.spyOn(pair.postern.runtime.services.accessTokens, 'accessToken');
    try {
      for (let i = 0; i < 30; i += 1) {
        await pair.emulator.control('POST', '/exchange/messages', {
          from: 'gina@customer.example',
          to: 'developers@contoso.com',
          subject: `Batch ${i}`,
          text: 'One of thirty.',
          messageId: `<graph-batch-${i}@customer.example>`,
        });
      }
      await until('the 30 messages', async () => {
        const { stored } = await db()
          .selectFrom('messages')
          .select((eb) => eb.fn.countAll<number>().as('stored'))
          .where('account_id', '=', accountId)
          .where('message_id', 'like', '<graph-batch-%')
          .executeTakeFirstOrThrow();
        return Number(stored) === 30 ? true : undefined;
      });
      // Each message took a `$value` request (and the rounds their delta pages and batches): the
      // token is read again at most every 30 s (reused-token.ts), not for each of them.
      expect(asked.mock.calls.length).toBeLessThanOrEqual(3);
    } finally {
      asked.mockRestore();
    }
  },
);
