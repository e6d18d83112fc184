import { z } from 'zod';
import type { WebhookDeliveryRecord, WebhookRecord } from '../../../store/index.js';

export const webhookReply = z.object({
  id: z.number().int(),
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(z.string()),
  active: z.boolean(),
  failureCount: z.number().int().describe('Failed attempts since the last successful delivery.'),
  lastSuccessAt: z.string().nullable(),
  lastFailureAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const webhookWithSecretReply = webhookReply.extend({
  secret: z.string().describe('The signing secret (whsec_…). Shown only in this answer: store it now.'),
});

export const deliveryReply = z.object({
  id: z.number().int(),
  webhookId: z.number().int(),
  eventId: z.number().int(),
  eventType: z.string(),
  state: z.enum(['pending', 'delivering', 'delivered', 'failed']),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable().describe('When a pending delivery is tried next.'),
  responseStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** A webhook as the API shows it: never its secret. */
export function presentWebhook(webhook: WebhookRecord): z.infer<typeof webhookReply> {
  return {
    id: webhook.id,
    url: webhook.url,
    description: webhook.description,
    events: [...webhook.events],
    active: webhook.active,
    failureCount: webhook.failureCount,
    lastSuccessAt: webhook.lastSuccessAt,
    lastFailureAt: webhook.lastFailureAt,
    createdAt: webhook.createdAt,
    updatedAt: webhook.updatedAt,
  };
}

/** One entry of a webhook's delivery log. */
export function presentDelivery(delivery: WebhookDeliveryRecord): z.infer<typeof deliveryReply> {
  return {
    id: delivery.id,
    webhookId: delivery.webhookId,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    state: delivery.state,
    attempts: delivery.attempts,
    nextAttemptAt: delivery.state === 'pending' ? delivery.nextAttemptAt : null,
    responseStatus: delivery.responseStatus,
    lastError: delivery.lastError,
    deliveredAt: delivery.deliveredAt,
    createdAt: delivery.createdAt,
    updatedAt: delivery.updatedAt,
  };
}
