/**
 * Control routes of the emulated Graph API, under `/_emulator` behind the control token:
 *
 * - `POST   /graph/faults` `{ kind, count?, retryAfterSeconds?, delayMs? }` — the next `count`
 *   authenticated Graph calls answer: `throttle` → 429 ApplicationThrottled with Retry-After,
 *   `unavailable` → 503 (Retry-After when given), `error` → 500, `delay` → served after `delayMs`,
 *   `drop` → connection closed. (The same faults can be posted to `/faults` with target `graph`.)
 * - `GET|DELETE /graph/faults` — pending Graph faults / drop them.
 * - `PUT    /graph/limits` `{ concurrency?, retryAfterSeconds? }` — the MailboxConcurrency limit.
 * - `POST   /graph/delta/expire` — forget every delta and skip token (next use: 410 SyncStateNotFound).
 * - `GET    /graph/status` — limits, requests in flight per app and mailbox, delta states held.
 * - `GET    /graph/subscriptions` — subscriptions (expired ones swept) and the last deliveries.
 * - `POST   /graph/subscriptions/{id}/lifecycle` `{ event }` — sends `reauthorizationRequired`,
 *   `subscriptionRemoved` (and removes it) or `missed` to its lifecycle URL; answers the status.
 * - `PUT    /graph/subscriptions/delivery` `{ paused }` — while paused, notifications are dropped.
 * - `POST   /graph/subscriptions/trust` `{ caPem }` — deliveries also trust this CA.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { FaultInjector } from '../control/faults.js';
import type { DeltaStates } from './delta-sync.js';
import { GRAPH_FAULT_TARGET, type MailboxConcurrency } from './graph-throttle.js';
import { isGraphError } from './graph-errors.js';
import type { GraphSubscriptions } from './subscriptions.js';

const faultBody = z.object({
  kind: z.enum(['throttle', 'unavailable', 'error', 'delay', 'drop']),
  count: z.number().int().positive().max(10_000).default(1),
  retryAfterSeconds: z.number().int().nonnegative().max(86_400).optional(),
  delayMs: z.number().int().nonnegative().max(120_000).default(0),
});

const lifecycleBody = z.object({ event: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']) });

const limitsBody = z
  .object({
    concurrency: z.number().int().positive().max(1_000),
    retryAfterSeconds: z.number().int().nonnegative().max(86_400),
  })
  .partial()
  .refine((b) => b.concurrency !== undefined || b.retryAfterSeconds !== undefined, {
    message: 'give concurrency and/or retryAfterSeconds',
  });

/** Maps a Graph fault to the emulator's generic fault kinds. */
function faultSpec(body: z.infer<typeof faultBody>): Record<string, unknown> {
  const base = {
    target: GRAPH_FAULT_TARGET,
    count: body.count,
    ...(body.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: body.retryAfterSeconds }),
  };
  switch (body.kind) {
    case 'throttle':
      return { ...base, kind: 'http-503', status: 429, retryAfterSeconds: body.retryAfterSeconds ?? 1 };
    case 'unavailable':
      return { ...base, kind: 'http-503' };
    case 'error':
      return { ...base, kind: 'http-500' };
    case 'delay':
      return { ...base, kind: 'delay', delayMs: body.delayMs };
    case 'drop':
      return { ...base, kind: 'drop' };
  }
}

/** The control routes, bound to the Graph extension's state. */
export function graphControlRoutes(deps: {
  faults: FaultInjector;
  concurrency: MailboxConcurrency;
  delta: DeltaStates;
  subscriptions: GraphSubscriptions;
}): (scope: FastifyInstance) => void {
  return (scope) => {
    scope.post('/graph/faults', async (request, reply) => {
      const fault = deps.faults.add(faultSpec(faultBody.parse(request.body)));
      return reply.code(201).send(fault);
    });
    scope.get('/graph/faults', async () => ({
      faults: deps.faults.list().filter((f) => f.target === GRAPH_FAULT_TARGET),
    }));
    scope.delete('/graph/faults', async () => ({ cleared: deps.faults.clear(GRAPH_FAULT_TARGET) }));
    scope.put('/graph/limits', async (request) => {
      const body = limitsBody.parse(request.body);
      if (body.concurrency !== undefined) deps.concurrency.limits.concurrency = body.concurrency;
      if (body.retryAfterSeconds !== undefined) deps.concurrency.limits.retryAfterSeconds = body.retryAfterSeconds;
      return { ...deps.concurrency.limits };
    });
    scope.post('/graph/delta/expire', async () => ({ dropped: deps.delta.clear() }));
    scope.get('/graph/status', async () => ({
      limits: { ...deps.concurrency.limits },
      inFlight: deps.concurrency.snapshot(),
      deltaStates: deps.delta.size,
      subscriptions: deps.subscriptions.size,
    }));
    scope.get('/graph/subscriptions', async () => ({
      subscriptions: deps.subscriptions.list().map((s) => ({
        id: s.id,
        resource: s.resource,
        changeType: [...s.changeTypes].join(','),
        notificationUrl: s.notificationUrl,
        lifecycleNotificationUrl: s.lifecycleNotificationUrl,
        expirationDateTime: s.expiresAt.toISOString(),
        hasClientState: s.clientState !== null,
      })),
      deliveries: deps.subscriptions.deliveries.slice(-100),
    }));
    scope.post('/graph/subscriptions/:id/lifecycle', async (request, reply) => {
      const { id } = z.object({ id: z.string().min(1).max(200) }).parse(request.params);
      const { event } = lifecycleBody.parse(request.body);
      try {
        return { delivered: await deps.subscriptions.lifecycle(id, event) };
      } catch (error) {
        if (isGraphError(error)) return reply.code(404).send({ error: 'no such subscription' });
        throw error;
      }
    });
    scope.put('/graph/subscriptions/delivery', async (request) => {
      deps.subscriptions.paused = z.object({ paused: z.boolean() }).parse(request.body).paused;
      return { paused: deps.subscriptions.paused };
    });
    scope.post('/graph/subscriptions/trust', async (request) => {
      deps.subscriptions.trust(z.object({ caPem: z.string().min(1).max(65_536) }).parse(request.body).caPem);
      return { trusted: true };
    });
  };
}
