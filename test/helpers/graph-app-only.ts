/**
 * An app-only Graph account against the emulator over loopback TLS, as issue 14's app-only
 * acceptance needs it: a Cloud Provider of the emulator's daemon app signing in with a certificate
 * Postern generated (uploaded to the app registration) and the client-credentials grant, no
 * delegate; the mailbox workers running on a fast backoff, an outbox dispatcher; the customer's
 * message in the shared mailbox developers@; and developers@ as a Graph account.
 */
import { expect } from 'vitest';
import { z } from 'zod';
import { OutboxDispatcher } from '../../src/workers/outbox-dispatcher.js';
import { CONTOSO, startPair, type Pair } from '../providers/helpers.js';
import { until } from './until.js';

export { CONTOSO };
export const SHARED = 'developers@contoso.com';
export const CUSTOMER = 'ada.lovelace@fabrikam.example';

export interface InjectedResponse {
  status: number;
  body: string;
  json: <T>() => T;
}

export interface AppOnlyGraph {
  pair: Pair;
  providerId: number;
  accountId: number;
  dispatcher: OutboxDispatcher;
  api(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object): Promise<InjectedResponse>;
  db(): Pair['postern']['runtime']['db']['kysely'];
  close(): Promise<void>;
}

/**
 * Starts the pair and sets the account up. `beforeSignIn` runs once the emulator is up, before the
 * provider first asks for a token (e.g. to change the app's consent or Exchange's role assignments);
 * `account` changes the account's fields (another transport, the emulator's IMAP and SMTP ports).
 */
export async function startAppOnlyGraph(
  options: {
    key?: string;
    messageId?: string;
    beforeSignIn?: (pair: Pair) => Promise<void>;
    account?: (pair: Pair) => Record<string, unknown>;
  } = {},
): Promise<AppOnlyGraph> {
  const pair = await startPair();
  const api = async (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
  ): Promise<InjectedResponse> => {
    const response = await pair.postern.app.inject({
      method,
      url,
      headers: { authorization: pair.admin },
      ...(payload === undefined ? {} : { payload }),
    });
    return { status: response.statusCode, body: response.body, json: <T>() => response.json<T>() };
  };
  await options.beforeSignIn?.(pair);
  const created = await api('POST', '/api/cloudProviders', {
    name: 'Contoso app-only (Graph)',
    applicationId: CONTOSO.daemon.appId,
    tenantId: CONTOSO.tenantId,
    grantType: 'client_credentials',
    clientCertificate: { generate: true },
    cloud: 'custom',
    authorityUrl: pair.emulator.base,
    caFile: pair.emulator.handle.caFile,
  });
  expect(created.status, created.body).toBe(201);
  const providerId = created.json<{ id: number }>().id;
  // The administrator uploads the certificate Postern generated to the app registration.
  const certificate = (await api('GET', `/api/cloudProviders/${providerId}/clientCertificate`)).body;
  await pair.emulator.control('POST', `/apps/${CONTOSO.daemon.appId}/certificates`, { certificate });
  const authenticated = await api('POST', `/api/cloudProviders/${providerId}/authenticate`, {});
  expect(authenticated.status, authenticated.body).toBe(200);

  const roles = await pair.postern.runtime.startRoles(['mailboxSync'], {
    mailboxSync: {
      tuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 } },
      graphTuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 } },
    },
  });
  if (roles.mailboxSync === undefined) throw new Error('the mailbox workers did not start');
  const outbound = pair.postern.runtime.services.outbound;
  const dispatcher = new OutboxDispatcher(outbound.dispatch, outbound.delivery, pair.postern.runtime.log.logger, {
    pollIntervalMs: 20,
  });
  await pair.emulator.control('POST', '/exchange/messages', {
    from: `Ada Lovelace <${CUSTOMER}>`,
    to: SHARED,
    subject: 'The engine stopped',
    text: 'It stopped at step 7.',
    messageId: options.messageId ?? '<engine@fabrikam.example>',
  });
  const account = await api('POST', '/api/email/accounts', {
    name: 'Developers',
    key: options.key ?? 'DEVG',
    emailAddress: SHARED,
    username: SHARED,
    providerId,
    transport: 'graph',
    firstSync: { kind: 'all' },
    pollIntervalSeconds: 10,
    ...options.account?.(pair),
  });
  expect(account.status, account.body).toBe(201);
  const accountId = account.json<{ id: number }>().id;
  return {
    pair,
    providerId,
    accountId,
    dispatcher,
    api,
    db: () => pair.postern.runtime.db.kysely,
    async close() {
      await dispatcher.stop();
      await pair.close();
    },
  };
}

const sentSchema = z.object({
  sent: z.array(z.object({ via: z.string().optional(), messageId: z.string().nullable(), mailbox: z.string() })),
});

/**
 * Mail in → conversation → reply received: waits for the customer's message `messageId`, replies
 * to its interaction, dispatches the outbox until idle, and checks that the reply was sent and
 * that the emulator received it through Graph from the shared mailbox; returns the reply's id and Message-ID.
 */
export async function replyThroughGraph(
  h: AppOnlyGraph,
  messageId: string,
  text: string,
): Promise<{ id: number; messageId: string }> {
  const stored = await until(
    'the customer message',
    async () =>
      h
        .db()
        .selectFrom('messages')
        .select(['id', 'interaction_id', 'graph_id'])
        .where('account_id', '=', h.accountId)
        .where('message_id', '=', messageId)
        .executeTakeFirst(),
    60_000,
  );
  expect(stored.graph_id).toEqual(expect.any(String));
  const queued = await h.api('POST', `/api/interactions/${stored.interaction_id}/reply`, { text });
  expect(queued.status, queued.body).toBe(202);
  const reply = queued.json<{ id: number; messageId: string }>();
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
  const view = (await h.api('GET', `/api/messages/${reply.id}`)).json<{ state: string }>();
  expect(view.state).toBe('sent');
  const sent = sentSchema.parse(await h.pair.emulator.control('GET', `/exchange/sent?mailbox=${SHARED}`));
  expect(sent.sent.find((s) => s.messageId === reply.messageId)).toMatchObject({ via: 'graph', mailbox: SHARED });
  return reply;
}

/** Waits until the account's last error is `code` (the mailbox worker polls every 10 s); returns the row. */
export async function accountInError(
  h: AppOnlyGraph,
  code: string,
): Promise<{ status: string; last_error_code: string | null; last_error_remedy: string | null }> {
  return until(
    `the account in error ${code}`,
    async () => {
      const row = await h
        .db()
        .selectFrom('email_accounts')
        .select(['status', 'last_error_code', 'last_error_remedy'])
        .where('id', '=', h.accountId)
        .executeTakeFirstOrThrow();
      return row.last_error_code === code ? row : undefined;
    },
    60_000,
  );
}
