import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** One year, the value HSTS preload lists ask for. @see https://www.rfc-editor.org/rfc/rfc6797#section-6.1.1 */
const HSTS_MAX_AGE_SECONDS = 31_536_000;

/**
 * Headers every answer needs whatever the route:
 * - under /api: `X-Content-Type-Options: nosniff` (a browser never reads a JSON answer as a page or
 *   a script) and `Cache-Control: no-store` (the login answer carries the CSRF token, message
 *   answers carry mail: no shared or disk cache keeps them); a route that set its own cache policy
 *   (downloads) keeps it;
 * - everywhere, when the public URL is https: `Strict-Transport-Security`, so that a browser that
 *   came once never speaks plain http to Postern again.
 *
 * The pages' own policies (the UI's and the mail frame's CSP) are set by their routes.
 */
export function registerSecurityHeaders(app: FastifyInstance, options: { publicUrl: string }): void {
  const hsts = options.publicUrl.startsWith('https://') ? `max-age=${HSTS_MAX_AGE_SECONDS}` : undefined;
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (hsts !== undefined) void reply.header('strict-transport-security', hsts);
    if (request.url === '/api' || request.url.startsWith('/api/')) {
      void reply.header('x-content-type-options', 'nosniff');
      if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    }
    return payload;
  });
}
