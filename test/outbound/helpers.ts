/**
 * Postern's outbound half against the emulator: the pair of test/providers/helpers.ts (Postern's
 * clock is the emulator's), andrea@ signed in, the outbound services and routes of the composition
 * root, an outbox dispatcher built here on the runtime's services so that tests step it with
 * `runOnce()` between moves of the clock (`postern start` runs the same class as the
 * `outboxDispatch` role), and accounts whose SMTP host is the emulator's submission server
 * (STARTTLS, trusting the emulator's CA through the provider).
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { z } from 'zod';
import { ingestMessage } from '../../src/services/inbound/ingest-message.js';
import type { OutboundServices } from '../../src/services/outbound/outbound-services.js';
import { requireEmailAccount, type Database } from '../../src/store/index.js';
import { OutboxDispatcher, type OutboxDispatcherOptions } from '../../src/workers/outbox-dispatcher.js';
import { CONTOSO, authenticatedProvider, startPair, type Pair } from '../providers/helpers.js';

export { CONTOSO };

export interface OutboundHarness {
  pair: Pair;
  app: FastifyInstance;
  outbound: OutboundServices;
  dispatcher: OutboxDispatcher;
  providerId: number;
  smtpPort: number;
  /** The emulator's control API, parsed JSON. */
  control(method: string, route: string, body?: unknown): Promise<unknown>;
  /** Postern's API with the admin token (or another). */
  api(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startOutbound(
  options: OutboxDispatcherOptions = {},
  env: Record<string, string> = {},
): Promise<OutboundHarness> {
  const pair = await startPair(env);
  const { providerId } = await authenticatedProvider(pair);
  const { runtime } = pair.postern;
  const outbound = runtime.services.outbound;
  const app = pair.postern.app;
  const dispatcher = new OutboxDispatcher(
    outbound.dispatch,
    outbound.delivery,
    runtime.log.logger.child({ component: 'outbox' }),
    { pollIntervalMs: 20, ...options },
  );
  const smtpPort = Number(new URL(pair.emulator.handle.urls.smtp ?? 'x://0:0').port);
  return {
    pair,
    app,
    outbound,
    dispatcher,
    providerId,
    smtpPort,
    control: (method, route, body) => pair.emulator.control(method, route, body),
    api: (method, url, payload, headers = {}) =>
      app.inject({
        method,
        url,
        headers: { authorization: pair.admin, ...headers },
        ...(payload === undefined ? {} : { payload }),
      }),
    async close() {
      await dispatcher.stop();
      outbound.submitter.close();
      await pair.close();
    },
  };
}

/**
 * Creates an account through the API whose SMTP server is the emulator's; returns its id. Its
 * transport is IMAP and SMTP, named: these suites are about SMTP submission, which `auto` (the
 * default) would leave for Graph when SMTP AUTH is disabled (test/graph-transport/auto.test.ts).
 */
export async function createAccount(
  h: OutboundHarness,
  fields: { key: string; emailAddress: string; name?: string; modernAuthEmail?: string; agentIds?: number[] },
): Promise<number> {
  const response = await h.api('POST', '/api/email/accounts', {
    name: fields.name ?? fields.key,
    key: fields.key,
    emailAddress: fields.emailAddress,
    username: fields.emailAddress,
    providerId: h.providerId,
    transport: 'imap_smtp',
    smtpHost: '127.0.0.1',
    smtpPort: h.smtpPort,
    ...(fields.modernAuthEmail === undefined ? {} : { modernAuthEmail: fields.modernAuthEmail }),
    ...(fields.agentIds === undefined ? {} : { agentIds: fields.agentIds }),
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: number }>().id;
}

const delivered = z.object({
  delivered: z.array(z.object({ mailbox: z.string(), uid: z.number(), uidValidity: z.number() })),
});
const folderMessages = z.object({ messages: z.array(z.object({ uid: z.number(), raw: z.string() })) });

/**
 * A customer's message arriving in the account's mailbox and ingested as the mailbox worker
 * does (the IMAP worker is another issue): delivered by the emulator, read back raw, ingested.
 */
export function receive(
  h: OutboundHarness,
  accountId: number,
  message: Record<string, unknown>,
): Promise<{ interactionId: number; messageRowId: number; threadedBy: string }> {
  return receiveInto(h.pair.postern.runtime.db, h, accountId, message);
}

/** {@link receive} for any database and emulator control (the Graph outbound harness uses it too). */
export async function receiveInto(
  db: Database,
  emulator: EmulatorControl,
  accountId: number,
  message: Record<string, unknown>,
): Promise<{ interactionId: number; messageRowId: number; threadedBy: string }> {
  const account = await requireEmailAccount(db, accountId);
  const placed = delivered.parse(
    await emulator.control('POST', '/exchange/messages', { ...message, mailbox: account.username }),
  );
  const spot = placed.delivered[0];
  if (spot === undefined) throw new Error('the emulator delivered nothing');
  const listing = folderMessages.parse(
    await emulator.control(
      'GET',
      `/exchange/mailboxes/${encodeURIComponent(account.username)}/folders/Inbox/messages?raw=true`,
    ),
  );
  const raw = listing.messages.find((m) => m.uid === spot.uid)?.raw;
  if (raw === undefined) throw new Error('the delivered message is not in the Inbox');
  const result = await ingestMessage(db, account, {
    folder: 'INBOX',
    uidvalidity: spot.uidValidity,
    uid: spot.uid,
    raw: Buffer.from(raw, 'utf8'),
    isJunk: false,
  });
  if (result.outcome !== 'stored') throw new Error('the message was a duplicate');
  return { interactionId: result.interactionId, messageRowId: result.messageRowId, threadedBy: result.threadedBy };
}

const sinkMessages = z.object({
  messages: z.array(
    z.object({
      envelopeFrom: z.string(),
      recipients: z.array(z.string()),
      messageId: z.string().nullable(),
      subject: z.string().nullable(),
      from: z.string().nullable(),
      raw: z.string().optional(),
    }),
  ),
});
const sentRecords = z.object({
  sent: z.array(
    z.object({
      mailbox: z.string(),
      envelopeFrom: z.string(),
      recipients: z.array(z.string()),
      messageId: z.string().nullable(),
      acceptedAt: z.string(),
      raw: z.string().optional(),
    }),
  ),
});

/** Anything with the emulator's control API (the harness, or the test emulator itself). */
export interface EmulatorControl {
  control(method: string, route: string, body?: unknown): Promise<unknown>;
}

/** What left the emulated tenant. */
export async function sink(h: EmulatorControl, to?: string): Promise<z.infer<typeof sinkMessages>['messages']> {
  return sinkMessages.parse(
    await h.control('GET', `/exchange/sink?raw=true${to === undefined ? '' : `&to=${encodeURIComponent(to)}`}`),
  ).messages;
}

/** Accepted submissions, as the emulator logged them. */
export async function sent(h: EmulatorControl, mailbox?: string): Promise<z.infer<typeof sentRecords>['sent']> {
  return sentRecords.parse(
    await h.control(
      'GET',
      `/exchange/sent?raw=true${mailbox === undefined ? '' : `&mailbox=${encodeURIComponent(mailbox)}`}`,
    ),
  ).sent;
}

/** Steps the dispatcher, moving the shared clock between rounds, until nothing is queued or sending. */
export async function dispatchUntilIdle(
  h: OutboundHarness,
  options: { stepMs?: number; maxRounds?: number } = {},
): Promise<number> {
  const { db } = h.pair.postern.runtime;
  for (let round = 0; round < (options.maxRounds ?? 500); round += 1) {
    await h.dispatcher.runOnce();
    const open = await db.kysely
      .selectFrom('outbox')
      .select('id')
      .where('state', 'in', ['queued', 'sending'])
      .executeTakeFirst();
    if (open === undefined) return round + 1;
    h.pair.emulator.handle.clock.advance(options.stepMs ?? 1000);
  }
  throw new Error('the outbox did not empty');
}
