/**
 * The fields of a Cloud Provider as the reference guide names them, with the rules Microsoft
 * imposes on them: a GUID Application (client) ID, a tenant GUID or verified domain, an https
 * redirect URI (http only for localhost). Used by the API and the CLI alike.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/reply-url
 */
import { z } from 'zod';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

const applicationId = z
  .string()
  .trim()
  .regex(GUID, 'must be the Application (client) ID, a GUID such as 5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a01');

const tenantId = z
  .string()
  .trim()
  .refine(
    (value) => GUID.test(value) || DOMAIN.test(value) || value === 'common' || value === 'organizations',
    'must be the Directory (tenant) ID (a GUID), a verified domain such as contoso.onmicrosoft.com, or common/organizations for a multi-tenant app',
  );

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Microsoft accepts http redirect URIs only for localhost. */
const redirectUri = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
    } catch {
      return false;
    }
  }, 'must be an absolute https:// URL (http:// is allowed only for localhost)');

const authorityUrl = z
  .string()
  .trim()
  .refine((value) => /^https:\/\/[^/\s]+/i.test(value), 'must be an https:// URL such as https://login.example.com');

const secretExpiry = z
  .string()
  .trim()
  .refine((value) => !Number.isNaN(Date.parse(value)), 'must be a date such as 2027-06-30')
  .transform((value) => new Date(value));

export const providerBody = z.object({
  name: z.string().trim().min(1, 'is required').max(100, 'must be at most 100 characters'),
  service: z.literal('microsoft-azure', { error: 'must be microsoft-azure' }).optional(),
  type: z.literal('outlook365', { error: 'must be outlook365' }).optional(),
  applicationId,
  tenantId,
  clientSecret: z.string().min(1).max(1024).optional(),
  clientSecretExpiresAt: secretExpiry.optional(),
  redirectUri: redirectUri.optional(),
  cloud: z.enum(['global', 'usgov', 'usgov-dod', 'china', 'custom']).optional(),
  authorityUrl: authorityUrl.optional(),
  caFile: z.string().trim().min(1).max(4096).optional(),
  grantType: z.enum(['authorization_code', 'device_code', 'client_credentials', 'password']).optional(),
  scopes: z.array(z.string().trim().min(1).max(300)).min(1).max(50).optional(),
});

export const providerPatch = providerBody
  .omit({ clientSecret: true, clientSecretExpiresAt: true })
  .partial()
  .extend({
    caFile: z.string().trim().min(1).max(4096).nullable().optional(),
    authorityUrl: authorityUrl.nullable().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'name at least one field to change');

export const secretBody = z.object({
  clientSecret: z.string().min(1, 'is required').max(1024),
  expiresAt: secretExpiry.optional(),
});

export const authenticateBody = z
  .object({
    loginHint: z.string().trim().max(320).optional(),
    username: z.string().trim().max(320).optional(),
    password: z.string().max(1024).optional(),
  })
  .default({});
