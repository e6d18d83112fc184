/**
 * Access-token introspection for the Exchange half (IMAP, SMTP, Graph): what a resource server
 * learns from a bearer token. **Synchronous** — call it inside a protocol handler without
 * awaiting. It checks, in this order: the JWT shape (`malformed`), the RS256 signature against
 * the emulator's published keys (`signature`), the v1.0 issuer `https://sts.windows.net/{tid}/`
 * of a known tenant (`wrong-issuer`; an ID token or a token of a deleted tenant lands here),
 * expiry against the emulator clock (`expired`), and finally whether the principal still stands
 * (`revoked`: user deleted or disabled, or the app deleted).
 *
 * Revocation follows Entra's timeline: revoking a user's sessions (or an admin password reset that
 * revokes them, or withdrawn consent) kills the refresh tokens at once, while an access token
 * already issued stays good until its `exp` — Entra does not recall it, and a resource accepts it
 * unless it evaluates continuous access for a CAE-capable client. Only when the tenant's
 * `continuousAccessEvaluation` is on (a control-API switch, off by default) is a token issued
 * before the user's `tokensValidFrom` refused at once (`revoked`). The same rule serves the
 * emulator's IMAP, SMTP and Graph and the resource-server introspection Dovecot asks.
 *
 * The audience is reported, not enforced: the caller decides (`audience === 'exchange'` for IMAP
 * and SMTP; Graph answers an Outlook token with "Invalid audience").
 *
 * @see https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
 * @see https://learn.microsoft.com/entra/identity/conditional-access/concept-continuous-access-evaluation
 * @see https://learn.microsoft.com/entra/identity-platform/refresh-tokens#token-revocation
 * @see https://learn.microsoft.com/entra/identity/users/users-revoke-access
 */
import type { Clock } from '../clock.js';
import type { DirectoryStore } from '../directory/directory-store.js';
import { RESOURCES } from '../directory/resources.js';
import type { IdentityKeys } from './keys.js';

/** Why a token is not valid. */
export type InvalidTokenReason = 'malformed' | 'signature' | 'expired' | 'revoked' | 'wrong-issuer';

/** A valid token's facts. */
export interface ValidAccessToken {
  valid: true;
  /** `exchange` or `graph` for the resources the emulator knows, else the raw `aud`. */
  audience: 'exchange' | 'graph' | string;
  /** The `aud` claim as issued. */
  aud: string;
  /** Delegated scopes (`scp`), short names like `IMAP.AccessAsUser.All`; empty for app-only tokens. */
  scopes: string[];
  /** Application roles (`roles`), app-only tokens; empty for delegated tokens. */
  roles: string[];
  tenantId: string;
  /** The client application (`appid`). */
  appId: string;
  /** Delegated tokens: the user's object id (`oid`). */
  userId?: string;
  /** Delegated tokens: the user principal name. */
  upn?: string;
  /** App-only tokens: the service principal's object id. */
  servicePrincipalId?: string;
  issuedAt: Date;
  expiresAt: Date;
  /** All claims, for diagnostics. */
  claims: Readonly<Record<string, unknown>>;
}

/** The introspection result. */
export type AccessTokenIntrospection = ValidAccessToken | { valid: false; reason: InvalidTokenReason };

/** The signature of the introspection function handed to the Exchange half. */
export type IntrospectAccessToken = (token: string) => AccessTokenIntrospection;

const ISSUER = /^https:\/\/sts\.windows\.net\/([0-9a-f-]{36})\/$/i;

function audienceOf(aud: string): 'exchange' | 'graph' | string {
  const lower = aud.toLowerCase().replace(/(?<!\/)\/+$/, '');
  return RESOURCES.find((r) => r.identifiers.includes(lower))?.id ?? aud;
}

function stringClaim(claims: Record<string, unknown>, name: string): string | undefined {
  const v = claims[name];
  return typeof v === 'string' ? v : undefined;
}

/** Whether the user's sessions were revoked after a token issued at `iat` (seconds). */
function revokedAfterIssue(tokensValidFrom: Date | null, iat: number): boolean {
  return tokensValidFrom !== null && Math.floor(tokensValidFrom.getTime() / 1000) > iat;
}

/** Builds the synchronous introspection function over the emulator's keys, clock and directory. */
export function createIntrospector(deps: {
  keys: IdentityKeys;
  clock: Clock;
  directory: DirectoryStore;
}): IntrospectAccessToken {
  return function introspectAccessToken(token: string): AccessTokenIntrospection {
    const checked = deps.keys.verifyJwt(token.trim());
    if (!checked.ok) return { valid: false, reason: checked.reason };
    const claims = checked.jwt.payload;
    const iss = stringClaim(claims, 'iss') ?? '';
    const tid = stringClaim(claims, 'tid');
    const issuerMatch = ISSUER.exec(iss);
    if (issuerMatch === null || tid === undefined || issuerMatch[1]?.toLowerCase() !== tid.toLowerCase()) {
      return { valid: false, reason: 'wrong-issuer' };
    }
    const tenant = deps.directory.findTenant(tid);
    if (tenant === undefined) return { valid: false, reason: 'wrong-issuer' };
    const exp = claims.exp;
    const iat = claims.iat;
    const aud = stringClaim(claims, 'aud');
    const appId = stringClaim(claims, 'appid');
    if (typeof exp !== 'number' || typeof iat !== 'number' || aud === undefined || appId === undefined) {
      return { valid: false, reason: 'malformed' };
    }
    if (exp * 1000 <= deps.clock.nowMs()) return { valid: false, reason: 'expired' };
    if (deps.directory.findApp(appId) === undefined) return { valid: false, reason: 'revoked' };

    const idtyp = stringClaim(claims, 'idtyp');
    const base = {
      valid: true as const,
      audience: audienceOf(aud),
      aud,
      tenantId: tenant.id,
      appId,
      issuedAt: new Date(iat * 1000),
      expiresAt: new Date(exp * 1000),
      claims,
    };
    if (idtyp === 'app') {
      const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
      const sp = stringClaim(claims, 'oid');
      return { ...base, scopes: [], roles, ...(sp === undefined ? {} : { servicePrincipalId: sp }) };
    }
    const oid = stringClaim(claims, 'oid');
    const user = oid === undefined ? undefined : deps.directory.findUserById(oid);
    if (user === undefined || user.disabled) return { valid: false, reason: 'revoked' };
    if (tenant.continuousAccessEvaluation && revokedAfterIssue(user.tokensValidFrom, iat))
      return { valid: false, reason: 'revoked' };
    const scp = stringClaim(claims, 'scp') ?? '';
    return {
      ...base,
      scopes: scp.split(' ').filter((s) => s.length > 0),
      roles: [],
      userId: user.id,
      upn: stringClaim(claims, 'upn') ?? user.userPrincipalName,
    };
  };
}
