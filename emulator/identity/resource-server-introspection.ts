/**
 * Token introspection for resource servers that are not the emulator's own — Dovecot's `oauth2`
 * passdb standing in for Exchange's IMAP and SMTP in the interop tests (`test/interop/`). Entra
 * has no such endpoint (Exchange validates tokens itself); the emulator offers it so that a server
 * written by others can ask whether a token it was handed is one the emulator would accept, under
 * the same rules as the emulator's own IMAP and SMTP (`introspect.ts`: signature, issuer, expiry on
 * the emulator clock, revocation), and the Exchange audience required.
 *
 * `POST /resource-server/introspect` with the form field `token` (Dovecot's `introspection_mode =
 * post`) answers 200 with RFC 7662 JSON: `{ active: true, username, upn, scope, client_id, exp, ...}`
 * for a live delegated Exchange token, else `{ active: false }`. No client authentication: the
 * caller already holds the token, and the answer tells it no more than the token's own claims.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2
 * @see https://doc.dovecot.org/2.3/configuration_manual/authentication/oauth2/
 */
import type { FastifyInstance } from 'fastify';
import { noteOutcome, paramsOf } from './http-support.js';
import type { IntrospectAccessToken } from './introspect.js';

/** The route's path on the emulator's HTTPS server. */
export const RESOURCE_SERVER_INTROSPECTION_PATH = '/resource-server/introspect';

/** The longest token considered; anything longer is not one the emulator issued. */
const MAX_TOKEN_CHARS = 16_384;

/** Registers `POST /resource-server/introspect`. */
export function registerResourceServerIntrospection(app: FastifyInstance, introspect: IntrospectAccessToken): void {
  app.post(RESOURCE_SERVER_INTROSPECTION_PATH, (request, reply) => {
    noteOutcome(request, { endpoint: 'resource-server-introspect' });
    const token = paramsOf(request).token ?? '';
    const result = token.length === 0 || token.length > MAX_TOKEN_CHARS ? undefined : introspect(token);
    reply.header('cache-control', 'no-store');
    if (result === undefined || !result.valid || result.audience !== 'exchange' || result.upn === undefined) {
      noteOutcome(request, { error: result === undefined || result.valid ? 'inactive' : result.reason });
      return reply.send({ active: false });
    }
    return reply.send({
      active: true,
      token_type: 'Bearer',
      username: result.upn,
      upn: result.upn,
      sub: result.userId,
      scope: result.scopes.join(' '),
      client_id: result.appId,
      aud: result.aud,
      tid: result.tenantId,
      iat: Math.floor(result.issuedAt.getTime() / 1000),
      exp: Math.floor(result.expiresAt.getTime() / 1000),
    });
  });
}
