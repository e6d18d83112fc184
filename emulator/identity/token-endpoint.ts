/**
 * `POST /{tenant}/oauth2/v2.0/token`: dispatches on `grant_type` after fault injection, tenant
 * resolution and client lookup. Success and error responses carry Microsoft's headers
 * (`Cache-Control: no-store, no-cache`, `Pragma`, `Expires: -1`, `x-ms-request-id`). Extra
 * body fields MSAL sends (`x-client-SKU`, `client-request-id`, `claims`...) are ignored.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#redeem-a-code-for-an-access-token
 */
import type { FastifyInstance } from 'fastify';
import type { FaultInjector } from '../control/faults.js';
import { aadsts } from './aadsts.js';
import { checkAppTenant, findClient } from './client-auth.js';
import type { IdentityContext } from './context.js';
import { applyFault } from './fault-replies.js';
import { clientCredentialsGrant, deviceCodeGrant, passwordGrant } from './grants-other.js';
import { authorizationCodeGrant, refreshTokenGrant, type GrantInput } from './grants-user.js';
import { baseUrlOf, noteOutcome, paramsOf, requestIdsOf, setNoStore, withAadErrors } from './http-support.js';
import type { TokenResponseBody } from './issue.js';
import { resolveTenantSegment } from './tenant-segment.js';

/** The device-code grant type URN. */
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const GRANTS: Record<string, (input: GrantInput) => TokenResponseBody> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
  password: passwordGrant,
  [DEVICE_CODE_GRANT]: deviceCodeGrant,
};

/** Registers the token endpoint. */
export function registerTokenEndpoint(
  app: FastifyInstance,
  deps: { ctx: IdentityContext; faults: FaultInjector },
): void {
  const { ctx } = deps;
  app.post<{ Params: { tenant: string } }>('/:tenant/oauth2/v2.0/token', async (request, reply) => {
    const params = paramsOf(request);
    noteOutcome(request, {
      endpoint: 'token',
      tenant: request.params.tenant,
      grantType: params.grant_type,
      clientId: params.client_id?.toLowerCase(),
    });
    if (await applyFault(deps.faults, 'token', request, reply, ctx.clock)) return reply;
    return withAadErrors(request, reply, ctx.clock, () => {
      const segment = resolveTenantSegment(ctx.directory, request.params.tenant);
      const grantType = params.grant_type;
      if (grantType === undefined || grantType.length === 0) throw aadsts(900144, { parameter: 'grant_type' });
      const handler = GRANTS[grantType];
      if (handler === undefined) throw aadsts(70003, { grantType });
      const client = findClient(ctx, segment, params, request);
      checkAppTenant(ctx, client, segment);
      ctx.state.prune(ctx.clock.nowMs(), ctx.config.authCodeLifetimeSeconds * 1000);
      const body = handler({ ctx, segment, app: client, params, request, baseUrl: baseUrlOf(request) });
      setNoStore(reply, requestIdsOf(request));
      return reply.code(200).type('application/json; charset=utf-8').send(body);
    });
  });
}
