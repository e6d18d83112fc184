/**
 * The token endpoint's user-delegated grants that continue an earlier sign-in:
 * `authorization_code` (single use, ~10 minutes, PKCE, same redirect_uri) and `refresh_token`
 * (rotation, 90-day inactivity, revocation, password change, sign-in frequency, SPA lifetime).
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
 * @see https://learn.microsoft.com/entra/identity-platform/refresh-tokens
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { AppRegistration, Tenant, User } from '../directory/model.js';
import { aadIsoSeconds, aadsts } from './aadsts.js';
import { authenticateClient, type ClientAuthMode } from './client-auth.js';
import type { ClientType, IdentityContext, RedirectPlatform } from './context.js';
import { issueUserTokens, requireConsent, requireMfa, type TokenResponseBody } from './issue.js';
import { openRefreshToken } from './refresh-tokens.js';
import { mergeScopes, parseRequestedScopes, requireSingleResource, type RequestedScopes } from './scopes.js';
import { v2Issuer, type TenantSegment } from './tenant-segment.js';

/** What every grant handler receives. */
export interface GrantInput {
  ctx: IdentityContext;
  segment: TenantSegment;
  app: Readonly<AppRegistration>;
  params: Record<string, string>;
  request: FastifyRequest;
  baseUrl: string;
}

/** Reads a required parameter (AADSTS900144 when missing). */
export function required(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined || value.length === 0) throw aadsts(900144, { parameter: name });
  return value;
}

/** The client-auth mode of a redirect platform. */
function authModeOf(platform: RedirectPlatform | ClientType): ClientAuthMode {
  return platform === 'web' || platform === 'confidential' ? 'confidential' : 'public';
}

/** SPA redemption must be cross-origin (AADSTS9002327 without an `Origin` header). */
function requireCors(request: FastifyRequest): void {
  if (request.headers.origin === undefined) throw aadsts(9002327);
}

/** The user and tenant of a grant, checked for being usable (deleted → 70000, disabled → 50057). */
export function grantUser(
  ctx: IdentityContext,
  userId: string,
  tenantId: string,
): { user: Readonly<User>; tenant: Readonly<Tenant> } {
  const user = ctx.directory.findUserById(userId);
  const tenant = ctx.directory.findTenant(tenantId);
  if (user === undefined || tenant === undefined) throw aadsts(70000);
  if (user.disabled) throw aadsts(50057);
  return { user, tenant };
}

/** Optional `scope` on code redemption and refresh, parsed; either way one resource (AADSTS28000). */
function optionalScopes(params: Record<string, string>, tenantLabel: string): RequestedScopes | undefined {
  const raw = params.scope;
  if (raw === undefined || raw.trim().length === 0) return undefined;
  const scopes = parseRequestedScopes(raw, 'delegated', tenantLabel);
  requireSingleResource(scopes);
  return scopes;
}

/** `grant_type=authorization_code`. */
export function authorizationCodeGrant(input: GrantInput): TokenResponseBody {
  const { ctx, app, params, request } = input;
  const code = required(params, 'code');
  const redirectUri = required(params, 'redirect_uri');
  const record = ctx.state.codes.get(code);
  if (record === undefined) throw aadsts(9002313);
  if (record.appId !== app.appId) throw aadsts(70000);
  const auth = authenticateClient(ctx, app, params, request, authModeOf(record.platform));
  if (record.platform === 'spa') requireCors(request);
  if (record.redeemed) throw aadsts(54005);
  if (record.issuedAtMs + ctx.config.authCodeLifetimeSeconds * 1000 <= ctx.clock.nowMs()) throw aadsts(70008);
  if (redirectUri !== record.redirectUri) throw aadsts(500112, { redirectUri, expected: record.redirectUri });
  if (record.codeChallenge !== undefined) {
    const verifier = params.code_verifier ?? '';
    const computed =
      record.codeChallengeMethod === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
    if (verifier.length === 0 || computed !== record.codeChallenge) throw aadsts(501481);
  }
  // Entra refuses a scope parameter sent empty at redemption (AADSTS28003); without one, the
  // token is for the first resource the authorization named.
  if (params.scope !== undefined && params.scope.trim().length === 0) throw aadsts(28003);
  record.redeemed = true;
  const { user, tenant } = grantUser(ctx, record.userId, record.tenantId);
  const requested = optionalScopes(params, tenant.id);
  const scopes =
    requested === undefined
      ? record.scopes
      : { ...requested, oidc: [...new Set([...requested.oidc, ...record.scopes.oidc])] };
  const clientType: ClientType =
    record.platform === 'web' ? 'confidential' : record.platform === 'spa' ? 'spa' : 'public';
  requireConsent(ctx, { tenant, app, user, scopes });
  return issueUserTokens(ctx, {
    tenant,
    app,
    user,
    scopes,
    grantScopes: record.scopes,
    clientType,
    confidential: auth.confidential,
    authTimeMs: record.authTimeMs,
    amr: record.amr,
    issuer: v2Issuer(input.baseUrl, tenant.id),
    clientInfo: params.client_info === '1',
    ...(record.nonce === undefined ? {} : { nonce: record.nonce }),
  });
}

/** `grant_type=refresh_token`. */
export function refreshTokenGrant(input: GrantInput): TokenResponseBody {
  const { ctx, app, params, request } = input;
  const raw = required(params, 'refresh_token');
  const rt = openRefreshToken(ctx.keys.sealingKey, raw);
  if (rt === null) throw aadsts(9002313);
  if (rt.appId !== app.appId) throw aadsts(70000);
  const auth = authenticateClient(ctx, app, params, request, authModeOf(rt.clientType));
  if (rt.clientType === 'spa') requireCors(request);
  const now = ctx.clock.nowMs();
  const issuedAt = new Date(rt.issuedAt);
  if (rt.clientType === 'spa' && rt.chainIssuedAt + ctx.config.spaRefreshTokenLifetimeSeconds * 1000 <= now) {
    throw aadsts(700084, { issuedAt: aadIsoSeconds(new Date(rt.chainIssuedAt)) });
  }
  if (rt.issuedAt + ctx.config.refreshTokenInactivitySeconds * 1000 <= now)
    throw aadsts(700082, { issuedAt: aadIsoSeconds(issuedAt) });
  const { user, tenant } = grantUser(ctx, rt.oid, rt.tid);
  if (user.tokensValidFrom !== null && user.tokensValidFrom.getTime() > rt.authTime) {
    throw aadsts(50173, {
      issuedAt: aadIsoSeconds(new Date(rt.authTime)),
      validFrom: aadIsoSeconds(user.tokensValidFrom),
    });
  }
  if (
    rt.clientType !== 'confidential' &&
    user.passwordChangedAt !== null &&
    user.passwordChangedAt.getTime() > rt.authTime
  )
    throw aadsts(50133);
  const frequency = tenant.signInFrequencySeconds;
  if (frequency !== null && rt.authTime + frequency * 1000 <= now) {
    throw aadsts(70043, { issuedAt: aadIsoSeconds(new Date(rt.authTime)), maxAge: String(frequency) });
  }
  requireMfa({ user, amr: rt.amr });
  const requested = optionalScopes(params, tenant.id);
  const scopes = requested ?? rt.scopes;
  requireConsent(ctx, { tenant, app, user, scopes });
  // A token sealed before chains had ids starts its chain with its own id.
  const chain = rt.chain ?? rt.jti;
  const body = issueUserTokens(ctx, {
    tenant,
    app,
    user,
    scopes,
    grantScopes: requested === undefined ? rt.scopes : mergeScopes(rt.scopes, requested),
    clientType: rt.clientType,
    confidential: auth.confidential,
    authTimeMs: rt.authTime,
    amr: rt.amr,
    chainIssuedAtMs: rt.chainIssuedAt,
    chain,
    issuer: v2Issuer(input.baseUrl, tenant.id),
    clientInfo: params.client_info === '1',
  });
  ctx.state.refreshRedemptions.record(chain);
  return body;
}
