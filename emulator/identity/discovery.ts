/**
 * Discovery: the per-tenant OpenID configuration (`/{tenant}/v2.0/.well-known/openid-configuration`),
 * the JWKS (`/{tenant}/discovery/v2.0/keys`), MSAL's instance discovery
 * (`/common/discovery/instance`) and the userinfo endpoint the configuration points at.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc
 * @see https://learn.microsoft.com/entra/identity-platform/userinfo
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FaultInjector } from '../control/faults.js';
import { AadstsError } from './aadsts.js';
import type { IdentityContext } from './context.js';
import { applyFault } from './fault-replies.js';
import { baseUrlOf, noteOutcome, sendAadError } from './http-support.js';
import type { IntrospectAccessToken } from './introspect.js';
import { resolveTenantSegment, v2Issuer, type TenantSegment } from './tenant-segment.js';

/** The discovery document of a tenant segment, as Microsoft serves it. */
function openIdConfiguration(baseUrl: string, segment: TenantSegment): Record<string, unknown> {
  const path = segment.kind === 'tenant' ? segment.tenant.id : segment.segment;
  const issuer = segment.kind === 'tenant' ? v2Issuer(baseUrl, segment.tenant.id) : `${baseUrl}/{tenantid}/v2.0`;
  const base = `${baseUrl}/${path}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub',
      'iss',
      'cloud_instance_name',
      'cloud_instance_host_name',
      'cloud_graph_host_name',
      'msgraph_host',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'nonce',
      'preferred_username',
      'name',
      'tid',
      'ver',
      'at_hash',
      'c_hash',
      'email',
    ],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: segment.kind === 'tenant' ? 'EU' : null,
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

function withSegment(
  request: FastifyRequest<{ Params: { tenant: string } }>,
  reply: FastifyReply,
  ctx: IdentityContext,
  send: (segment: TenantSegment) => FastifyReply,
): FastifyReply {
  try {
    return send(resolveTenantSegment(ctx.directory, request.params.tenant));
  } catch (error) {
    if (error instanceof AadstsError) return sendAadError(request, reply, error, ctx.clock);
    throw error;
  }
}

/** Registers discovery, JWKS, instance discovery and userinfo. */
export function registerDiscoveryRoutes(
  app: FastifyInstance,
  deps: { ctx: IdentityContext; faults: FaultInjector; introspect: IntrospectAccessToken },
): void {
  const { ctx, faults } = deps;
  app.get<{ Params: { tenant: string } }>('/:tenant/v2.0/.well-known/openid-configuration', async (request, reply) => {
    noteOutcome(request, { endpoint: 'discovery', tenant: request.params.tenant });
    if (await applyFault(faults, 'discovery', request, reply, ctx.clock)) return reply;
    return withSegment(request, reply, ctx, (segment) =>
      reply
        .header('cache-control', 'max-age=86400, private')
        .header('access-control-allow-origin', '*')
        .send(openIdConfiguration(baseUrlOf(request), segment)),
    );
  });
  const jwks = async (
    request: FastifyRequest<{ Params: { tenant: string } }>,
    reply: FastifyReply,
  ): Promise<FastifyReply> => {
    noteOutcome(request, { endpoint: 'jwks', tenant: request.params.tenant });
    if (await applyFault(faults, 'jwks', request, reply, ctx.clock)) return reply;
    return withSegment(request, reply, ctx, (segment) => {
      const issuer =
        segment.kind === 'tenant'
          ? v2Issuer(baseUrlOf(request), segment.tenant.id)
          : `${baseUrlOf(request)}/{tenantid}/v2.0`;
      return reply
        .header('cache-control', 'max-age=86400, private')
        .header('access-control-allow-origin', '*')
        .send(ctx.keys.jwks(issuer));
    });
  };
  app.get<{ Params: { tenant: string } }>('/:tenant/discovery/v2.0/keys', jwks);
  app.get<{ Params: { tenant: string } }>('/:tenant/discovery/keys', jwks);
  app.get('/common/discovery/instance', (request, reply) => {
    noteOutcome(request, { endpoint: 'instance-discovery' });
    const host = request.headers.host ?? '127.0.0.1';
    return reply.send({
      tenant_discovery_endpoint: `${baseUrlOf(request)}/{tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  });
  app.get('/oidc/userinfo', (request, reply) => {
    noteOutcome(request, { endpoint: 'userinfo' });
    const header = request.headers.authorization ?? '';
    const result = /^bearer /i.test(header)
      ? deps.introspect(header.slice(7))
      : { valid: false as const, reason: 'malformed' as const };
    if (!result.valid || result.audience !== 'graph' || result.userId === undefined) {
      return reply
        .code(401)
        .header(
          'www-authenticate',
          'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
        )
        .send({
          error: { code: 'InvalidAuthenticationToken', message: 'Access token validation failure. Invalid audience.' },
        });
    }
    const user = ctx.directory.findUserById(result.userId);
    const [given, ...family] = (user?.displayName ?? '').split(' ');
    return reply.send({
      sub: result.claims.sub,
      name: user?.displayName,
      family_name: family.join(' '),
      given_name: given,
      email: user?.mail,
    });
  });
}
