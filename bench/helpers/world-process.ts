/**
 * The world a Postern benchmark runs against, in its own process (forked by `world.ts`): the
 * Microsoft 365 emulator (identity platform + Exchange, mail in memory) with a generated tenant
 * (see `world-protocol.ts`), and outside senders that submit mail over SMTP (STARTTLS, XOAUTH2)
 * to the emulator's submission server — which delivers it into the recipient's Inbox, where an
 * IDLE session hears of it. Microsoft Graph's mail API is served beside them (`/v1.0` on the
 * emulator's HTTPS origin, over the same mailboxes), with its answers counted by status for the
 * Graph benchmarks. It answers the benchmark's IPC requests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { z } from 'zod';
import { createExchangeExtension, type ExchangeExtension } from '../../emulator/exchange/exchange-extension.js';
import type { FolderChange } from '../../emulator/exchange/mail-folder.js';
import { withGraph } from '../../emulator/graph/graph-extension.js';
import { startEmulator, type EmulatorExtension } from '../../emulator/main.js';
import { createCaFetch } from '../../emulator/tls/ca-fetch.js';
import { ingestCorpus } from '../ingest-corpus.js';
import { largeMessage, smallMessage } from './memory-corpus.js';
import {
  WORLD_AGENT,
  WORLD_CLIENT_ID,
  WORLD_EXCHANGE_SCOPES,
  WORLD_PASSWORD,
  WORLD_SMTP_SCOPES,
  WORLD_TENANT_ID,
  senderMailbox,
  worldSeed,
  type WorldReply,
  type WorldRequest,
} from './world-protocol.js';

const now = (): number => performance.timeOrigin + performance.now();
const specSchema = z.object({ mailboxes: z.number().int().min(1), senders: z.number().int().min(0) });
const tokenReply = z.object({ access_token: z.string() });
const refreshReply = z.object({ refresh_token: z.string() });
const redemptionsReply = z.object({
  chains: z.number(),
  redemptions: z.number(),
  repeatedChains: z.number(),
  extraRedemptions: z.number(),
  maxPerChain: z.number(),
});

type Transport = Transporter<SMTPPool.SentMessageInfo, SMTPPool.Options>;

async function main(): Promise<void> {
  const spec = specSchema.parse(JSON.parse(process.env.WORLD_SPEC ?? '{}'));
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postern-bench-world-'));
  let exchange: ExchangeExtension | undefined;
  // Graph's answers by status, and its accepted sendMail calls, since the last report.
  let graphStatuses = new Map<number, number>();
  let sendMailAccepted = 0;
  // When each token request arrived, for the token benchmark's "most requests in any second".
  let tokenArrivals: number[] = [];
  const graphCounter: EmulatorExtension = {
    name: 'bench-graph-counter',
    registerRoutes(app) {
      app.addHook('onRequest', async (request) => {
        if (request.method === 'POST' && request.url.endsWith('/oauth2/v2.0/token')) tokenArrivals.push(now());
      });
      app.addHook('onResponse', async (request, reply) => {
        if (!request.url.startsWith('/v1.0/')) return;
        graphStatuses.set(reply.statusCode, (graphStatuses.get(reply.statusCode) ?? 0) + 1);
        if (reply.statusCode === 202 && request.method === 'POST' && request.url.endsWith('/sendMail'))
          sendMailAccepted += 1;
      });
    },
  };
  const handle = await startEmulator({
    dataDir,
    seed: worldSeed(spec),
    exchange: false,
    extensions: [
      ...withGraph((core) => {
        exchange = createExchangeExtension(core, { inMemory: true });
        return exchange;
      }),
      () => graphCounter,
    ],
  });
  const service = exchange?.service;
  if (service === undefined) throw new Error('the Exchange extension did not start');
  const smtpPort = Number(new URL(handle.urls.smtp ?? 'x://0:0').port);
  const send = (reply: WorldReply): void => {
    process.send?.(reply);
  };

  // Inbox watchers: the moment a message with a Message-ID we sent lands in its mailbox.
  const delivered = new Map<string, (at: number) => void>();
  const watched = new Set<string>();
  const watchInbox = (mailbox: string): void => {
    if (watched.has(mailbox)) return;
    watched.add(mailbox);
    service.store
      .mailbox(mailbox)
      .wellKnown('inbox')
      .watch((change: FolderChange) => {
        if (change.kind !== 'append') return;
        const at = now();
        for (const message of change.messages) {
          const id = message.content.header('message-id')?.trim().toLowerCase();
          if (id === undefined) continue;
          delivered.get(id)?.(at);
          delivered.delete(id);
        }
      });
  };

  const fetchWithCa = createCaFetch(handle.caPem);
  const transports = new Map<number, Promise<Transport>>();
  const transportFor = (sender: number): Promise<Transport> => {
    let transport = transports.get(sender);
    if (transport === undefined) {
      transport = (async () => {
        const user = senderMailbox(sender);
        const response = await fetchWithCa(`${handle.urls.https}/${WORLD_TENANT_ID}/oauth2/v2.0/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'password',
            client_id: WORLD_CLIENT_ID,
            username: user,
            password: WORLD_PASSWORD,
            scope: WORLD_SMTP_SCOPES,
          }).toString(),
        });
        const token = tokenReply.parse(await response.json()).access_token;
        return nodemailer.createTransport({
          pool: true,
          // Exchange allows three concurrent submissions per mailbox.
          maxConnections: 2,
          host: '127.0.0.1',
          port: smtpPort,
          secure: false,
          requireTLS: true,
          tls: { ca: handle.caPem, servername: 'localhost' },
          auth: { type: 'OAuth2', user, accessToken: token },
          logger: false,
        });
      })();
      transports.set(sender, transport);
    }
    return transport;
  };

  const submit = async (request: Extract<WorldRequest, { type: 'send' }>): Promise<void> => {
    try {
      watchInbox(request.to);
      const transport = await transportFor(request.sender);
      const arrival = new Promise<number>((resolve) => delivered.set(request.messageId.toLowerCase(), resolve));
      const submittedAt = now();
      await transport.sendMail({
        from: senderMailbox(request.sender),
        to: request.to,
        subject: `Benchmark message ${request.id}`,
        messageId: request.messageId,
        text: `Hello, this is message ${request.id} of the benchmark. `.repeat(20),
        html: `<p>Hello, this is message <b>${request.id}</b> of the benchmark.</p>`.repeat(10),
      });
      const acceptedAt = now();
      send({ type: 'sent', id: request.id, submittedAt, deliveredAt: await arrival, acceptedAt });
    } catch (error) {
      send({ type: 'send-failed', id: request.id, error: error instanceof Error ? error.message : String(error) });
    }
  };

  const mintRefreshTokens = async (count: number): Promise<void> => {
    const tokens: string[] = [];
    const mintOne = async (): Promise<void> => {
      const response = await fetchWithCa(`${handle.urls.https}/${WORLD_TENANT_ID}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: WORLD_CLIENT_ID,
          username: WORLD_AGENT,
          password: WORLD_PASSWORD,
          scope: WORLD_EXCHANGE_SCOPES,
        }).toString(),
      });
      tokens.push(refreshReply.parse(await response.json()).refresh_token);
    };
    let started = 0;
    const lane = async (): Promise<void> => {
      while (started < count) {
        started += 1;
        await mintOne();
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    send({ type: 'minted', refreshTokens: tokens });
  };

  process.on('message', (request: WorldRequest) => {
    switch (request.type) {
      case 'mint-refresh-tokens':
        void mintRefreshTokens(request.count);
        return;
      case 'identity-reset':
        tokenArrivals = [];
        void handle.control('DELETE', '/refresh-redemptions').then(() => send({ type: 'identity-reset' }));
        return;
      case 'identity-report':
        void handle
          .control('GET', '/refresh-redemptions')
          .then(async (response) => redemptionsReply.parse(await response.json()))
          .then((redemptions) => send({ type: 'identity-report', redemptions, tokenArrivals }));
        return;
      case 'populate': {
        const inbox = service.store.mailbox(request.mailbox).wellKnown('inbox');
        let bytes = 0;
        for (const raw of corpusOf(request)) {
          service.store.append(request.mailbox, inbox, raw);
          bytes += raw.length;
        }
        send({ type: 'populated', count: inbox.size, bytes });
        return;
      }
      case 'send':
        void submit(request);
        return;
      case 'stats': {
        global.gc?.();
        const memory = process.memoryUsage();
        const cpu = process.cpuUsage();
        send({
          type: 'stats',
          rss: memory.rss,
          heapUsed: memory.heapUsed,
          cpuMs: (cpu.user + cpu.system) / 1000,
          imapConnections: service.imap.connectionCount(),
        });
        return;
      }
      case 'graph-report': {
        const statuses = Object.fromEntries([...graphStatuses].map(([status, n]) => [String(status), n]));
        send({
          type: 'graph-report',
          statuses,
          sendMailAccepted,
          sent: service.router.sent
            .filter((record) => record.via === 'graph')
            .map(
              (record) =>
                [record.mailbox, record.acceptedAt, record.content.header('message-id')?.trim() ?? ''] as const,
            ),
        });
        graphStatuses = new Map();
        sendMailAccepted = 0;
        return;
      }
      case 'stop':
        for (const transport of transports.values()) void transport.then((t) => t.close());
        void handle
          .close()
          .then(() => rm(dataDir, { recursive: true, force: true }))
          .then(() => process.exit(0));
        return;
    }
  });

  send({
    type: 'ready',
    caFile: handle.caFile,
    caPem: handle.caPem,
    authority: handle.urls.https,
    imapPort: Number(new URL(handle.urls.imap ?? 'x://0:0').port),
    smtpPort,
  });
}

/** The raw messages a populate request asks for, one at a time. */
function* corpusOf(request: Extract<WorldRequest, { type: 'populate' }>): Generator<Buffer> {
  for (let index = 1; index <= request.count; index += 1) {
    if (request.corpus === 'small') yield smallMessage(index);
    else if (request.corpus === 'large') yield largeMessage(request.bytes ?? 150_000_000);
    else break;
  }
  if (request.corpus === 'ingest') for (const message of ingestCorpus(request.count)) yield message.raw;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
