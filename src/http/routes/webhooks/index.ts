import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { webhookBody, webhookPatch, type WebhookService } from '../../../services/webhooks/webhook-service.js';
import { idParam } from '../../schemas.js';
import { deliveryReply, presentDelivery, presentWebhook, webhookReply, webhookWithSecretReply } from './presenter.js';

const TAGS = ['webhooks'];

const SIGNING =
  'Each delivery is a POST of the event as JSON, with the header `Postern-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. ' +
  'Verify it over the raw body with the webhook secret, in constant time, and refuse a `t` more than 5 minutes from your clock (replays). ' +
  'Answer 2xx within 10 seconds; anything else is retried with exponential backoff (30 s doubling to 1 h, 20 attempts, about 13 hours). ' +
  'A webhook whose attempts all failed for a whole retry window is disabled, with a `webhook.disabled` event. Deliveries may rarely repeat: the event `id` identifies them. ' +
  'The receiver must be on a public address: loopback, private, link-local, unique-local and reserved addresses, cloud metadata names and Postern itself are refused (422 WEBHOOK_TARGET_REFUSED), unless POSTERN_WEBHOOK_ALLOWED_NETWORKS lists the network. See docs/WEBHOOKS.md.';

const deliveryParams = z.object({
  id: z.coerce.number().int().positive('must be a positive integer'),
  deliveryId: z.coerce.number().int().positive('must be a positive integer'),
});

/** Webhooks for integrators (administrators only). */
export async function webhookRoutes(app: FastifyInstance, deps: { webhooks: WebhookService }): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { webhooks } = deps;

  routes.get(
    '/api/webhooks',
    { schema: { tags: TAGS, summary: 'List webhooks', response: { 200: z.object({ items: z.array(webhookReply) }) } } },
    async () => ({ items: (await webhooks.list()).map(presentWebhook) }),
  );
  routes.post(
    '/api/webhooks',
    {
      schema: {
        tags: TAGS,
        summary: 'Register a webhook; the answer holds its signing secret, shown only this once',
        description: `Subscribe with event types (\`message.received\`), families (\`account.*\`) or \`*\`. ${SIGNING}`,
        body: webhookBody,
        response: { 201: webhookWithSecretReply },
      },
    },
    async (request, reply) => {
      const created = await webhooks.create(request.body);
      return reply.status(201).send({ ...presentWebhook(created.webhook), secret: created.secret });
    },
  );
  routes.get(
    '/api/webhooks/:id',
    { schema: { tags: TAGS, summary: 'Get a webhook', params: idParam, response: { 200: webhookReply } } },
    async (request) => presentWebhook(await webhooks.get(request.params.id)),
  );
  routes.patch(
    '/api/webhooks/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Change a webhook; `active: true` enables a disabled one, and its pending deliveries resume',
        params: idParam,
        body: webhookPatch,
        response: { 200: webhookReply },
      },
    },
    async (request) => presentWebhook(await webhooks.update(request.params.id, request.body)),
  );
  routes.delete(
    '/api/webhooks/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Delete a webhook and its delivery log',
        params: idParam,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await webhooks.remove(request.params.id);
      return reply.status(204).send(null);
    },
  );
  routes.post(
    '/api/webhooks/:id/secret',
    {
      schema: {
        tags: TAGS,
        summary: 'Replace the signing secret; the new one is shown only in this answer',
        params: idParam,
        response: { 200: webhookWithSecretReply },
      },
    },
    async (request) => {
      const rotated = await webhooks.rotateSecret(request.params.id);
      return { ...presentWebhook(rotated.webhook), secret: rotated.secret };
    },
  );
  routes.post(
    '/api/webhooks/:id/ping',
    {
      schema: {
        tags: TAGS,
        summary: 'Queue a webhook.ping delivery to this webhook alone',
        params: idParam,
        response: { 202: deliveryReply },
      },
    },
    async (request, reply) => reply.status(202).send(presentDelivery(await webhooks.ping(request.params.id))),
  );
  routes.get(
    '/api/webhooks/:id/deliveries',
    {
      schema: {
        tags: TAGS,
        summary: 'The delivery log of a webhook, newest first',
        params: idParam,
        querystring: z.object({
          state: z.enum(['pending', 'delivering', 'delivered', 'failed']).optional(),
          before: z.coerce.number().int().positive().optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
        response: { 200: z.object({ items: z.array(deliveryReply), nextBefore: z.number().int().nullable() }) },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await webhooks.deliveries(request.params.id, {
        ...(q.state === undefined ? {} : { state: q.state }),
        ...(q.before === undefined ? {} : { before: q.before }),
        limit: q.limit,
      });
      return { items: page.items.map(presentDelivery), nextBefore: page.nextBefore };
    },
  );
  routes.post(
    '/api/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      schema: {
        tags: TAGS,
        summary: 'Send a delivery again, with a fresh set of attempts',
        params: deliveryParams,
        response: { 202: deliveryReply },
      },
    },
    async (request, reply) =>
      reply.status(202).send(presentDelivery(await webhooks.redeliver(request.params.id, request.params.deliveryId))),
  );
}
