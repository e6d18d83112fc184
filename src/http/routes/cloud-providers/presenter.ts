import { z } from 'zod';
import type { GrantRecord } from '../../../store/index.js';
import type { ProviderView } from '../../../services/identity/provider-service.js';

const lastError = z.object({ code: z.string(), message: z.string(), remedy: z.string().nullable() }).nullable();

export const grantReply = z.object({
  id: z.number().int(),
  upn: z.string().nullable(),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
  objectId: z.string().nullable(),
  tenantId: z.string().nullable(),
  scopes: z.array(z.string()),
  state: z.enum(['active', 'reauth_required', 'revoked']),
  lastInteractiveSignInAt: z.string().nullable(),
  lastRefreshAt: z.string().nullable(),
  lastError: z
    .object({ code: z.string(), message: z.string(), remedy: z.string().nullable(), aadsts: z.string().nullable() })
    .nullable(),
});

export const providerReply = z.object({
  id: z.number().int(),
  name: z.string(),
  service: z.string(),
  type: z.string(),
  applicationId: z.string(),
  tenantId: z.string(),
  clientSecret: z
    .object({ hint: z.string(), expiresAt: z.string().nullable(), expiresInDays: z.number().int().nullable() })
    .nullable(),
  clientCertificate: z
    .object({
      thumbprint: z.string(),
      subject: z.string(),
      notBefore: z.string(),
      expiresAt: z.string(),
      expiresInDays: z.number().int(),
    })
    .nullable(),
  redirectUri: z.string().nullable(),
  cloud: z.string(),
  authorityUrl: z.string().nullable(),
  caFile: z.string().nullable(),
  grantType: z.string(),
  scopes: z.array(z.string()),
  status: z.enum(['not_authenticated', 'authenticated', 'reauth_required', 'error']),
  lastError,
  warnings: z.array(z.string()),
  grants: z.array(grantReply),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** A grant as the API shows it: identity, state and errors; never a token or a password. */
export function presentGrant(grant: GrantRecord): z.infer<typeof grantReply> {
  return {
    id: grant.id,
    upn: grant.upn,
    email: grant.email,
    displayName: grant.displayName,
    objectId: grant.objectId,
    tenantId: grant.tenantId,
    scopes: grant.scopes,
    state: grant.state,
    lastInteractiveSignInAt: grant.lastInteractiveAt,
    lastRefreshAt: grant.lastRefreshAt,
    lastError:
      grant.lastError === null
        ? null
        : {
            code: grant.lastError.code,
            message: grant.lastError.message,
            remedy: grant.lastError.remedy,
            aadsts: grant.lastError.aadsts,
          },
  };
}

/**
 * A Cloud Provider as the API shows it: the client secret only as a hint and its expiry; a
 * certificate by its thumbprint, subject and validity (never its private key).
 */
export function presentProvider(view: ProviderView): z.infer<typeof providerReply> {
  const { provider } = view;
  return {
    id: provider.id,
    name: provider.name,
    service: provider.service,
    type: provider.type,
    applicationId: provider.applicationId,
    tenantId: provider.tenantId,
    clientSecret:
      provider.clientSecretHint === null
        ? null
        : {
            hint: `…${provider.clientSecretHint}`,
            expiresAt: provider.clientSecretExpiresAt,
            expiresInDays: view.secretExpiresInDays,
          },
    clientCertificate:
      view.certificate === null
        ? null
        : {
            thumbprint: view.certificate.thumbprint,
            subject: view.certificate.subject,
            notBefore: view.certificate.notBefore.toISOString(),
            expiresAt: view.certificate.notAfter.toISOString(),
            expiresInDays: view.certificate.expiresInDays,
          },
    redirectUri: provider.redirectUri,
    cloud: provider.cloud,
    authorityUrl: provider.authorityUrl,
    caFile: provider.caFile,
    grantType: provider.grantType,
    scopes: provider.scopes,
    status: view.status,
    lastError: provider.lastError,
    warnings: view.warnings,
    grants: view.grants.map(presentGrant),
    createdAt: provider.createdAt,
    updatedAt: provider.updatedAt,
  };
}
