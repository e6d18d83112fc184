/**
 * The directory model: what Entra ID and Exchange Online know about a tenant. These are the
 * shapes the identity platform and the Exchange half (IMAP, SMTP, Graph) read. Consumers get
 * them as `Readonly`; only the Directory's methods change them (and emit a change event).
 *
 * @see https://learn.microsoft.com/entra/identity-platform/app-objects-and-service-principals
 * @see https://learn.microsoft.com/exchange/collaboration-exo/shared-mailboxes
 */

/** A tenant (directory). */
export interface Tenant {
  /** Tenant id (GUID), the `tid` claim. */
  id: string;
  displayName: string;
  /** Verified domains, lower-case; `domains[0]` is the initial domain. */
  domains: string[];
  /** Tenant-wide SMTP AUTH switch: `Set-TransportConfig -SmtpClientAuthenticationDisabled`. */
  smtpAuthDisabledByDefault: boolean;
  /** `admin-only`: users cannot consent (AADSTS90094 / 65001 without admin consent). */
  userConsent: 'allowed' | 'admin-only';
  /** Conditional Access sign-in frequency (seconds), or null. */
  signInFrequencySeconds: number | null;
  /**
   * Continuous access evaluation enforced by the resources (Exchange, Graph): revoking a user's
   * sessions also refuses the access tokens already issued, at once. Off (the default), a
   * revocation kills refresh tokens only and an access token in hand works until it expires, as
   * Entra does for clients that are not CAE-capable (no `xms_cc: CP1`).
   * @see https://learn.microsoft.com/entra/identity/conditional-access/concept-continuous-access-evaluation
   */
  continuousAccessEvaluation: boolean;
  /**
   * Service principals registered in Exchange Online (`New-ServicePrincipal -AppId -ObjectId`),
   * needed for app-only IMAP/POP/SMTP. `objectId` is what the administrator typed: right when it
   * is the Enterprise application's object id, wrong when it is the app registration's.
   */
  exchangeServicePrincipals: ExchangeServicePrincipal[];
  /**
   * `New-ApplicationAccessPolicy`: limits which mailboxes an app's Graph application permissions
   * reach. The scope group is modelled by its members' mailbox addresses.
   */
  applicationAccessPolicies: ApplicationAccessPolicy[];
  /**
   * RBAC for Applications: `New-ManagementRoleAssignment -App -Role 'Application …'
   * -CustomResourceScope`, each with its management scope as the mailboxes it covers. Not seeded
   * nor exported: made through the control API.
   */
  applicationRoleAssignments: ApplicationRoleAssignment[];
}

/** An Exchange Online management role assignment to an app (RBAC for Applications). */
export interface ApplicationRoleAssignment {
  id: string;
  name: string;
  /** The service principal's app id, lower-case. */
  appId: string;
  /** `Application Mail.Read`, `Application Mail.ReadWrite`, `Application Mail.Send`, `Application SMTP.SendAsApp`. */
  role: string;
  /** The custom resource scope: primary addresses of the mailboxes its recipient filter matches, lower-case. */
  mailboxes: string[];
}

/** An Exchange Online application access policy. */
export interface ApplicationAccessPolicy {
  id: string;
  appId: string;
  accessRight: 'RestrictAccess' | 'DenyAccess';
  /** Primary addresses of the scope group's mailboxes, lower-case. */
  mailboxes: string[];
  description: string;
}

/** A service principal as Exchange Online knows it. */
export interface ExchangeServicePrincipal {
  appId: string;
  objectId: string;
  displayName: string;
}

/** A certificate uploaded to an app registration (public part only). */
export interface AppCertificate {
  /** Key id (GUID). */
  id: string;
  displayName: string;
  /** The certificate, PEM. */
  pem: string;
  /** SHA-1 of the DER, upper-case hex: the portal's "Thumbprint". */
  thumbprint: string;
  /** base64url SHA-1 of the DER: a client assertion's `x5t`. */
  x5t: string;
  /** base64url SHA-256 of the DER: a client assertion's `x5t#S256`. */
  x5tS256: string;
  startsAt: Date;
  expiresAt: Date;
}

/** A member user. */
export interface User {
  /** Object id (GUID), the `oid` claim. */
  id: string;
  tenantId: string;
  /** User principal name, lower-case. */
  userPrincipalName: string;
  displayName: string;
  /** Primary SMTP address, lower-case. */
  mail: string;
  password: string;
  mfaRequired: boolean;
  mfaCode: string;
  disabled: boolean;
  admin: boolean;
  passwordChangedAt: Date | null;
  /** `Revoke-MgUserSignInSession` / "Revoke sessions": refresh tokens issued to sessions started before this fail (AADSTS50173). */
  tokensValidFrom: Date | null;
}

/** A client secret of an app registration. */
export interface ClientSecret {
  /** Secret id (GUID): what the portal shows as "Secret ID" (not the value). */
  id: string;
  value: string;
  /** First three characters of the value, as the portal shows them. */
  hint: string;
  displayName: string;
  expiresAt: Date;
}

/** Redirect URIs per platform. */
export interface RedirectUris {
  /** Web platform: confidential client, secret required at the token endpoint. */
  web: string[];
  /** Single-page application: public client, CORS redemption, 24-hour refresh tokens. */
  spa: string[];
  /** Mobile and desktop: public client. */
  publicClient: string[];
}

/** An app registration (and its service principal in its home tenant). */
export interface AppRegistration {
  /** Application (client) id. */
  appId: string;
  /** Home tenant. */
  tenantId: string;
  displayName: string;
  signInAudience: 'AzureADMyOrg' | 'AzureADMultipleOrgs';
  redirectUris: RedirectUris;
  secrets: ClientSecret[];
  /** Certificates & secrets → Certificates: verify client assertions. */
  certificates: AppCertificate[];
  allowPublicClient: boolean;
  /** Configured permissions as canonical scope strings (`https://outlook.office.com/SMTP.Send`). */
  permissions: { delegated: string[]; application: string[] };
}

/** A consent grant: a user's own (userId set) or an admin's for every user of the tenant (userId null). */
export interface Consent {
  tenantId: string;
  appId: string;
  userId: string | null;
  /** Delegated scopes, canonical strings (OIDC scopes included). */
  scopes: string[];
  /** Application roles (admin consent only), canonical strings. */
  roles: string[];
  grantedAt: Date;
}

/** An Exchange Online mailbox (the contract the Exchange half relies on). */
export interface Mailbox {
  /** Primary SMTP address, lower-case. */
  address: string;
  tenantId: string;
  kind: 'user' | 'shared';
  /** For a user mailbox: the owner's object id. */
  ownerUserId?: string;
  displayName: string;
  /** Object ids of users with FullAccess (`Add-MailboxPermission`). */
  fullAccess: string[];
  /** Object ids of users with Send As (`Add-RecipientPermission`). */
  sendAs: string[];
  /** App ids whose service principal has FullAccess (app-only IMAP/SMTP, `New-ServicePrincipal`). */
  fullAccessApps: string[];
  /** `Set-CASMailbox -ImapEnabled`. */
  imapEnabled: boolean;
  /** `Set-CASMailbox -SmtpClientAuthenticationDisabled` inverted; null = the tenant default. */
  smtpAuthEnabled: boolean | null;
  /** Secondary SMTP addresses, lower-case. */
  aliases: string[];
}

/** What changed in the directory, for servers that must react (drop a disabled user's sessions...). */
export type DirectoryChange =
  | { type: 'seed-replaced' }
  | { type: 'tenant-added' | 'tenant-updated'; tenantId: string }
  | { type: 'user-added' | 'user-updated' | 'user-deleted'; tenantId: string; userId: string }
  | { type: 'user-disabled' | 'user-enabled'; tenantId: string; userId: string }
  | { type: 'sessions-revoked'; tenantId: string; userId: string; at: Date }
  | { type: 'password-changed'; tenantId: string; userId: string; at: Date }
  | { type: 'app-added' | 'app-updated' | 'app-deleted'; tenantId: string; appId: string }
  | { type: 'consent-granted' | 'consent-revoked'; tenantId: string; appId: string; userId: string | null }
  | { type: 'mailbox-added' | 'mailbox-updated' | 'mailbox-deleted'; tenantId: string; address: string };

/** The event map of the Directory's emitter. */
export interface DirectoryEvents {
  change: [DirectoryChange];
}
