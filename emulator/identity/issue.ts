/**
 * Issuing the token response of a user flow (authorization code, refresh, password, device
 * code): one access token for one resource with `scp` = every scope the user consented to for
 * that resource, an ID token when `openid` was asked for, and a new refresh token when the grant
 * includes `offline_access`.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#successful-response-2
 * @see https://learn.microsoft.com/entra/identity-platform/refresh-tokens
 */
import type { AppRegistration, Tenant, User } from '../directory/model.js';
import { EXCHANGE, splitCanonical } from '../directory/resources.js';
import { aadsts } from './aadsts.js';
import { accessTokenLifetime, type ClientType, type IdentityContext } from './context.js';
import { sealRefreshToken } from './refresh-tokens.js';
import { neededConsent, neededForResource, tokenAudience, tokenResource, type RequestedScopes } from './scopes.js';
import { mintAccessToken, mintIdToken, randomText } from './tokens.js';

/** The JSON body of a successful token response (v2.0). */
export interface TokenResponseBody {
  token_type: 'Bearer';
  scope?: string;
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  client_info?: string;
}

/** A user grant about to be turned into tokens. */
export interface UserGrant {
  tenant: Readonly<Tenant>;
  app: Readonly<AppRegistration>;
  user: Readonly<User>;
  /** What this request asks for. */
  scopes: RequestedScopes;
  /** What the grant (refresh token) remembers; defaults to `scopes`. */
  grantScopes?: RequestedScopes;
  clientType: ClientType;
  /** The client authenticated with a secret. */
  confidential: boolean;
  authTimeMs: number;
  amr: string[];
  /** First issue of the refresh-token chain (SPA fixed lifetime); defaults to now. */
  chainIssuedAtMs?: number;
  /** The refresh-token chain continued; a sign-in starts a new one. */
  chain?: string;
  nonce?: string;
  /** The v2.0 issuer for the ID token (`https://host/{tid}/v2.0`). */
  issuer: string;
  /** MSAL's `client_info=1`. */
  clientInfo?: boolean;
}

/** Throws AADSTS65001 unless every needed scope is consented (by the user or an admin). */
export function requireConsent(
  ctx: IdentityContext,
  grant: Pick<UserGrant, 'tenant' | 'app' | 'user' | 'scopes'>,
): void {
  const consented = ctx.directory.consentedScopes(grant.tenant.id, grant.app.appId, grant.user.id);
  const missing = neededConsent(grant.app, grant.scopes).filter((s) => !consented.has(s));
  const resourceNeeded = grant.scopes.resources.some(
    (g) => neededForResource(grant.app, grant.scopes, g.resource).length === 0,
  );
  if (missing.length > 0 || resourceNeeded)
    throw aadsts(65001, { appId: grant.app.appId, appName: grant.app.displayName });
}

/** Throws AADSTS50076 when the user needs MFA and the session did not include it. */
export function requireMfa(grant: Pick<UserGrant, 'user' | 'amr'>): void {
  if (grant.user.mfaRequired && !grant.amr.includes('mfa')) throw aadsts(50076, { resourceAppId: EXCHANGE.appId });
}

/** Mints the response for a user grant (consent and user state already checked). */
export function issueUserTokens(ctx: IdentityContext, grant: UserGrant): TokenResponseBody {
  const resource = tokenResource(grant.scopes);
  const consented = ctx.directory.consentedScopes(grant.tenant.id, grant.app.appId, grant.user.id);
  const resourceScopes = [...consented].filter((s) => splitCanonical(s)?.resource === resource);
  const onlyOidc = grant.scopes.resources.length === 0;
  const scp = onlyOidc
    ? grant.scopes.oidc.filter((s) => s !== 'offline_access')
    : resourceScopes.map((s) => splitCanonical(s)?.name ?? s);
  const lifetime = accessTokenLifetime(ctx);
  const access = mintAccessToken(ctx.keys, ctx.clock, {
    tenant: grant.tenant,
    app: grant.app,
    resource,
    audience: tokenAudience(grant.scopes),
    user: grant.user,
    scopes: scp,
    amr: grant.amr,
    confidential: grant.confidential,
    lifetimeSeconds: lifetime,
  });
  const grantScopes = grant.grantScopes ?? grant.scopes;
  const withRefresh = grantScopes.oidc.includes('offline_access') || grant.scopes.oidc.includes('offline_access');
  const echoed = [...(onlyOidc ? [] : resourceScopes), ...grant.scopes.oidc.filter((s) => s !== 'offline_access')];
  if (withRefresh) echoed.push('offline_access');
  const body: TokenResponseBody = {
    token_type: 'Bearer',
    scope: echoed.join(' '),
    expires_in: lifetime,
    ext_expires_in: lifetime,
    access_token: access.token,
  };
  const now = ctx.clock.nowMs();
  if (withRefresh) {
    body.refresh_token = sealRefreshToken(ctx.keys.sealingKey, {
      v: 1,
      jti: randomText(12),
      tid: grant.tenant.id,
      appId: grant.app.appId,
      oid: grant.user.id,
      scopes: grantScopes,
      clientType: grant.clientType,
      authTime: grant.authTimeMs,
      issuedAt: now,
      chainIssuedAt: grant.chainIssuedAtMs ?? now,
      chain: grant.chain ?? randomText(12),
      amr: grant.amr,
    });
  }
  if (grant.scopes.oidc.includes('openid')) {
    body.id_token = mintIdToken(ctx.keys, ctx.clock, {
      issuer: grant.issuer,
      tenant: grant.tenant,
      app: grant.app,
      user: grant.user,
      email: grant.scopes.oidc.includes('email'),
      ...(grant.nonce === undefined ? {} : { nonce: grant.nonce }),
    });
  }
  if (grant.clientInfo === true) {
    body.client_info = Buffer.from(JSON.stringify({ uid: grant.user.id, utid: grant.tenant.id })).toString('base64url');
  }
  return body;
}
