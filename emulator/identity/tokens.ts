/**
 * Minting of access tokens and ID tokens. Access tokens for Exchange Online and Microsoft Graph
 * are v1.0 JWTs as Microsoft issues them for those resources (`iss` `https://sts.windows.net/{tid}/`,
 * `aud` the resource, `scp` space-separated delegated scopes or `roles` for app-only); ID tokens
 * are v2.0 (`iss` the tenant's v2.0 issuer, `aud` the client id).
 *
 * @see https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
 * @see https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { AppRegistration, Tenant, User } from '../directory/model.js';
import { deterministicGuid, servicePrincipalObjectId } from '../directory/object-ids.js';
import { resourceById, type ResourceId } from '../directory/resources.js';
import type { IdentityKeys } from './keys.js';

/** `https://sts.windows.net/{tid}/`: the issuer of v1.0 access tokens. */
function accessTokenIssuer(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

/** The object id of an app's service principal in a tenant. */
function servicePrincipalId(tenantId: string, appId: string): string {
  return servicePrincipalObjectId(tenantId, appId);
}

/** Random URL-safe text of `bytes` bytes (token ids, codes). */
export function randomText(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** What an access token is minted for. */
export interface AccessTokenSpec {
  tenant: Readonly<Tenant>;
  app: Readonly<AppRegistration>;
  resource: ResourceId;
  /** Delegated tokens: the signed-in user. Absent for app-only tokens. */
  user?: Readonly<User>;
  /** Delegated scopes, short names (`IMAP.AccessAsUser.All`). */
  scopes?: readonly string[];
  /** Application roles, short names. */
  roles?: readonly string[];
  /** Authentication methods (`pwd`, `mfa`). */
  amr?: readonly string[];
  /** Whether the client authenticated (secret): `appidacr` 1, else 0. */
  confidential: boolean;
  lifetimeSeconds: number;
  /** `aud`, when the request named the resource by another identifier than its usual audience. */
  audience?: string;
}

/** A minted token and when it expires. */
export interface MintedToken {
  token: string;
  expiresIn: number;
  expiresAt: Date;
}

/** Mints a v1.0 access token for Exchange or Graph. */
export function mintAccessToken(keys: IdentityKeys, clock: Clock, spec: AccessTokenSpec): MintedToken {
  const now = clock.nowSeconds();
  const resource = resourceById(spec.resource);
  const exp = now + spec.lifetimeSeconds;
  const common = {
    aud: spec.audience ?? resource.audience,
    iss: accessTokenIssuer(spec.tenant.id),
    iat: now,
    nbf: now,
    exp,
    aio: randomText(24),
    app_displayname: spec.app.displayName,
    appid: spec.app.appId,
    appidacr: spec.confidential ? '1' : '0',
    tid: spec.tenant.id,
    uti: randomText(16),
    ver: '1.0',
  };
  let payload: Record<string, unknown>;
  if (spec.user === undefined) {
    const oid = servicePrincipalId(spec.tenant.id, spec.app.appId);
    payload = {
      ...common,
      idp: accessTokenIssuer(spec.tenant.id),
      idtyp: 'app',
      oid,
      sub: oid,
      roles: [...(spec.roles ?? [])],
    };
  } else {
    const user = spec.user;
    payload = {
      ...common,
      acct: 0,
      acr: '1',
      amr: [...(spec.amr ?? ['pwd'])],
      idtyp: 'user',
      ipaddr: '127.0.0.1',
      name: user.displayName,
      oid: user.id,
      puid: createHash('sha1').update(user.id).digest('hex').slice(0, 16).toUpperCase(),
      scp: (spec.scopes ?? []).join(' '),
      sid: deterministicGuid('sid', user.id, spec.app.appId),
      sub: createHash('sha256').update(`${user.id}|${spec.app.appId}|${spec.resource}`).digest('base64url'),
      unique_name: user.userPrincipalName,
      upn: user.userPrincipalName,
    };
  }
  return { token: keys.signJwt(payload), expiresIn: spec.lifetimeSeconds, expiresAt: new Date(exp * 1000) };
}

/** What an ID token is minted for. */
export interface IdTokenSpec {
  issuer: string;
  tenant: Readonly<Tenant>;
  app: Readonly<AppRegistration>;
  user: Readonly<User>;
  nonce?: string;
  /** Include `email` (the `email` scope was granted). */
  email: boolean;
}

/** Mints a v2.0 ID token (one hour, as Microsoft's). */
export function mintIdToken(keys: IdentityKeys, clock: Clock, spec: IdTokenSpec): string {
  const now = clock.nowSeconds();
  const payload: Record<string, unknown> = {
    aud: spec.app.appId,
    iss: spec.issuer,
    iat: now,
    nbf: now,
    exp: now + 3600,
    aio: randomText(24),
    name: spec.user.displayName,
    oid: spec.user.id,
    preferred_username: spec.user.userPrincipalName,
    rh: `0.${randomText(24)}.`,
    sid: deterministicGuid('sid', spec.user.id, spec.app.appId),
    sub: createHash('sha256').update(`${spec.user.id}|${spec.app.appId}`).digest('base64url'),
    tid: spec.tenant.id,
    uti: randomText(16),
    ver: '2.0',
  };
  if (spec.email) payload.email = spec.user.mail;
  if (spec.nonce !== undefined) payload.nonce = spec.nonce;
  return keys.signJwt(payload);
}
