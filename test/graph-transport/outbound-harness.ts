/**
 * Postern's outbox on accounts of transport `graph`, against the emulator over loopback TLS: the
 * emulator (identity, Exchange, Graph; mail in memory) and Postern on its clock, on the database
 * given (SQLite file or PostgreSQL), a Cloud Provider whose scopes are Graph's mail permissions
 * with andrea@ signed in through the emulator's pages, and an outbox dispatcher built on the
 * runtime's services, stepped with `runOnce()` between moves of the clock.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { z } from 'zod';
import type { GraphSenderOptions } from '../../src/mail/graph/graph-sender.js';
import { createOutboundServices } from '../../src/services/outbound/outbound-services.js';
import type { Database } from '../../src/store/index.js';
import { OutboxDispatcher, type OutboxDispatcherOptions } from '../../src/workers/outbox-dispatcher.js';
import { CONTOSO, startTestEmulator, type TestEmulator } from '../emulator/helpers/emulator.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { authenticate, type Pair } from '../providers/helpers.js';
import { receiveInto } from '../outbound/helpers.js';

export { CONTOSO };
export const SHARED = 'developers@contoso.com';

const GRAPH = 'https://graph.microsoft.com';
/** The delegated Graph permissions a provider asks for to read and send, own and shared mailboxes. */
export const GRAPH_SCOPES = [
  `${GRAPH}/Mail.ReadWrite`,
  `${GRAPH}/Mail.Send`,
  `${GRAPH}/Mail.ReadWrite.Shared`,
  `${GRAPH}/Mail.Send.Shared`,
  'openid',
  'profile',
  'email',
  'offline_access',
];

export interface GraphOutbound {
  readonly pair: Pair;
  readonly emulator: TestEmulator;
  readonly postern: TestPostern;
  readonly db: Database;
  readonly dispatcher: OutboxDispatcher;
  readonly providerId: number;
  control(method: string, route: string, body?: unknown): Promise<unknown>;
  api(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object): Promise<LightMyRequestResponse>;
  /** Moves the shared clock. */
  advance(ms: number): void;
  close(): Promise<void>;
}

/** Starts the emulator and Postern on `databaseUrl`; signs andrea@ in with Graph's scopes. */
export async function startGraphOutbound(
  databaseUrl: string,
  options: {
    dispatcher?: OutboxDispatcherOptions;
    graphSender?: GraphSenderOptions;
    recipientsPerDay?: number;
  } = {},
): Promise<GraphOutbound> {
  const emulator = await startTestEmulator({
    exchange: {
      inMemory: true,
      ...(options.recipientsPerDay === undefined
        ? {}
        : { smtp: { limits: { recipientsPerDay: options.recipientsPerDay } } }),
    },
  });
  const postern = await startTestPostern(
    { POSTERN_DATABASE_URL: databaseUrl },
    { clock: () => emulator.handle.clock.now(), sleep: async () => undefined },
  );
  const admin = (await postern.bearer('admin')).authorization;
  const pair: Pair = {
    emulator,
    postern,
    admin,
    async close() {
      await postern.close();
      await emulator.stop();
    },
  };
  const app: FastifyInstance = postern.app;
  const api: GraphOutbound['api'] = (method, url, payload) =>
    app.inject({ method, url, headers: { authorization: admin }, ...(payload === undefined ? {} : { payload }) });
  const created = await api('POST', '/api/cloudProviders', {
    name: 'Contoso Graph',
    applicationId: CONTOSO.web.appId,
    tenantId: CONTOSO.tenantId,
    clientSecret: CONTOSO.web.secret,
    clientSecretExpiresAt: '2099-12-31',
    cloud: 'custom',
    authorityUrl: emulator.base,
    caFile: emulator.handle.caFile,
    scopes: GRAPH_SCOPES,
  });
  expect(created.statusCode, created.body).toBe(201);
  const providerId = created.json<{ id: number }>().id;
  const { response } = await authenticate(pair, providerId, {
    username: CONTOSO.andrea.upn,
    password: CONTOSO.andrea.password,
  });
  expect(response.headers.location).toContain('authentication=success');
  const { runtime } = postern;
  // The composition root's delivery service, or one like it with the Graph sender's limits lowered.
  const delivery =
    options.graphSender === undefined
      ? runtime.services.outbound.delivery
      : createOutboundServices({
          db: runtime.db,
          box: runtime.box,
          logger: runtime.log.logger,
          accounts: runtime.services.accounts,
          accessTokens: runtime.services.accessTokens,
          graphSender: options.graphSender,
        }).delivery;
  const dispatcher = new OutboxDispatcher(
    runtime.services.outbound.dispatch,
    delivery,
    runtime.log.logger.child({ component: 'outbox' }),
    { pollIntervalMs: 20, ...options.dispatcher },
  );
  return {
    pair,
    emulator,
    postern,
    db: runtime.db,
    dispatcher,
    providerId,
    control: (method, route, body) => emulator.control(method, route, body),
    api,
    advance: (ms) => emulator.handle.clock.advance(ms),
    async close() {
      await dispatcher.stop();
      await pair.close();
    },
  };
}

/** Creates an account of transport `graph` through the API; returns its id. */
export async function createGraphAccount(
  h: GraphOutbound,
  fields: { key: string; emailAddress: string; name?: string; modernAuthEmail?: string },
): Promise<number> {
  const response = await h.api('POST', '/api/email/accounts', {
    name: fields.name ?? fields.key,
    key: fields.key,
    emailAddress: fields.emailAddress,
    username: fields.emailAddress,
    providerId: h.providerId,
    transport: 'graph',
    ...(fields.modernAuthEmail === undefined ? {} : { modernAuthEmail: fields.modernAuthEmail }),
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: number }>().id;
}

/**
 * A customer's message arriving in the account's mailbox and ingested as the mailbox worker does:
 * delivered by the emulator, read back raw, stored by `ingestMessage`.
 */
export function receive(
  h: GraphOutbound,
  accountId: number,
  message: Record<string, unknown>,
): Promise<{ interactionId: number; messageRowId: number; threadedBy: string }> {
  return receiveInto(h.db, h, accountId, message);
}

const sentRecords = z.object({
  sent: z.array(
    z.object({
      via: z.string(),
      mailbox: z.string(),
      envelopeFrom: z.string(),
      recipients: z.array(z.string()),
      messageId: z.string().nullable(),
      raw: z.string().optional(),
    }),
  ),
});

/** Accepted submissions, as the emulator logged them. */
export async function sent(h: { control: GraphOutbound['control'] }): Promise<z.infer<typeof sentRecords>['sent']> {
  return sentRecords.parse(await h.control('GET', '/exchange/sent?raw=true')).sent;
}

const sinkMessages = z.object({
  messages: z.array(z.object({ recipients: z.array(z.string()), raw: z.string().optional() })),
});

/** What left the emulated tenant for `to`. */
export async function sink(h: GraphOutbound, to: string): Promise<z.infer<typeof sinkMessages>['messages']> {
  return sinkMessages.parse(await h.control('GET', `/exchange/sink?raw=true&to=${encodeURIComponent(to)}`)).messages;
}

/** Steps the dispatcher, moving the clock between rounds, until nothing is queued or sending. */
export async function dispatchUntilIdle(h: GraphOutbound, options: { stepMs?: number; maxRounds?: number } = {}) {
  for (let round = 0; round < (options.maxRounds ?? 500); round += 1) {
    await h.dispatcher.runOnce();
    const open = await h.db.kysely
      .selectFrom('outbox')
      .select('id')
      .where('state', 'in', ['queued', 'sending'])
      .executeTakeFirst();
    if (open === undefined) return round + 1;
    h.advance(options.stepMs ?? 1000);
  }
  throw new Error('the outbox did not empty');
}

/** A message's delivery as the API shows it. */
export interface MessageView {
  state: string;
  delivery: {
    attempts: number;
    error: { code: string; message: string; remedy: string | null } | null;
    serverResponse: string | null;
  };
}

export async function view(h: GraphOutbound, id: number): Promise<MessageView> {
  return (await h.api('GET', `/api/messages/${id}`)).json<MessageView>();
}

/** Queues a new message on an account through the API; returns its id. */
export async function newMessage(
  h: GraphOutbound,
  accountId: number,
  fields: { to: string; subject?: string; text?: string; bcc?: string[]; attachments?: object[] },
): Promise<number> {
  const response = await h.api('POST', `/api/email/accounts/${accountId}/messages`, {
    to: [fields.to],
    subject: fields.subject ?? 'About your ticket',
    text: fields.text ?? 'Hello',
    ...(fields.bcc === undefined ? {} : { bcc: fields.bcc }),
    ...(fields.attachments === undefined ? {} : { attachments: fields.attachments }),
  });
  expect(response.statusCode, response.body).toBe(202);
  return response.json<{ id: number }>().id;
}
