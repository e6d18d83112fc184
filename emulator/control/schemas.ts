/**
 * zod schemas of the control API's bodies and queries (the seed-shaped bodies — tenant, user,
 * app, mailbox — reuse `directory/schema.ts`).
 */
import { z } from 'zod';
import { APP_RBAC_ROLE_NAMES } from '../exchange/app-rbac.js';

const isoDate = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

export const tenantPatchSchema = z
  .object({
    displayName: z.string().min(1),
    smtpAuthDisabledByDefault: z.boolean(),
    userConsent: z.enum(['allowed', 'admin-only']),
    signInFrequencySeconds: z.number().int().positive().nullable(),
    continuousAccessEvaluation: z.boolean(),
  })
  .partial()
  .strict();

export const userPatchSchema = z
  .object({
    displayName: z.string().min(1),
    mfaRequired: z.boolean(),
    mfaCode: z.string().regex(/^\d{6}$/),
    disabled: z.boolean(),
    admin: z.boolean(),
  })
  .partial()
  .strict();

export const passwordChangeSchema = z.object({
  password: z.string().min(1),
  /** An admin reset in the Entra admin center: revokes every session too. */
  revokeAllSessions: z.boolean().default(false),
});

export const appPatchSchema = z
  .object({
    displayName: z.string().min(1),
    signInAudience: z.enum(['AzureADMyOrg', 'AzureADMultipleOrgs']),
    allowPublicClient: z.boolean(),
    redirectUris: z
      .object({ web: z.array(z.url()), spa: z.array(z.url()), publicClient: z.array(z.string().min(1)) })
      .partial(),
    permissions: z.object({ delegated: z.array(z.string()), application: z.array(z.string()) }).partial(),
  })
  .partial()
  .strict();

export const newSecretSchema = z.object({
  id: z.guid().optional(),
  value: z.string().min(8).optional(),
  displayName: z.string().optional(),
  /** Defaults to 180 days after the emulator's now (the portal's default). */
  expiresAt: isoDate.optional(),
});

export const secretPatchSchema = z.object({ expiresAt: isoDate });

/** "Upload certificate": the public certificate only, PEM. */
export const newCertificateSchema = z.object({
  certificate: z.string().min(1).max(16_384),
  displayName: z.string().max(200).optional(),
  id: z.guid().optional(),
});

/** `New-ApplicationAccessPolicy -AppId -PolicyScopeGroupId -AccessRight`; the group as its members' addresses. */
export const applicationAccessPolicySchema = z.object({
  appId: z.guid(),
  accessRight: z.enum(['RestrictAccess', 'DenyAccess']),
  mailboxes: z.array(z.email()).max(1000),
  description: z.string().max(500).optional(),
});

/**
 * `New-ManagementRoleAssignment -App -Role -CustomResourceScope [-Name]` (RBAC for Applications);
 * the management scope as the mailboxes its recipient filter matches.
 */
export const applicationRoleAssignmentSchema = z.object({
  appId: z.guid(),
  role: z.enum(APP_RBAC_ROLE_NAMES),
  mailboxes: z.array(z.email()).max(1000),
  name: z.string().min(1).max(64).optional(),
});

/** `Set-ManagementScope -RecipientRestrictionFilter`: the mailboxes the assignment's scope covers now. */
export const applicationRoleScopeSchema = z.object({ mailboxes: z.array(z.email()).max(1000) });

/** `New-ServicePrincipal -AppId -ObjectId [-DisplayName]` in Exchange Online PowerShell. */
export const exchangeServicePrincipalSchema = z.object({
  appId: z.guid(),
  objectId: z.guid(),
  displayName: z.string().max(200).optional(),
});

export const adminConsentSchema = z.object({ tenant: z.string().optional() });

export const consentSchema = z.object({
  tenant: z.string().min(1),
  appId: z.string().min(1),
  /** UPN or object id; absent = admin consent for every user. */
  user: z.string().optional(),
  scopes: z.array(z.string()).default([]),
  roles: z.array(z.string()).default([]),
});

export const consentRevokeSchema = z.object({
  tenant: z.string().min(1),
  appId: z.string().min(1),
  /** UPN or object id, `"admin"` for the tenant-wide grant, or `"all"`. */
  user: z.string().default('all'),
});

export const mailboxPatchSchema = z
  .object({
    displayName: z.string().min(1),
    imapEnabled: z.boolean(),
    smtpAuthEnabled: z.boolean().nullable(),
    aliases: z.array(z.email()),
    fullAccessApps: z.array(z.guid()),
  })
  .partial()
  .strict();

const rights = z.array(z.enum(['FullAccess', 'SendAs'])).min(1);

export const delegateSchema = z.object({ user: z.string().min(1), rights: rights.default(['FullAccess', 'SendAs']) });

export const delegateRemoveQuerySchema = z.object({
  rights: z
    .string()
    .default('FullAccess,SendAs')
    .transform((s) => s.split(',').map((r) => r.trim()))
    .pipe(rights),
});

export const clockMoveSchema = z
  .object({
    advanceMs: z.number().int().optional(),
    advanceSeconds: z.number().optional(),
    advanceDays: z.number().optional(),
    set: isoDate.optional(),
    reset: z.literal(true).optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length === 1, {
    message: 'give exactly one of advanceMs, advanceSeconds, advanceDays, set, reset',
  });

export const requestQuerySchema = z
  .object({
    endpoint: z.string(),
    grantType: z.string(),
    clientId: z.string(),
    tenant: z.string(),
    sinceSeq: z.coerce.number().int().nonnegative(),
  })
  .partial();

export const faultClearQuerySchema = z.object({ target: z.string().optional() });

export const rotateKeysSchema = z.object({ retainPrevious: z.boolean().default(true) });

export const introspectSchema = z.object({ token: z.string().min(1) });
