/**
 * The two resources (first-party service principals) the emulator knows: Office 365 Exchange
 * Online and Microsoft Graph, with the identifiers clients use for them and the delegated
 * scopes / application roles each exposes. Scope strings are parsed here into a canonical form
 * used throughout the directory and the identity platform.
 *
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
 * @see https://learn.microsoft.com/entra/identity-platform/scopes-oidc
 */

/** The resources the emulator serves tokens for. */
export type ResourceId = 'exchange' | 'graph';

/** One resource service principal. */
export interface Resource {
  readonly id: ResourceId;
  /** First-party application id (appears in AADSTS50076 messages and v1 tokens' `aud` forms). */
  readonly appId: string;
  readonly displayName: string;
  /** `aud` of access tokens for this resource. */
  readonly audience: string;
  /** Canonical scope prefix, used when the emulator echoes scopes back. */
  readonly canonicalPrefix: string;
  /** Every identifier a client may use as the scope prefix (lower-cased, no trailing slash). */
  readonly identifiers: readonly string[];
  /** Delegated scopes, canonical spelling. */
  readonly delegated: readonly string[];
  /** Application roles, canonical spelling. */
  readonly application: readonly string[];
}

/** @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth */
export const EXCHANGE: Resource = {
  id: 'exchange',
  appId: '00000002-0000-0ff1-ce00-000000000000',
  displayName: 'Office 365 Exchange Online',
  audience: 'https://outlook.office.com',
  canonicalPrefix: 'https://outlook.office.com/',
  identifiers: [
    'https://outlook.office.com',
    'https://outlook.office365.com',
    'https://ps.outlook.com',
    '00000002-0000-0ff1-ce00-000000000000',
  ],
  delegated: [
    'IMAP.AccessAsUser.All',
    'POP.AccessAsUser.All',
    'SMTP.Send',
    'EWS.AccessAsUser.All',
    'Mail.Read',
    'Mail.ReadWrite',
    'Mail.Send',
    'User.Read',
  ],
  application: [
    'IMAP.AccessAsApp',
    'POP.AccessAsApp',
    'SMTP.SendAsApp',
    'full_access_as_app',
    'Mail.Read',
    'Mail.ReadWrite',
    'Mail.Send',
  ],
};

/** @see https://learn.microsoft.com/graph/permissions-reference */
const GRAPH: Resource = {
  id: 'graph',
  appId: '00000003-0000-0000-c000-000000000000',
  displayName: 'Microsoft Graph',
  audience: 'https://graph.microsoft.com',
  canonicalPrefix: 'https://graph.microsoft.com/',
  identifiers: ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'],
  delegated: [
    'Mail.Read',
    'Mail.ReadBasic',
    'Mail.ReadWrite',
    'Mail.Send',
    'Mail.Read.Shared',
    'Mail.ReadWrite.Shared',
    'Mail.Send.Shared',
    'MailboxSettings.Read',
    'User.Read',
    'User.ReadBasic.All',
  ],
  application: ['Mail.Read', 'Mail.ReadBasic', 'Mail.ReadBasic.All', 'Mail.ReadWrite', 'Mail.Send', 'User.Read.All'],
};

export const RESOURCES: readonly Resource[] = [EXCHANGE, GRAPH];

/** The OpenID Connect scopes, which name no resource. */
const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
export type OidcScope = (typeof OIDC_SCOPES)[number];

/** A parsed scope. `name` is canonical spelling; `.default` stands for "all configured". */
export type ParsedScope =
  | { readonly kind: 'oidc'; readonly name: OidcScope }
  | {
      readonly kind: 'resource';
      readonly resource: ResourceId;
      readonly name: string;
      /** The resource's identifier as the scope named it (lower case, no trailing slash); absent for a bare name. */
      readonly identifier?: string;
    }
  | { readonly kind: 'unknown-resource'; readonly raw: string; readonly resourceIdentifier: string }
  | { readonly kind: 'invalid'; readonly raw: string };

/** Looks a resource up by id. */
export function resourceById(id: ResourceId): Resource {
  return id === 'exchange' ? EXCHANGE : GRAPH;
}

function findIdentifier(prefix: string): Resource | undefined {
  const normalized = prefix.toLowerCase().replace(/(?<!\/)\/+$/, '');
  return RESOURCES.find((r) => r.identifiers.includes(normalized));
}

/**
 * Parses one scope string as the v2.0 endpoint does: OIDC scopes bare; `{resource}/{name}` with
 * any identifier of the resource (both `outlook.office.com` and `outlook.office365.com` name
 * Exchange); a bare name means Microsoft Graph. Names match case-insensitively.
 *
 * @param kind which list a name must belong to (`delegated` for user flows, `application` for app roles)
 * @see https://learn.microsoft.com/entra/identity-platform/scopes-oidc#scopes-and-permissions
 */
export function parseScope(raw: string, kind: 'delegated' | 'application' = 'delegated'): ParsedScope {
  const lower = raw.toLowerCase();
  const oidc = OIDC_SCOPES.find((s) => s === lower);
  if (oidc !== undefined) return { kind: 'oidc', name: oidc };
  const slash = raw.lastIndexOf('/');
  let resource: Resource | undefined;
  let name: string;
  let identifier: string | undefined;
  if (slash === -1) {
    resource = GRAPH;
    name = raw;
  } else {
    const prefix = raw.slice(0, slash);
    name = raw.slice(slash + 1);
    resource = findIdentifier(prefix);
    if (resource === undefined) {
      return /^(https?:\/\/|api:\/\/|[0-9a-f-]{36}$)/i.test(prefix)
        ? { kind: 'unknown-resource', raw, resourceIdentifier: prefix }
        : { kind: 'invalid', raw };
    }
    identifier = prefix.toLowerCase().replace(/(?<!\/)\/+$/, '');
  }
  const named = identifier === undefined ? {} : { identifier };
  if (name === '.default') return { kind: 'resource', resource: resource.id, name: '.default', ...named };
  const list = kind === 'delegated' ? resource.delegated : resource.application;
  const canonical = list.find((s) => s.toLowerCase() === name.toLowerCase());
  if (canonical === undefined) return { kind: 'invalid', raw };
  return { kind: 'resource', resource: resource.id, name: canonical, ...named };
}

/** The canonical string for a resource scope: `https://outlook.office.com/SMTP.Send`. */
export function formatScope(resource: ResourceId, name: string): string {
  return `${resourceById(resource).canonicalPrefix}${name}`;
}

/**
 * Normalises a configured permission (seed, control API) to its canonical string, or throws
 * with a readable message. OIDC scopes stay bare.
 */
export function canonicalPermission(raw: string, kind: 'delegated' | 'application'): string {
  const parsed = parseScope(raw, kind);
  switch (parsed.kind) {
    case 'oidc':
      return parsed.name;
    case 'resource':
      if (parsed.name === '.default') throw new Error(`permission "${raw}": .default is not a permission`);
      return formatScope(parsed.resource, parsed.name);
    case 'unknown-resource':
      throw new Error(`permission "${raw}": unknown resource ${parsed.resourceIdentifier}`);
    case 'invalid':
      throw new Error(`permission "${raw}" is not a known ${kind} permission`);
  }
}

/** Splits a canonical resource scope string back into resource and name (null for OIDC scopes). */
export function splitCanonical(scope: string): { resource: ResourceId; name: string } | null {
  for (const r of RESOURCES) {
    if (scope.startsWith(r.canonicalPrefix)) return { resource: r.id, name: scope.slice(r.canonicalPrefix.length) };
  }
  return null;
}
