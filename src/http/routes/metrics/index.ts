import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PosternMetrics } from '../../../metrics/index.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The response lasts as long as the client stays (the live stream): it is not timed. */
    untimed?: boolean;
  }
}

/**
 * Times every request into `postern_http_request_duration_seconds`, labelled by the route pattern
 * (`/api/email/accounts/:id`, never the raw URL, so that ids do not multiply the series) — except
 * routes marked `untimed` (a stream open for hours would say nothing of the API's speed).
 * Register it on the root instance, before the routes.
 */
export function registerHttpMetrics(app: FastifyInstance, metrics: Pick<PosternMetrics, 'httpDuration'>): void {
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.config.untimed === true) return;
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}

/**
 * `GET /metrics` in Prometheus text format, for administrators (an API token of an admin user is
 * what a scraper sends as `Authorization: Bearer pst_…`). A token-less listener on a separate
 * address is `POSTERN_METRICS_LISTEN` (metrics/metrics-server.ts).
 */
export async function metricsRoutes(app: FastifyInstance, deps: { metrics: PosternMetrics }): Promise<void> {
  app.get(
    '/metrics',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics (administrators; or POSTERN_METRICS_LISTEN without a token)',
        description:
          'Counters of this process (messages ingested, sent and failed; token requests and failures by AADSTS code; webhook deliveries; HTTP latency) and gauges read from the database at scrape time (accounts by status, IMAP connections, outbox depth and age, webhook queue). See docs/OBSERVABILITY.md.',
      },
    },
    async (_request, reply) => {
      const text = await deps.metrics.render();
      return reply.header('content-type', deps.metrics.contentType).header('cache-control', 'no-store').send(text);
    },
  );
}
