/**
 * The seed file format (JSON), validated with zod at the boundary. A seed describes whole
 * tenants: users, app registrations, consents and mailboxes. Users are referred to by UPN or
 * object id inside a seed; the directory resolves them to object ids.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/reference-microsoft-graph-app-manifest
 * @see https://learn.microsoft.com/exchange/recipients-in-exchange-online/manage-permissions-for-recipients
 */
import { z } from 'zod';

const guid = z.guid();
const isoDate = z.iso.datetime({ offset: true });

/** Mailbox settings of a user's own mailbox, as `Set-CASMailbox` would change them. */
const userMailboxSeedSchema = z.object({
  imapEnabled: z.boolean().default(true),
  /** `null` (or absent) follows the tenant default (`Set-TransportConfig`). */
  smtpAuthEnabled: z.boolean().nullable().default(null),
  aliases: z.array(z.email()).default([]),
});

export const userSeedSchema = z.object({
  id: guid,
  userPrincipalName: z.email(),
  displayName: z.string().min(1),
  /** Primary SMTP address; defaults to the UPN. */
  mail: z.email().optional(),
  password: z.string().min(1),
  mfaRequired: z.boolean().default(false),
  /** The one-time code the MFA page accepts for this user. */
  mfaCode: z
    .string()
    .regex(/^\d{6}$/)
    .default('123456'),
  disabled: z.boolean().default(false),
  /** Global administrator: may grant tenant-wide (admin) consent. */
  admin: z.boolean().default(false),
  passwordChangedAt: isoDate.nullable().default(null),
  /** `false`: an unlicensed user with no mailbox. */
  mailbox: z
    .union([userMailboxSeedSchema, z.literal(false)])
    .default({ imapEnabled: true, smtpAuthEnabled: null, aliases: [] }),
});

const secretSeedSchema = z.object({
  id: guid,
  /** The secret's value, what the client sends as `client_secret`. */
  value: z.string().min(8),
  /** The first three characters as the portal shows them; derived when absent. */
  hint: z.string().optional(),
  displayName: z.string().optional(),
  expiresAt: isoDate,
});

const certificateSeedSchema = z.object({
  id: guid.optional(),
  displayName: z.string().optional(),
  /** The certificate (public part), PEM. */
  pem: z.string().min(1),
});

const exchangeServicePrincipalSeedSchema = z.object({
  appId: guid,
  /** What was given to `New-ServicePrincipal -ObjectId`. */
  objectId: guid,
  displayName: z.string().optional(),
});

const applicationAccessPolicySeedSchema = z.object({
  id: guid.optional(),
  appId: guid,
  accessRight: z.enum(['RestrictAccess', 'DenyAccess']),
  /** Addresses of the mailboxes in the policy's scope group. */
  mailboxes: z.array(z.email()).default([]),
  description: z.string().default(''),
});

export const appSeedSchema = z.object({
  appId: guid,
  displayName: z.string().min(1),
  signInAudience: z.enum(['AzureADMyOrg', 'AzureADMultipleOrgs']).default('AzureADMyOrg'),
  redirectUris: z
    .object({
      web: z.array(z.url()).default([]),
      spa: z.array(z.url()).default([]),
      publicClient: z.array(z.string().min(1)).default([]),
    })
    .default({ web: [], spa: [], publicClient: [] }),
  secrets: z.array(secretSeedSchema).default([]),
  certificates: z.array(certificateSeedSchema).default([]),
  /** Manifest `allowPublicClient` ("Allow public client flows"). */
  allowPublicClient: z.boolean().default(false),
  /** Configured API permissions: scope strings (`https://outlook.office.com/SMTP.Send`, `Mail.Read`...). */
  permissions: z
    .object({
      delegated: z.array(z.string()).default([]),
      application: z.array(z.string()).default([]),
    })
    .default({ delegated: [], application: [] }),
  /** "Grant admin consent for {tenant}" was clicked in the home tenant. */
  adminConsentGranted: z.boolean().default(false),
});

const consentSeedSchema = z.object({
  appId: guid,
  /** UPN or object id of the consenting user; absent = admin consent for every user. */
  user: z.string().optional(),
  scopes: z.array(z.string()).default([]),
  roles: z.array(z.string()).default([]),
});

export const sharedMailboxSeedSchema = z.object({
  address: z.email(),
  displayName: z.string().min(1),
  kind: z.literal('shared').default('shared'),
  /** UPNs or object ids with FullAccess (`Add-MailboxPermission -AccessRights FullAccess`). */
  fullAccess: z.array(z.string()).default([]),
  /** UPNs or object ids with Send As (`Add-RecipientPermission -AccessRights SendAs`). */
  sendAs: z.array(z.string()).default([]),
  /** App ids whose service principal has FullAccess (app-only IMAP). */
  fullAccessApps: z.array(guid).default([]),
  imapEnabled: z.boolean().default(true),
  smtpAuthEnabled: z.boolean().nullable().default(null),
  aliases: z.array(z.email()).default([]),
});

export const tenantSeedSchema = z.object({
  id: guid,
  displayName: z.string().min(1),
  /** Verified domains; the first is the initial `*.onmicrosoft.com` domain by convention. */
  domains: z.array(z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i)).min(1),
  /** `Set-TransportConfig -SmtpClientAuthenticationDisabled`. */
  smtpAuthDisabledByDefault: z.boolean().default(false),
  /** Whether users may consent to apps themselves (else AADSTS90094: admin approval needed). */
  userConsent: z.enum(['allowed', 'admin-only']).default('allowed'),
  /** Conditional Access sign-in frequency in seconds (AADSTS70043 when exceeded); null = none. */
  signInFrequencySeconds: z.number().int().positive().nullable().default(null),
  /** Resources refuse access tokens of revoked sessions at once (CAE); off: tokens live until they expire. */
  continuousAccessEvaluation: z.boolean().default(false),
  users: z.array(userSeedSchema).default([]),
  apps: z.array(appSeedSchema).default([]),
  consents: z.array(consentSeedSchema).default([]),
  mailboxes: z.array(sharedMailboxSeedSchema).default([]),
  /**
   * Service principals registered in Exchange Online. When absent, every app given FullAccess on a
   * mailbox (`fullAccessApps`) is registered with its Enterprise application's object id, since
   * Add-MailboxPermission needs the service principal first.
   */
  exchangeServicePrincipals: z.array(exchangeServicePrincipalSeedSchema).optional(),
  /** `New-ApplicationAccessPolicy` entries (Graph app-only scoping). */
  applicationAccessPolicies: z.array(applicationAccessPolicySeedSchema).default([]),
});

export const seedSchema = z.object({
  $schema: z.string().optional(),
  description: z.string().optional(),
  tenants: z.array(tenantSeedSchema),
});

export type Seed = z.infer<typeof seedSchema>;
export type SeedInput = z.input<typeof seedSchema>;
export type TenantSeed = z.infer<typeof tenantSeedSchema>;
export type TenantSeedInput = z.input<typeof tenantSeedSchema>;
export type UserSeed = z.infer<typeof userSeedSchema>;
export type UserSeedInput = z.input<typeof userSeedSchema>;
export type AppSeed = z.infer<typeof appSeedSchema>;
export type AppSeedInput = z.input<typeof appSeedSchema>;
export type SecretSeed = z.infer<typeof secretSeedSchema>;
export type ConsentSeed = z.infer<typeof consentSeedSchema>;
export type SharedMailboxSeed = z.infer<typeof sharedMailboxSeedSchema>;
export type SharedMailboxSeedInput = z.input<typeof sharedMailboxSeedSchema>;
