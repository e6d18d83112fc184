/**
 * Object ids the directory derives rather than stores: an app's service principal in a tenant
 * (the "Enterprise application" object id, the `oid` of its app-only tokens) and the app
 * registration's own object id — two different GUIDs, as in Entra, which is what makes
 * `New-ServicePrincipal -ObjectId` easy to get wrong.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/app-objects-and-service-principals
 */
import { createHash } from 'node:crypto';

/** A GUID derived from its inputs, stable across restarts and exports. */
export function deterministicGuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('|')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The object id of an app's service principal (Enterprise application) in a tenant. */
export function servicePrincipalObjectId(tenantId: string, appId: string): string {
  return deterministicGuid('sp', tenantId.toLowerCase(), appId.toLowerCase());
}

/** The object id of the app registration (Application object) — not the service principal's. */
export function appObjectId(appId: string): string {
  return deterministicGuid('app', appId.toLowerCase());
}
