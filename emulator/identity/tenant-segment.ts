/**
 * The `{tenant}` path segment of the v2.0 endpoints: a tenant GUID, a verified domain, or one of
 * `common`, `organizations`, `consumers`.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri
 */
import type { DirectoryStore } from '../directory/directory-store.js';
import type { Tenant } from '../directory/model.js';
import { aadsts } from './aadsts.js';

/** A resolved tenant segment. */
export type TenantSegment =
  | { kind: 'tenant'; segment: string; tenant: Readonly<Tenant> }
  | { kind: 'common' | 'organizations' | 'consumers'; segment: string };

/** The GUID Microsoft uses for personal accounts (`consumers`). */
const CONSUMERS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

/** Resolves a segment; an unknown tenant → AADSTS90002. */
export function resolveTenantSegment(directory: DirectoryStore, segment: string): TenantSegment {
  const lower = segment.toLowerCase();
  if (lower === 'common' || lower === 'organizations') return { kind: lower, segment };
  if (lower === 'consumers' || lower === CONSUMERS_TENANT_ID) return { kind: 'consumers', segment };
  const tenant = directory.findTenant(lower);
  if (tenant === undefined) throw aadsts(90002, { tenant: segment });
  return { kind: 'tenant', segment, tenant };
}

/** The v2.0 issuer of a tenant under this emulator's base URL. */
export function v2Issuer(baseUrl: string, tenantId: string): string {
  return `${baseUrl}/${tenantId}/v2.0`;
}
