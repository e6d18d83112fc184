import type { ProviderCloud, ProviderGrantType } from '../../store/index.js';

/**
 * Microsoft's national clouds: where to sign in, and the resources mail lives behind. A custom
 * authority (the emulator, or a proxy) keeps the global resource names.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
 */
export interface CloudEndpoints {
  readonly authority: string;
  /** The Exchange Online resource (audience of IMAP/SMTP tokens, and the `.default` prefix). */
  readonly exchange: string;
  /** The prefix of delegated Exchange scopes. */
  readonly exchangeScopePrefix: string;
  readonly graph: string;
  readonly imapHost: string;
  readonly smtpHost: string;
}

export const CLOUDS: Readonly<Record<Exclude<ProviderCloud, 'custom'>, CloudEndpoints>> = {
  global: {
    authority: 'https://login.microsoftonline.com',
    exchange: 'https://outlook.office365.com',
    exchangeScopePrefix: 'https://outlook.office.com/',
    graph: 'https://graph.microsoft.com',
    imapHost: 'outlook.office365.com',
    smtpHost: 'smtp.office365.com',
  },
  usgov: {
    authority: 'https://login.microsoftonline.us',
    exchange: 'https://outlook.office365.us',
    exchangeScopePrefix: 'https://outlook.office365.us/',
    graph: 'https://graph.microsoft.us',
    imapHost: 'outlook.office365.us',
    smtpHost: 'smtp.office365.us',
  },
  'usgov-dod': {
    authority: 'https://login.microsoftonline.us',
    exchange: 'https://outlook-dod.office365.us',
    exchangeScopePrefix: 'https://outlook-dod.office365.us/',
    graph: 'https://dod-graph.microsoft.us',
    imapHost: 'outlook-dod.office365.us',
    smtpHost: 'smtp-dod.office365.us',
  },
  china: {
    authority: 'https://login.chinacloudapi.cn',
    exchange: 'https://partner.outlook.cn',
    exchangeScopePrefix: 'https://partner.outlook.cn/',
    graph: 'https://microsoftgraph.chinacloudapi.cn',
    imapHost: 'partner.outlook.cn',
    smtpHost: 'smtp.partner.outlook.cn',
  },
};

export type Resource = 'exchange' | 'graph';

export interface AuthorityInput {
  readonly cloud: ProviderCloud;
  readonly authorityUrl: string | null;
  readonly tenantId: string;
}

export function endpointsOf(input: AuthorityInput): CloudEndpoints {
  if (input.cloud === 'custom') {
    return { ...CLOUDS.global, authority: withoutTrailingSlashes(input.authorityUrl ?? '') };
  }
  return CLOUDS[input.cloud];
}

/** The URL openid-client discovers from: the issuer form for Microsoft's public cloud, else the document itself. */
export function discoveryUrl(input: AuthorityInput): URL {
  const base = `${endpointsOf(input).authority}/${encodeURIComponent(input.tenantId)}/v2.0`;
  // For login.microsoftonline.com openid-client knows Entra's templated multi-tenant issuer; other
  // authorities are read from their document, whose issuer then checks the ID token.
  return new URL(input.cloud === 'global' ? base : `${base}/.well-known/openid-configuration`);
}

const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

/**
 * Default scopes requested at sign-in, per grant type.
 *
 * - Authorization code: Exchange's IMAP and SMTP permissions first, then Microsoft Graph's mail
 *   permissions (`Mail.ReadWrite`, `Mail.Send` and their `.Shared` forms), so that one consent at
 *   `/authorize` — where Entra accepts scopes of several resources — covers both, and an account of
 *   transport `auto` can switch a direction to Graph without a new sign-in. Each token request
 *   names one resource (`scopesForResource`; AADSTS28000 otherwise); the code itself is redeemed
 *   without a scope, for the first resource named: Exchange.
 * - Device code and ROPC: Exchange's only. Entra takes one resource per device-code or password
 *   request, so these sign-ins cannot consent to Graph in the same step; a provider that needs
 *   Graph names its scopes itself.
 * - Client credentials: Exchange's `.default`; Graph's application permissions are asked for with
 *   Graph's own `.default` when a Graph token is needed.
 */
export function defaultScopes(cloud: ProviderCloud, grantType: ProviderGrantType): string[] {
  const endpoints = cloud === 'custom' ? CLOUDS.global : CLOUDS[cloud];
  if (grantType === 'client_credentials') return [`${endpoints.exchange}/.default`];
  const prefix = endpoints.exchangeScopePrefix;
  const exchange = [`${prefix}IMAP.AccessAsUser.All`, `${prefix}SMTP.Send`];
  if (grantType !== 'authorization_code') return [...exchange, ...OIDC_SCOPES];
  const graph = GRAPH_MAIL_PERMISSIONS.map((name) => `${endpoints.graph}/${name}`);
  return [...exchange, ...graph, ...OIDC_SCOPES];
}

/** Microsoft Graph's delegated mail permissions a default sign-in consents to (reading and sending, own and shared mailboxes). */
export const GRAPH_MAIL_PERMISSIONS = ['Mail.ReadWrite', 'Mail.Send', 'Mail.ReadWrite.Shared', 'Mail.Send.Shared'];

/** True when a scope names the Exchange Online resource (either accepted prefix). */
export function isExchangeScope(scope: string, endpoints: CloudEndpoints): boolean {
  const lower = scope.toLowerCase();
  return (
    lower.startsWith(endpoints.exchangeScopePrefix.toLowerCase()) ||
    lower.startsWith(`${endpoints.exchange.toLowerCase()}/`) ||
    lower.startsWith('https://outlook.office.com/') ||
    lower.startsWith('https://outlook.office365.com/')
  );
}

/** True when a scope names Microsoft Graph (a full URL, or a bare permission name). */
export function isGraphScope(scope: string, endpoints: CloudEndpoints): boolean {
  const lower = scope.toLowerCase();
  if (lower.startsWith(`${endpoints.graph.toLowerCase()}/`)) return true;
  return !lower.includes('/') && !OIDC_SCOPES.includes(lower);
}

/**
 * The scopes of one resource out of a provider's scopes, for a token request: Microsoft issues
 * an access token for one resource at a time (AADSTS700022 otherwise).
 */
export function scopesForResource(scopes: readonly string[], resource: Resource, endpoints: CloudEndpoints): string[] {
  const matches = scopes.filter((scope) =>
    resource === 'exchange' ? isExchangeScope(scope, endpoints) : isGraphScope(scope, endpoints),
  );
  return matches;
}

/** The audience a resource's access tokens carry, for the cache key. */
export function resourceUri(resource: Resource, endpoints: CloudEndpoints): string {
  return resource === 'exchange' ? endpoints.exchange : endpoints.graph;
}

/** `value` without trailing slashes (a loop: `/\/+$/` rescans a run of slashes from each one). */
function withoutTrailingSlashes(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 0x2f) end -= 1;
  return value.slice(0, end);
}
