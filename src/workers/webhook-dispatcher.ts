/**
 * The webhook dispatcher (worker role). Deliveries are rows written with their event (see
 * store/webhook-deliveries.ts); the dispatcher claims due ones — `FOR UPDATE SKIP LOCKED` on
 * PostgreSQL, so several nodes share the work without sending a delivery twice — POSTs the signed
 * event, and records the outcome: delivered on any 2xx, otherwise pending again after an
 * exponential backoff (services/webhooks/webhook-retry.ts) until the attempts run out.
 *
 * A webhook whose deliveries failed every attempt across a whole retry window, without a single
 * success meanwhile, is disabled, with a `webhook.disabled` event that says why; enabling it again
 * resumes its pending deliveries. A node that dies mid-attempt leaves its claim `delivering`; after
 * `staleAfterMs` another node takes it over. Receivers may therefore, rarely, see an event twice:
 * the event id in the body identifies it.
 *
 * @see docs/WEBHOOKS.md
 */
import type { Logger } from '../log/index.js';
import { scrubSecrets } from '../log/index.js';
import { displayUrl } from '../services/webhooks/webhook-payload.js';
import type { ClaimedDelivery, WebhookDeliveryService } from '../services/webhooks/webhook-delivery-service.js';
import {
  longestWebhookDelayMs,
  DEFAULT_WEBHOOK_RETRY,
  webhookRetryDelay,
  type WebhookRetryPolicy,
} from '../services/webhooks/webhook-retry.js';
import { SIGNATURE_HEADER } from '../services/webhooks/webhook-signature.js';
import { WebhookTargetRefused, type WebhookTargetGuard } from '../services/webhooks/webhook-target.js';
import { postWebhook, WebhookTimeout } from '../services/webhooks/webhook-transport.js';

/** What the dispatcher reports to metrics. */
export interface WebhookDeliveryObserver {
  /** One attempt finished: `delivered`, `retry` (failed, tried again later) or `failed` (given up). */
  observeWebhookAttempt(result: 'delivered' | 'retry' | 'failed', seconds: number): void;
}

/** Options of {@link WebhookDispatcher}. */
export interface WebhookDispatcherOptions {
  /** How often due deliveries are looked for without a wake-up. Default 250 ms. */
  readonly pollIntervalMs?: number;
  /** Requests in flight on this node, all webhooks together. Default 32. */
  readonly maxInFlight?: number;
  /** Requests in flight to one webhook. Default 4. */
  readonly perWebhookInFlight?: number;
  /** A receiver must answer within this long. Default 10 seconds. */
  readonly timeoutMs?: number;
  /** A claim older than this is considered abandoned by a dead node. Default 2 minutes. */
  readonly staleAfterMs?: number;
  readonly retry?: Partial<WebhookRetryPolicy>;
  /** Where webhooks may go: checked against every address looked up and the address connected. */
  readonly targets: WebhookTargetGuard;
  /** A number in [0, 1), for jitter. */
  readonly random?: () => number;
  /** Sent as User-Agent. */
  readonly userAgent?: string;
  readonly observer?: WebhookDeliveryObserver;
}

/** What one attempt did. */
type AttemptResult =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly status: number | null; readonly error: string };

/** Claims due webhook deliveries and sends them. */
export class WebhookDispatcher {
  private readonly policy: WebhookRetryPolicy;
  private readonly pollIntervalMs: number;
  private readonly maxInFlight: number;
  private readonly perWebhook: number;
  private readonly timeoutMs: number;
  private readonly staleAfterMs: number;
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly perWebhookCount = new Map<number, number>();
  private running = false;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;

  constructor(
    private readonly deliveries: WebhookDeliveryService,
    private readonly logger: Logger,
    private readonly options: WebhookDispatcherOptions,
  ) {
    this.policy = { ...DEFAULT_WEBHOOK_RETRY, ...options.retry };
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.maxInFlight = options.maxInFlight ?? 32;
    this.perWebhook = options.perWebhookInFlight ?? 4;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.staleAfterMs = Math.max(options.staleAfterMs ?? 120_000, this.timeoutMs * 2);
  }

  /** Dispatches until {@link stop}. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Stops claiming and resolves when the requests under way have finished. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    this.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Looks for due deliveries now (an event was appended in this process). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** One claim round and its requests, awaited: for tests and tools that step the clock. */
  async runOnce(): Promise<number> {
    const claimed = await this.claimRound();
    await Promise.allSettled([...this.inFlight.values()]);
    return claimed;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let claimed = 0;
      try {
        claimed = await this.claimRound();
      } catch (error) {
        this.logger.error({ err: error }, 'webhook claim round failed');
      }
      if (!this.running) break;
      // A full batch may leave more due rows: look again at once, unless every slot is taken.
      if (claimed > 0 && this.inFlight.size < this.maxInFlight) continue;
      await this.pause();
    }
  }

  private pause(): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, this.pollIntervalMs);
      timer.unref();
      this.wakeUp = done;
    });
  }

  private async claimRound(): Promise<number> {
    const room = this.maxInFlight - this.inFlight.size;
    if (room <= 0) return 0;
    const full = [...this.perWebhookCount].filter(([, count]) => count >= this.perWebhook).map(([id]) => id);
    const claimed = await this.deliveries.claimDue({
      limit: Math.min(room, this.perWebhook * 4),
      staleAfterMs: this.staleAfterMs,
      excludeWebhooks: full,
      longestDelayMs: longestWebhookDelayMs(this.policy),
    });
    let started = 0;
    for (const claim of claimed) {
      const count = this.perWebhookCount.get(claim.webhook.id) ?? 0;
      if (count >= this.perWebhook || this.stopping) {
        await this.deliveries.release(claim);
        continue;
      }
      this.perWebhookCount.set(claim.webhook.id, count + 1);
      const work = this.deliver(claim)
        .catch((error: unknown) =>
          this.logger.error(
            { err: error, deliveryId: claim.id, webhookId: claim.webhook.id },
            'webhook delivery could not be recorded; it is taken over when its claim goes stale',
          ),
        )
        .finally(() => {
          this.inFlight.delete(claim.id);
          const left = (this.perWebhookCount.get(claim.webhook.id) ?? 1) - 1;
          if (left <= 0) this.perWebhookCount.delete(claim.webhook.id);
          else this.perWebhookCount.set(claim.webhook.id, left);
          this.wake();
        });
      this.inFlight.set(claim.id, work);
      started += 1;
    }
    return started;
  }

  private async deliver(claim: ClaimedDelivery): Promise<void> {
    const started = performance.now();
    const result = await this.attempt(claim);
    const seconds = (performance.now() - started) / 1000;
    const now = this.deliveries.now();
    const where = {
      webhookId: claim.webhook.id,
      deliveryId: claim.id,
      eventId: claim.event.id,
      eventType: claim.event.type,
      attempt: claim.attempt,
    };
    if (result.ok) {
      if (await this.deliveries.recordDelivered(claim, { status: result.status, at: now })) {
        this.options.observer?.observeWebhookAttempt('delivered', seconds);
        this.logger.debug({ ...where, status: result.status, ms: Math.round(seconds * 1000) }, 'webhook delivered');
      }
      return;
    }
    const delay = webhookRetryDelay(claim.attempt, this.policy, (this.options.random ?? Math.random)());
    const retryAt = delay === null ? null : new Date(now.getTime() + delay);
    const failures = await this.deliveries.recordFailed(claim, {
      status: result.status,
      error: result.error,
      at: now,
      retryAt,
    });
    if (failures === undefined) return;
    this.options.observer?.observeWebhookAttempt(retryAt === null ? 'failed' : 'retry', seconds);
    this.logger.warn(
      { ...where, status: result.status, error: result.error, retryAt: retryAt?.toISOString() ?? null, failures },
      retryAt === null ? 'webhook delivery given up' : 'webhook delivery failed, retry scheduled',
    );
    if (retryAt === null && failures >= this.policy.maxAttempts) await this.disable(claim, failures, result.error);
  }

  /** One POST of the signed event. Never throws. */
  private async attempt(claim: ClaimedDelivery): Promise<AttemptResult> {
    const timestamp = Math.floor(this.deliveries.now().getTime() / 1000);
    let signed: { readonly body: string; readonly signature: string };
    try {
      signed = this.deliveries.signedBody(claim, timestamp);
    } catch (error) {
      return {
        ok: false,
        status: null,
        error: `the webhook's secret cannot be opened: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    try {
      const status = await postWebhook(this.options.targets, {
        url: claim.webhook.url,
        timeoutMs: this.timeoutMs,
        headers: {
          'content-type': 'application/json',
          'user-agent': this.options.userAgent ?? 'Postern-Webhooks',
          [SIGNATURE_HEADER]: signed.signature,
          'Postern-Event': claim.event.type,
          'Postern-Event-Id': String(claim.event.id),
          'Postern-Delivery': String(claim.id),
          'Postern-Attempt': String(claim.attempt),
        },
        body: signed.body,
      });
      if (status >= 200 && status < 300) return { ok: true, status };
      // Only the status is recorded: the receiver's body and headers (a redirect's Location too)
      // could carry what a service reached by mistake answered.
      const what =
        status >= 300 && status < 400
          ? `answered HTTP ${status}, a redirect; redirects are not followed, deliver to the final URL instead.`
          : `answered HTTP ${status}.`;
      return { ok: false, status, error: `The receiver ${what}` };
    } catch (error) {
      return { ok: false, status: null, error: scrubSecrets(describeFailure(error, claim.webhook.url)) };
    }
  }

  /** Disables a webhook that failed a whole retry window, once, with the event that says why. */
  private async disable(claim: ClaimedDelivery, failures: number, lastError: string): Promise<void> {
    const url = displayUrl(claim.webhook.url);
    const disabled = await this.deliveries.disable(claim, failures, lastError);
    if (disabled)
      this.logger.error({ webhookId: claim.webhook.id, url, failures }, 'webhook disabled after repeated failures');
  }
}

/**
 * Why an attempt got no answer, in Postern's words, naming the receiver's host:port — never its
 * path or query, which may carry a token — and the cause: the name, the port or the path to it.
 * A socket error's message names no content.
 */
function describeFailure(error: unknown, url: string): string {
  if (error instanceof WebhookTargetRefused) return error.message;
  const receiver = `The receiver ${endpointOf(url)}`;
  if (error instanceof WebhookTimeout) {
    const { timeoutMs } = error;
    return `${receiver} did not answer within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}.`;
  }
  const code =
    typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
      ? error.code
      : undefined;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `${receiver} could not be reached: its name could not be resolved (DNS ${code}).`;
  if (code === 'ECONNREFUSED')
    return `The connection to the receiver ${endpointOf(url)} was refused: nothing accepts connections on that port there.`;
  const message = error instanceof Error ? error.message : String(error);
  return `${receiver} could not be reached: ${code === undefined || message.includes(code) ? message : `${message} (${code})`}.`;
}

/** `host:port` of a receiver's URL (the default port of its scheme when none is written). */
function endpointOf(url: string): string {
  try {
    const parsed = new URL(url);
    const port = parsed.port === '' ? (parsed.protocol === 'http:' ? '80' : '443') : parsed.port;
    return `${parsed.hostname}:${port}`;
  } catch {
    return '(an unreadable URL)';
  }
}
