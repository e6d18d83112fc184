/**
 * `GET /api/stream`: the live stream as server-sent events (services/live/live-stream.ts says what
 * is sent to whom). Each event is `id:`, `event:` (its kind) and `data:` (JSON: the kind and ids);
 * a reconnect sends the last id in `Last-Event-ID` (browsers do by themselves) and is replayed
 * what it missed, or sent `resync`. A comment line every heartbeat keeps proxies from closing a
 * quiet stream, and with it the caller's session or token is checked again: a stream ends when
 * its session ends. Streams end when the server closes (preClose: before Fastify waits for open
 * requests, which a stream never finishes by itself).
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LIMITS } from '../../../config/index.js';
import { PosternError } from '../../../errors/index.js';
import type { LiveFrame, LiveStream, LiveSubscription } from '../../../services/live/live-stream.js';
import type { AuthService, Principal } from '../../../services/users/auth-service.js';
import { principalOf } from '../../plugins/auth.js';

/** Options of {@link streamRoutes}; tests shorten the heartbeat. */
export interface StreamRouteOptions {
  readonly live: LiveStream;
  readonly auth: Pick<AuthService, 'stillValid'>;
  readonly publicUrl: string;
  /** Default LIMITS.liveHeartbeatMs. */
  readonly heartbeatMs?: number;
  /** Default LIMITS.liveStreamsPerCaller. */
  readonly perCaller?: number;
}

/** A client this far behind (bytes not yet taken by the socket) is cut off; it reconnects and is replayed. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** What the browser waits before reconnecting a stream that ended. */
const RETRY_MS = 2000;

const DESCRIPTION = [
  'Server-sent events (text/event-stream) telling what changed, as it happens, for the accounts the caller may see',
  '(administrators: all; agents: those assigned to them). Each event has an `id:`, an `event:` naming its kind and a',
  '`data:` line of JSON with the kind and ids — never content: read the API for that.',
  'Kinds: `message` {accountId, interactionId, messageId} (an inbound message stored);',
  '`delivery` {accountId, interactionId, messageId, state: queued|sending|sent|failed|cancelled};',
  '`conversation` {accountId, interactionId, change: status|assignment|read|note|snooze|replying|contact}',
  '(contact: the conversation moved to another contact in a merge);',
  '`account` {accountId, change: status|settings|deleted} (status also means a new timeline entry);',
  '`resync` {} — what was missed cannot be told (a reconnect after a restart or a long absence, or a change of the',
  "caller's accounts): read everything again.",
  'Reconnect with the header `Last-Event-ID` (or the query `lastEventId`) to be replayed what was missed.',
  `A comment line (": heartbeat") comes every ${LIMITS.liveHeartbeatMs / 1000} s.`,
  `At most ${LIMITS.liveStreamsPerCaller} streams per session or API token (429 STREAM_TOO_MANY beyond).`,
].join(' ');

/** The live stream route; see the module comment. */
export async function streamRoutes(app: FastifyInstance, deps: StreamRouteOptions): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const heartbeatMs = deps.heartbeatMs ?? LIMITS.liveHeartbeatMs;
  const perCaller = deps.perCaller ?? LIMITS.liveStreamsPerCaller;
  const hsts = deps.publicUrl.startsWith('https://');
  /** Open streams per session or token. */
  const counts = new Map<string, number>();
  /** Ends each open stream. */
  const open = new Set<() => void>();

  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  routes.get(
    '/api/stream',
    {
      config: { access: 'user', untimed: true },
      schema: {
        tags: ['stream'],
        summary: 'Live updates (server-sent events)',
        description: DESCRIPTION,
        headers: z.object({
          'last-event-id': z.string().max(100).optional().describe('The id of the last event received'),
        }),
        querystring: z.object({
          lastEventId: z
            .string()
            .max(100)
            .optional()
            .describe('As the Last-Event-ID header, for clients that cannot set it'),
        }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const key = callerKey(principal);
      const already = counts.get(key) ?? 0;
      if (already >= perCaller) {
        throw new PosternError('STREAM_TOO_MANY', {
          message: `This ${principal.via === 'token' ? 'API token' : 'session'} already has ${already} live streams open, the most Postern allows (one per browser tab).`,
          details: { open: already, limit: perCaller },
        });
      }
      counts.set(key, already + 1);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        const left = (counts.get(key) ?? 1) - 1;
        if (left <= 0) counts.delete(key);
        else counts.set(key, left);
      };

      const raw = reply.raw;
      let ready = false;
      let ended = false;
      const pending: LiveFrame[] = [];
      const write = (text: string): void => {
        if (ended) return;
        raw.write(text);
        if (raw.writableLength > MAX_BUFFERED_BYTES) end();
      };
      const deliver = (frame: LiveFrame): void => {
        if (!ready) pending.push(frame);
        else write(frameText(frame));
      };
      const heartbeat: { timer?: NodeJS.Timeout } = {};
      let closeSubscription = (): void => undefined;
      const end = (): void => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat.timer);
        closeSubscription();
        open.delete(end);
        release();
        raw.end();
      };

      let subscription: LiveSubscription;
      try {
        subscription = await deps.live.subscribe(
          { userId: principal.userId, role: principal.role },
          request.headers['last-event-id'] ?? request.query.lastEventId,
          deliver,
        );
      } catch (error) {
        release();
        throw error;
      }
      closeSubscription = () => subscription.close();
      reply.hijack();
      open.add(end);
      // The response closes when the client goes away (or the stream ends here).
      raw.on('close', end);
      raw.on('error', end);
      writeHead(raw, hsts);
      write(`retry: ${RETRY_MS}\n\n`);
      for (const frame of [...subscription.replay, ...pending]) write(frameText(frame));
      pending.length = 0;
      ready = true;
      heartbeat.timer = setInterval(() => {
        write(': heartbeat\n\n');
        // The session may have ended (signed out, expired) or the token been revoked meanwhile.
        deps.auth.stillValid(principal).then(
          (valid) => {
            if (!valid) end();
          },
          () => undefined,
        );
      }, heartbeatMs);
      heartbeat.timer.unref();
      // The client may have gone while the subscription was being opened.
      if (request.raw.socket.destroyed) end();
    },
  );
}

/** Streams are counted per session or API token. */
function callerKey(principal: Principal): string {
  return principal.via === 'token' ? `token:${principal.tokenId ?? 0}` : `session:${principal.sessionId ?? ''}`;
}

function writeHead(raw: ServerResponse, hsts: boolean): void {
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // A buffering proxy (nginx) would hold the events back.
    'x-accel-buffering': 'no',
    ...(hsts ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  });
  raw.flushHeaders();
}

/** One event in the text/event-stream format; the JSON is on one line. */
function frameText(frame: LiveFrame): string {
  return `id: ${frame.id}\nevent: ${frame.event.kind}\ndata: ${JSON.stringify(frame.event)}\n\n`;
}
