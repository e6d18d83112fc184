import { request, send } from './client.js';
import { delivery, deliveryPage, itemsOf, webhook, webhookWithSecret, type Delivery, type Webhook } from './schemas.js';

const BASE = '/api/webhooks';

export interface WebhookFields {
  url: string;
  description: string | null;
  events: string[];
}

export async function listWebhooks(): Promise<Webhook[]> {
  return (await request('GET', BASE, itemsOf(webhook))).items;
}

/** Registers a webhook; the signing secret is in this answer only. */
export function createWebhook(fields: WebhookFields): Promise<Webhook & { secret: string }> {
  return request('POST', BASE, webhookWithSecret, { body: fields });
}

export function updateWebhook(id: number, change: Partial<WebhookFields> & { active?: boolean }): Promise<Webhook> {
  return request('PATCH', `${BASE}/${id}`, webhook, { body: change });
}

export function deleteWebhook(id: number): Promise<void> {
  return send('DELETE', `${BASE}/${id}`);
}

export function rotateWebhookSecret(id: number): Promise<Webhook & { secret: string }> {
  return request('POST', `${BASE}/${id}/secret`, webhookWithSecret);
}

export function pingWebhook(id: number): Promise<Delivery> {
  return request('POST', `${BASE}/${id}/ping`, delivery);
}

export async function webhookDeliveries(id: number): Promise<Delivery[]> {
  return (await request('GET', `${BASE}/${id}/deliveries`, deliveryPage, { query: { limit: 50 } })).items;
}

export function redeliver(id: number, deliveryId: number): Promise<Delivery> {
  return request('POST', `${BASE}/${id}/deliveries/${deliveryId}/redeliver`, delivery);
}
