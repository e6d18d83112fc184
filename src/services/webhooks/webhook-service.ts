/**
 * Webhooks for integrators: administrators register a URL with the event types it wants; each
 * subscribed event is delivered durably (see store/webhook-deliveries.ts and
 * workers/webhook-dispatcher.ts), signed with the webhook's secret (webhook-signature.ts). The
 * secret is shown once, at creation and at rotation, and is sealed at rest.
 *
 * @see docs/WEBHOOKS.md
 */
import { z } from 'zod';
import { PosternError, parseOrThrow } from '../../errors/index.js';
import {
  createWebhook,
  deleteWebhook,
  EVENT_PATTERN,
  getDelivery,
  listDeliveries,
  listWebhooks,
  queueTestDelivery,
  requeueDelivery,
  requireWebhook,
  setWebhookSecret,
  updateWebhook,
  type Database,
  type DeliveryAttemptState,
  type SecretBox,
  type WebhookDeliveryRecord,
  type WebhookRecord,
} from '../../store/index.js';
import { generateWebhookSecret } from './webhook-signature.js';
import type { WebhookTargetGuard } from './webhook-target.js';

/** A webhook URL: absolute http(s), without credentials (deliveries are authenticated by their signature). */
const webhookUrl = z
  .string()
  .trim()
  .max(2048, 'must be at most 2048 characters')
  .url('must be an absolute URL such as https://crm.example.com/postern')
  .refine((value) => /^https?:\/\//i.test(value), 'must be an http:// or https:// URL')
  .refine((value) => {
    const url = new URL(value);
    return url.username === '' && url.password === '';
  }, 'must not contain a user name or password: deliveries are authenticated by their Postern-Signature header');

/** Subscription patterns: `message.received`, `account.*`, or `*`. */
const eventPatterns = z
  .array(
    z
      .string()
      .trim()
      .regex(EVENT_PATTERN, 'must be an event type such as message.received, a family such as account.*, or *'),
  )
  .min(1, 'must name at least one event type')
  .max(100, 'must name at most 100 event types')
  .transform((patterns) => [...new Set(patterns)]);

/** Fields of a new webhook. */
export const webhookBody = z.object({
  url: webhookUrl,
  description: z.string().trim().max(500, 'must be at most 500 characters').nullable().optional(),
  events: eventPatterns,
  active: z.boolean().optional(),
});

/** Fields an update may change. */
export const webhookPatch = webhookBody.partial();

export type WebhookInput = z.infer<typeof webhookBody>;
export type WebhookPatch = z.infer<typeof webhookPatch>;

/** A webhook and its secret in clear: returned once, by `create` and `rotateSecret`. */
export interface WebhookWithSecret {
  readonly webhook: WebhookRecord;
  readonly secret: string;
}

/** Registers and manages webhooks, and shows their delivery log. */
export class WebhookService {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
    private readonly targets: WebhookTargetGuard,
  ) {}

  /**
   * Registers a webhook; the returned secret is never shown again.
   *
   * @throws PosternError VALIDATION_FAILED, WEBHOOK_TARGET_REFUSED (a receiver Postern does not deliver to)
   */
  async create(input: WebhookInput): Promise<WebhookWithSecret> {
    const fields = parseOrThrow(webhookBody, input, 'webhook');
    await this.targets.assertRegistrable(fields.url);
    const secret = generateWebhookSecret();
    const webhook = await createWebhook(this.db, this.box, {
      url: fields.url,
      description: fields.description ?? null,
      events: fields.events,
      secret,
      ...(fields.active === undefined ? {} : { active: fields.active }),
    });
    return { webhook, secret };
  }

  list(): Promise<WebhookRecord[]> {
    return listWebhooks(this.db);
  }

  get(id: number): Promise<WebhookRecord> {
    return requireWebhook(this.db, id);
  }

  /**
   * Changes a webhook; enabling a disabled one gives it a fresh failure budget.
   *
   * @throws PosternError VALIDATION_FAILED, WEBHOOK_TARGET_REFUSED, RESOURCE_NOT_FOUND
   */
  async update(id: number, patch: WebhookPatch): Promise<WebhookRecord> {
    const fields = parseOrThrow(webhookPatch, patch, 'webhook');
    if (fields.url !== undefined) await this.targets.assertRegistrable(fields.url);
    return updateWebhook(this.db, id, {
      ...(fields.url === undefined ? {} : { url: fields.url }),
      ...(fields.description === undefined ? {} : { description: fields.description }),
      ...(fields.events === undefined ? {} : { events: fields.events }),
      ...(fields.active === undefined ? {} : { active: fields.active }),
    });
  }

  /** Replaces the signing secret; the new one is returned once. */
  async rotateSecret(id: number): Promise<WebhookWithSecret> {
    await requireWebhook(this.db, id);
    const secret = generateWebhookSecret();
    const webhook = await setWebhookSecret(this.db, this.box, id, secret);
    return { webhook, secret };
  }

  remove(id: number): Promise<void> {
    return deleteWebhook(this.db, id);
  }

  /** The delivery log of a webhook, newest first. */
  async deliveries(
    id: number,
    filter: { state?: DeliveryAttemptState; before?: number; limit?: number } = {},
  ): Promise<{ items: WebhookDeliveryRecord[]; nextBefore: number | null }> {
    await requireWebhook(this.db, id);
    return listDeliveries(this.db, id, filter);
  }

  /**
   * Sends a delivery again with a fresh set of attempts.
   *
   * @throws PosternError RESOURCE_NOT_FOUND, RESOURCE_CONFLICT while it is being delivered
   */
  async redeliver(id: number, deliveryId: number): Promise<WebhookDeliveryRecord> {
    await requireWebhook(this.db, id);
    if ((await getDelivery(this.db, id, deliveryId)) === undefined) {
      throw new PosternError('RESOURCE_NOT_FOUND', { message: `Webhook ${id} has no delivery ${deliveryId}.` });
    }
    if (!(await requeueDelivery(this.db, id, deliveryId))) {
      throw new PosternError('RESOURCE_CONFLICT', {
        message: `Delivery ${deliveryId} is being sent right now.`,
        remedy: 'Look at the delivery log again in a few seconds.',
      });
    }
    const delivery = await getDelivery(this.db, id, deliveryId);
    if (delivery === undefined)
      throw new PosternError('RESOURCE_NOT_FOUND', { message: `Webhook ${id} has no delivery ${deliveryId}.` });
    return delivery;
  }

  /** Queues a `webhook.ping` event for this webhook alone, to check the receiver and its signature check. */
  async ping(id: number): Promise<WebhookDeliveryRecord> {
    const webhook = await requireWebhook(this.db, id);
    const deliveryId = await queueTestDelivery(this.db, webhook.id);
    const delivery = await getDelivery(this.db, id, deliveryId);
    if (delivery === undefined) throw new PosternError('INTERNAL', { message: 'The test delivery was not queued.' });
    return delivery;
  }
}
