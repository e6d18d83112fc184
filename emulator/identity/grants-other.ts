/**
 * The token endpoint's other grants: `client_credentials` (app-only, `{resource}/.default`,
 * roles from admin consent, no refresh token), `password` (ROPC: no MFA, no `/common`), and the
 * device-code poll (`authorization_pending`, `authorization_declined`, `expired_token`, and for a
 * poll sooner than the interval Entra's loop detection, AADSTS50196, where RFC 8628 says `slow_down`).
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth-ropc
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.5
 */
import { splitCanonical } from '../directory/resources.js';
import { aadsts } from './aadsts.js';
import { authenticateClient } from './client-auth.js';
import { appOnlyAccessTokenLifetime } from './context.js';
import { grantUser, required, type GrantInput } from './grants-user.js';
import { issueUserTokens, requireConsent, requireMfa, type TokenResponseBody } from './issue.js';
import { parseRequestedScopes, requireSingleResource, tokenAudience } from './scopes.js';
import { v2Issuer } from './tenant-segment.js';
import { mintAccessToken } from './tokens.js';

/** `grant_type=client_credentials`. */
export function clientCredentialsGrant(input: GrantInput): TokenResponseBody {
  const { ctx, segment, app, params, request } = input;
  if (segment.kind !== 'tenant') throw aadsts(9001023, { grantType: 'client_credentials' });
  const auth = authenticateClient(ctx, app, params, request, 'confidential');
  const raw = required(params, 'scope');
  const scopes = parseRequestedScopes(raw, 'application', segment.tenant.id);
  const group = scopes.resources[0];
  if (scopes.oidc.length > 0 || group === undefined || group.names.some((n) => n !== '.default'))
    throw aadsts(1002012, { scope: raw });
  requireSingleResource(scopes);
  if (!ctx.directory.isAppInTenant(segment.tenant.id, app.appId))
    throw aadsts(700016, { appId: app.appId, tenant: segment.tenant.id });
  const roles = [...ctx.directory.consentedRoles(segment.tenant.id, app.appId)]
    .map((r) => splitCanonical(r))
    .filter((r) => r !== null && r.resource === group.resource)
    .map((r) => r?.name ?? '');
  const lifetime = appOnlyAccessTokenLifetime(ctx);
  const token = mintAccessToken(ctx.keys, ctx.clock, {
    tenant: segment.tenant,
    app,
    resource: group.resource,
    audience: tokenAudience(scopes),
    roles,
    confidential: auth.confidential,
    lifetimeSeconds: lifetime,
  });
  return { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token.token };
}

/** `grant_type=password` (ROPC). */
export function passwordGrant(input: GrantInput): TokenResponseBody {
  const { ctx, segment, app, params, request } = input;
  if (segment.kind === 'common' || segment.kind === 'consumers') throw aadsts(9001023, { grantType: 'password' });
  const auth = authenticateClient(ctx, app, params, request, 'either');
  const username = required(params, 'username');
  const password = required(params, 'password');
  const scopeRaw = required(params, 'scope');
  const tenantLabel = segment.kind === 'tenant' ? segment.tenant.id : 'organizations';
  const found = ctx.directory.findUserByUpn(username);
  const user =
    found !== undefined && (segment.kind !== 'tenant' || found.tenantId === segment.tenant.id) ? found : undefined;
  if (user === undefined) throw aadsts(50034, { tenant: tenantLabel });
  const { tenant } = grantUser(ctx, user.id, user.tenantId);
  if (password !== user.password || password.trim() !== password) throw aadsts(50126);
  if (app.signInAudience === 'AzureADMyOrg' && app.tenantId !== tenant.id)
    throw aadsts(700016, { appId: app.appId, tenant: tenant.id });
  const scopes = parseRequestedScopes(scopeRaw, 'delegated', tenant.id);
  requireSingleResource(scopes);
  const amr = ['pwd'];
  requireMfa({ user, amr });
  requireConsent(ctx, { tenant, app, user, scopes });
  return issueUserTokens(ctx, {
    tenant,
    app,
    user,
    scopes,
    clientType: auth.confidential ? 'confidential' : 'public',
    confidential: auth.confidential,
    authTimeMs: ctx.clock.nowMs(),
    amr,
    issuer: v2Issuer(input.baseUrl, tenant.id),
    clientInfo: params.client_info === '1',
  });
}

/** `grant_type=urn:ietf:params:oauth:grant-type:device_code` (the client's poll). */
export function deviceCodeGrant(input: GrantInput): TokenResponseBody {
  const { ctx, app, params, request } = input;
  const deviceCode = required(params, 'device_code');
  const record = ctx.state.deviceCodes.get(deviceCode);
  if (record === undefined || record.appId !== app.appId) throw aadsts(70018);
  const auth = authenticateClient(ctx, app, params, request, 'either');
  const now = ctx.clock.nowMs();
  if (record.status === 'redeemed') throw aadsts(70000);
  if (record.expiresAtMs <= now) throw aadsts(70019);
  if (record.status === 'declined') {
    throw aadsts(
      70000,
      {},
      { error: 'authorization_declined', text: 'The end user denied the authorization request.' },
    );
  }
  if (record.status === 'pending') {
    const last = record.lastPollMs;
    record.lastPollMs = now;
    // RFC 8628 §3.5 would answer slow_down; Entra's loop detection answers AADSTS50196 instead,
    // which a client that only knows slow_down takes for a failure.
    const minPollMs = (ctx.config.deviceCodeMinPollSeconds ?? record.intervalSeconds * 0.8) * 1000;
    if (last !== undefined && now - last < minPollMs) throw aadsts(50196);
    throw aadsts(70016);
  }
  if (record.userId === undefined || record.authTimeMs === undefined) throw aadsts(70000);
  const { user, tenant } = grantUser(
    ctx,
    record.userId,
    record.tenantId ?? ctx.directory.findUserById(record.userId)?.tenantId ?? '',
  );
  record.status = 'redeemed';
  const amr = record.amr ?? ['pwd'];
  requireConsent(ctx, { tenant, app, user, scopes: record.scopes });
  return issueUserTokens(ctx, {
    tenant,
    app,
    user,
    scopes: record.scopes,
    clientType: auth.confidential ? 'confidential' : 'public',
    confidential: auth.confidential,
    authTimeMs: record.authTimeMs,
    amr,
    issuer: v2Issuer(input.baseUrl, tenant.id),
    clientInfo: params.client_info === '1',
  });
}
