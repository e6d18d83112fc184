/**
 * What the identity platform's handlers share: the directory, the clock, the keys, the
 * configuration, and the short-lived in-memory state (authorization codes, device codes,
 * sign-in transactions, SSO sessions). Refresh tokens are not kept here: they are sealed,
 * self-contained blobs (see `refresh-tokens.ts`), so they survive an emulator restart.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/configurable-token-lifetimes
 */
import type { Clock } from '../clock.js';
import type { Directory } from '../directory/directory.js';
import type { ResourceId } from '../directory/resources.js';
import type { IdentityKeys } from './keys.js';
import { RefreshRedemptions } from './refresh-redemptions.js';
import type { RequestedScopes } from './scopes.js';

/** Lifetimes and intervals; tests shorten the device-code interval. */
export interface IdentityConfig {
  /** Delegated access-token lifetime is drawn uniformly from [min, max] seconds (Microsoft: 60–90 min). */
  accessTokenLifetimeSeconds: { min: number; max: number };
  /**
   * App-only (client-credentials) access tokens have one fixed lifetime: Entra answers
   * `expires_in: 3599` every time, with no random spread.
   */
  appOnlyAccessTokenLifetimeSeconds: number;
  /** Authorization codes live about ten minutes (AADSTS70008 after). */
  authCodeLifetimeSeconds: number;
  /** Device codes: `expires_in` (900) and polling `interval` (5; fractions allowed for tests). */
  deviceCodeExpiresInSeconds: number;
  deviceCodeIntervalSeconds: number;
  /**
   * Polls of one device code closer together than this are a request loop to Entra: AADSTS50196,
   * not RFC 8628's `slow_down`. Unset: 80 % of the interval (slack for timer jitter).
   */
  deviceCodeMinPollSeconds?: number;
  /** Refresh tokens expire after this much inactivity (90 days; AADSTS700082). */
  refreshTokenInactivitySeconds: number;
  /** Refresh tokens of SPA redirect URIs have a fixed lifetime (24 h; AADSTS700084). */
  spaRefreshTokenLifetimeSeconds: number;
  /** How long a sign-in page stays usable. */
  loginTransactionSeconds: number;
}

export const DEFAULT_IDENTITY_CONFIG: IdentityConfig = {
  accessTokenLifetimeSeconds: { min: 3600, max: 5400 },
  appOnlyAccessTokenLifetimeSeconds: 3599,
  authCodeLifetimeSeconds: 600,
  deviceCodeExpiresInSeconds: 900,
  deviceCodeIntervalSeconds: 5,
  refreshTokenInactivitySeconds: 90 * 86_400,
  spaRefreshTokenLifetimeSeconds: 86_400,
  loginTransactionSeconds: 3600,
};

/** How the client of a grant authenticates, decided by the redirect URI's platform or the flow. */
export type ClientType = 'confidential' | 'public' | 'spa';

/** The platform a redirect URI is registered under. */
export type RedirectPlatform = 'web' | 'spa' | 'publicClient';

/** An authorization code waiting for redemption. */
export interface AuthorizationCodeRecord {
  code: string;
  appId: string;
  tenantId: string;
  userId: string;
  redirectUri: string;
  platform: RedirectPlatform;
  scopes: RequestedScopes;
  codeChallenge: string | undefined;
  codeChallengeMethod: 'S256' | 'plain' | undefined;
  nonce: string | undefined;
  authTimeMs: number;
  amr: string[];
  issuedAtMs: number;
  redeemed: boolean;
}

/** A device authorization in progress. */
export interface DeviceCodeRecord {
  deviceCode: string;
  userCode: string;
  appId: string;
  /** The tenant of the `/devicecode` request, or null for `organizations`/`common`. */
  tenantId: string | null;
  scopes: RequestedScopes;
  expiresAtMs: number;
  intervalSeconds: number;
  status: 'pending' | 'approved' | 'declined' | 'redeemed';
  userId?: string;
  authTimeMs?: number;
  amr?: string[];
  lastPollMs?: number;
}

/** What an authorize request asked for, kept while the user signs in. */
export interface AuthorizeParams {
  redirectUri: string;
  platform: RedirectPlatform;
  responseMode: 'query' | 'fragment' | 'form_post';
  state: string | undefined;
  nonce: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: 'S256' | 'plain' | undefined;
  scopes: RequestedScopes;
  prompt: string | undefined;
}

/** A sign-in in progress (authorize, device login, or admin consent). */
export interface LoginTransaction {
  id: string;
  kind: 'authorize' | 'device' | 'admin-consent';
  /** The tenant path segment as requested (`common`, a GUID, a domain). */
  tenantSegment: string;
  /** The fixed tenant of the request, or null when the user's domain decides. */
  tenantId: string | null;
  appId: string;
  step: 'credentials' | 'mfa' | 'consent';
  loginHint: string | undefined;
  authorize?: AuthorizeParams;
  deviceCode?: string;
  adminConsent?: { redirectUri: string; state: string | undefined; scope: string | undefined };
  userId?: string;
  authTimeMs?: number;
  amr?: string[];
  expiresAtMs: number;
}

/** A browser SSO session (cookie `ESTSAUTH`). */
export interface SsoSession {
  id: string;
  userId: string;
  authTimeMs: number;
  amr: string[];
}

/** The in-memory state. */
export class IdentityState {
  readonly codes = new Map<string, AuthorizationCodeRecord>();
  readonly deviceCodes = new Map<string, DeviceCodeRecord>();
  /** user code (normalised) → device code */
  readonly userCodes = new Map<string, string>();
  readonly logins = new Map<string, LoginTransaction>();
  readonly sessions = new Map<string, SsoSession>();
  /** Successful refresh-token redemptions per chain (`GET /_emulator/refresh-redemptions`). */
  readonly refreshRedemptions = new RefreshRedemptions();

  /** Drops expired entries (called on each write). */
  prune(nowMs: number, codeLifetimeMs: number): void {
    for (const [k, v] of this.codes) if (v.issuedAtMs + codeLifetimeMs * 2 < nowMs) this.codes.delete(k);
    for (const [k, v] of this.deviceCodes) {
      if (v.expiresAtMs + 3_600_000 < nowMs) {
        this.deviceCodes.delete(k);
        this.userCodes.delete(v.userCode);
      }
    }
    for (const [k, v] of this.logins) if (v.expiresAtMs < nowMs) this.logins.delete(k);
  }
}

/** Everything a handler needs. */
export interface IdentityContext {
  directory: Directory;
  clock: Clock;
  keys: IdentityKeys;
  config: IdentityConfig;
  state: IdentityState;
  /** Uniform [0, 1); injectable for deterministic `expires_in`. */
  random: () => number;
}

/** A fresh delegated access-token lifetime within the configured range. */
export function accessTokenLifetime(ctx: IdentityContext): number {
  const { min, max } = ctx.config.accessTokenLifetimeSeconds;
  return min + Math.floor(ctx.random() * (max - min + 1));
}

/**
 * The lifetime of an app-only access token: fixed (3,599 s by default), as Entra's
 * client-credentials responses show.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#successful-response-1
 */
export function appOnlyAccessTokenLifetime(ctx: IdentityContext): number {
  return ctx.config.appOnlyAccessTokenLifetimeSeconds;
}

/** The resource a token is for. */
export type TokenResource = ResourceId;
