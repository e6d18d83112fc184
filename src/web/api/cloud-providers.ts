import { request, send } from './client.js';
import {
  authenticateReply,
  deviceFlow,
  eventPage,
  itemsOf,
  provider,
  tokenCheck,
  type AuthenticateReply,
  type Cloud,
  type DeviceFlow,
  type EventPage,
  type GrantType,
  type Provider,
  type TokenCheck,
} from './schemas.js';

const BASE = '/api/cloudProviders';

/** The fields of the create and edit forms (the secret is set at creation or by Update Client Secret). */
export interface ProviderFields {
  name: string;
  applicationId: string;
  tenantId: string;
  redirectUri: string;
  cloud: Cloud;
  authorityUrl: string | null;
  caFile: string | null;
  grantType: GrantType;
  scopes: string[] | null;
}

export interface NewSecret {
  clientSecret: string;
  /** YYYY-MM-DD, or empty when unknown. */
  expiresAt: string;
}

export async function listProviders(): Promise<Provider[]> {
  return (await request('GET', BASE, itemsOf(provider))).items;
}

export function getProvider(id: number): Promise<Provider> {
  return request('GET', `${BASE}/${id}`, provider);
}

export function createProvider(fields: ProviderFields, secret: NewSecret | null): Promise<Provider> {
  const body = {
    ...bodyOf(fields, false),
    service: 'microsoft-azure',
    type: 'outlook365',
    ...(secret === null
      ? {}
      : {
          clientSecret: secret.clientSecret,
          ...(secret.expiresAt === '' ? {} : { clientSecretExpiresAt: secret.expiresAt }),
        }),
  };
  return request('POST', BASE, provider, { body });
}

export function updateProvider(id: number, fields: ProviderFields): Promise<Provider> {
  return request('PATCH', `${BASE}/${id}`, provider, { body: bodyOf(fields, true) });
}

/** The API body: empty optional fields are left out on creation and cleared (null) on change. */
function bodyOf(fields: ProviderFields, patch: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: fields.name,
    applicationId: fields.applicationId,
    tenantId: fields.tenantId,
    redirectUri: fields.redirectUri,
    cloud: fields.cloud,
    grantType: fields.grantType,
  };
  if (fields.scopes !== null) body.scopes = fields.scopes;
  if (fields.authorityUrl !== null) body.authorityUrl = fields.authorityUrl;
  else if (patch) body.authorityUrl = null;
  if (fields.caFile !== null) body.caFile = fields.caFile;
  else if (patch) body.caFile = null;
  return body;
}

export function deleteProvider(id: number): Promise<void> {
  return send('DELETE', `${BASE}/${id}`);
}

export function updateClientSecret(id: number, secret: NewSecret): Promise<Provider> {
  return request('PUT', `${BASE}/${id}/clientSecret`, provider, {
    body: { clientSecret: secret.clientSecret, ...(secret.expiresAt === '' ? {} : { expiresAt: secret.expiresAt }) },
  });
}

/** The browser sign-in: the server answers with a redirect to Microsoft. */
export function browserSignInUrl(id: number, loginHint: string): string {
  const query = loginHint.trim() === '' ? '' : `?${new URLSearchParams({ loginHint: loginHint.trim() }).toString()}`;
  return `${BASE}/${id}/authenticate${query}`;
}

export function authenticate(
  id: number,
  body: { username?: string; password?: string; loginHint?: string } = {},
): Promise<AuthenticateReply> {
  return request('POST', `${BASE}/${id}/authenticate`, authenticateReply, { body });
}

export function deviceFlowStatus(id: number, flowId: string): Promise<DeviceFlow> {
  return request('GET', `${BASE}/${id}/deviceCode/${encodeURIComponent(flowId)}`, deviceFlow);
}

export function providerEvents(id: number, before?: number): Promise<EventPage> {
  return request('GET', `${BASE}/${id}/events`, eventPage, { query: { before } });
}

export function removeGrant(id: number, grantId: number): Promise<void> {
  return send('DELETE', `${BASE}/${id}/grants/${grantId}`);
}

export function checkGrant(id: number, grantId: number, resource: 'exchange' | 'graph'): Promise<TokenCheck> {
  return request('POST', `${BASE}/${id}/grants/${grantId}/check`, tokenCheck, { body: { resource } });
}
