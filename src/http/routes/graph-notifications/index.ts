/**
 * Microsoft Graph's change notifications and lifecycle events, posted by Graph to Postern's public
 * URL: public routes (Graph has no Postern credentials), rate-limited per address and size-capped.
 *
 * - `POST /api/graph/notifications?validationToken=…` (and the same on `/api/graph/lifecycle`):
 *   the validation handshake — 200 `text/plain` with the decoded token, only while Postern is
 *   creating a subscription.
 * - `POST /api/graph/notifications` `{value:[{subscriptionId, clientState, …}]}`: each item whose
 *   subscription and clientState are Postern's wakes that account's engine for a delta round; 202
 *   at once. Nothing in the body is used as data. None believed → 403 GRAPH_NOTIFICATION_REFUSED.
 * - `POST /api/graph/lifecycle` `{value:[{subscriptionId, clientState, lifecycleEvent}]}`: likewise,
 *   the event handed to the engine (renew, recreate, or a round for `missed`).
 *
 * @see https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
 * @see https://learn.microsoft.com/graph/change-notifications-lifecycle-events
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PosternError } from '../../../errors/index.js';
import type { Services } from '../../../services/index.js';
import {
  GRAPH_LIFECYCLE_PATH,
  GRAPH_NOTIFICATION_PATH,
  notificationBody,
} from '../../../services/inbound/graph-notifications.js';

/** Graph batches notifications; a batch of 1,000 items stays well under this. */
const BODY_LIMIT = 1024 * 1024;
/** Per client address; Graph sends a batch per change at most, a busy tenant a few per second. */
const RATE_LIMIT = { max: 1200, timeWindow: 60_000 };

function validationTokenOf(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const token = query?.validationToken;
  return typeof token === 'string' ? token : undefined;
}

function itemsOf(body: unknown): readonly unknown[] {
  const raw = Buffer.isBuffer(body) ? body.toString('utf8') : '';
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new PosternError('REQUEST_MALFORMED', { cause: error });
  }
  const parsed = notificationBody.safeParse(json);
  if (!parsed.success)
    throw new PosternError('REQUEST_MALFORMED', { message: 'The body is not a Graph notification.' });
  return parsed.data.value;
}

/** The two public routes; see the module comment. */
export async function graphNotificationRoutes(app: FastifyInstance, deps: { services: Services }): Promise<void> {
  const notifications = deps.services.graphNotifications;
  // Graph's validation requests are text/plain (often empty), notifications JSON: read the bytes
  // ourselves, whatever the type, within the cap.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) =>
    done(null, body),
  );

  const handle =
    (kind: 'notify' | 'lifecycle') =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const token = validationTokenOf(request);
      if (token !== undefined)
        return reply.code(200).type('text/plain; charset=utf-8').send(notifications.validationEcho(token));
      const items = itemsOf(request.body);
      await (kind === 'notify' ? notifications.notify(items) : notifications.lifecycle(items));
      return reply.code(202).send();
    };

  const options = {
    bodyLimit: BODY_LIMIT,
    config: { access: 'public' as const, rateLimit: RATE_LIMIT },
    schema: { hide: true },
  };
  app.post(GRAPH_NOTIFICATION_PATH, options, handle('notify'));
  app.post(GRAPH_LIFECYCLE_PATH, options, handle('lifecycle'));
}
