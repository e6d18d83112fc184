/**
 * Requested-scope handling for the v2.0 endpoint: parsing the `scope` parameter, the "one
 * resource per access token" rule, `.default` expansion, and what needs consent.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/scopes-oidc
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#redeem-a-code-for-an-access-token
 */
import type { AppRegistration } from '../directory/model.js';
import {
  formatScope,
  parseScope,
  resourceById,
  splitCanonical,
  type OidcScope,
  type ResourceId,
} from '../directory/resources.js';
import { aadsts } from './aadsts.js';

/** A parsed `scope` parameter. */
export interface RequestedScopes {
  /** The parameter as sent. */
  raw: string;
  oidc: OidcScope[];
  /**
   * Resource scopes grouped by resource, in order of first appearance; names may be `.default`.
   * `identifier`: the first identifier the scopes named the resource by (its audience when URL).
   */
  resources: Array<{ resource: ResourceId; names: string[]; identifier?: string }>;
}

/**
 * Parses a `scope` parameter. Unknown names → AADSTS70011 (`invalid_scope`); an unknown
 * resource → AADSTS500011 (`invalid_resource`).
 */
export function parseRequestedScopes(
  raw: string,
  kind: 'delegated' | 'application',
  tenantLabel: string,
): RequestedScopes {
  const out: RequestedScopes = { raw, oidc: [], resources: [] };
  for (const item of raw.split(/\s+/).filter((s) => s.length > 0)) {
    const parsed = parseScope(item, kind);
    switch (parsed.kind) {
      case 'oidc':
        if (!out.oidc.includes(parsed.name)) out.oidc.push(parsed.name);
        break;
      case 'resource': {
        let group = out.resources.find((g) => g.resource === parsed.resource);
        if (group === undefined) {
          group = { resource: parsed.resource, names: [] };
          out.resources.push(group);
        }
        if (group.identifier === undefined && parsed.identifier !== undefined) group.identifier = parsed.identifier;
        if (!group.names.includes(parsed.name)) group.names.push(parsed.name);
        break;
      }
      case 'unknown-resource':
        throw aadsts(500011, { resource: parsed.resourceIdentifier, tenant: tenantLabel });
      case 'invalid':
        throw aadsts(70011, { scope: item });
    }
  }
  return out;
}

/**
 * Throws when the scopes name more than one resource: AADSTS28000 at the token endpoint (code
 * redemption, refresh, password and client credentials), AADSTS700022 at `/devicecode`.
 */
export function requireSingleResource(scopes: RequestedScopes, at: 'token' | 'devicecode' = 'token'): void {
  if (scopes.resources.length > 1) throw aadsts(at === 'token' ? 28000 : 700022, { scope: scopes.raw });
}

/**
 * The resource an access token is issued for: the first resource named (the v2.0 endpoint's rule
 * for code redemption), or Microsoft Graph when only OpenID scopes were requested.
 */
export function tokenResource(scopes: RequestedScopes): ResourceId {
  return scopes.resources[0]?.resource ?? 'graph';
}

/**
 * The `aud` of the access token: the resource's identifier as the request named it — Entra echoes
 * `https://outlook.office365.com` or `https://ps.outlook.com` when a scope used it — or the
 * resource's usual audience for a bare name, an application id or only OpenID scopes.
 */
export function tokenAudience(scopes: RequestedScopes): string {
  const group = scopes.resources[0];
  if (group?.identifier !== undefined && group.identifier.startsWith('https://')) return group.identifier;
  return resourceById(group?.resource ?? 'graph').audience;
}

/** Canonical delegated scopes the request needs for one resource (`.default` = the app's configured ones). */
export function neededForResource(
  app: Readonly<AppRegistration>,
  scopes: RequestedScopes,
  resource: ResourceId,
): string[] {
  const group = scopes.resources.find((g) => g.resource === resource);
  if (group === undefined) return [];
  const out = new Set<string>();
  for (const name of group.names) {
    if (name === '.default') {
      for (const p of app.permissions.delegated) if (splitCanonical(p)?.resource === resource) out.add(p);
    } else {
      out.add(formatScope(resource, name));
    }
  }
  return [...out];
}

/** Everything the request needs consented: resource scopes of every resource plus OpenID scopes. */
export function neededConsent(app: Readonly<AppRegistration>, scopes: RequestedScopes): string[] {
  const out = new Set<string>(scopes.oidc);
  for (const g of scopes.resources) for (const s of neededForResource(app, scopes, g.resource)) out.add(s);
  return [...out];
}

/** Merges two requests (refresh tokens remember the union of what was asked). */
export function mergeScopes(a: RequestedScopes, b: RequestedScopes): RequestedScopes {
  const raw = [...new Set([...a.raw.split(/\s+/), ...b.raw.split(/\s+/)].filter((s) => s.length > 0))].join(' ');
  const out: RequestedScopes = {
    raw,
    oidc: [...new Set([...a.oidc, ...b.oidc])],
    resources: a.resources.map((g) => ({ resource: g.resource, names: [...g.names] })),
  };
  for (const g of b.resources) {
    const existing = out.resources.find((x) => x.resource === g.resource);
    if (existing === undefined) out.resources.push({ resource: g.resource, names: [...g.names] });
    else for (const n of g.names) if (!existing.names.includes(n)) existing.names.push(n);
  }
  return out;
}

/** Human-readable descriptions for the consent page. */
export function describeScope(scope: string): string {
  const descriptions: Record<string, string> = {
    openid: 'Sign you in',
    profile: 'View your basic profile',
    email: 'View your email address',
    offline_access: 'Maintain access to data you have given it access to',
    'https://outlook.office.com/IMAP.AccessAsUser.All': 'Read and write access to mailboxes via IMAP.',
    'https://outlook.office.com/POP.AccessAsUser.All': 'Read and write access to mailboxes via POP.',
    'https://outlook.office.com/SMTP.Send': 'Send emails from mailboxes using SMTP AUTH.',
    'https://graph.microsoft.com/User.Read': 'Sign in and read your profile',
    'https://graph.microsoft.com/Mail.Read': 'Read your mail',
    'https://graph.microsoft.com/Mail.ReadWrite': 'Read and write access to your mail',
    'https://graph.microsoft.com/Mail.Send': 'Send mail as you',
    'https://graph.microsoft.com/Mail.Read.Shared': 'Read user and shared mail',
    'https://graph.microsoft.com/Mail.ReadWrite.Shared': 'Read and write user and shared mail',
    'https://graph.microsoft.com/Mail.Send.Shared': 'Send mail on behalf of others',
  };
  return descriptions[scope] ?? scope;
}
