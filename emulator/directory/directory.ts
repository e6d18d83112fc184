/**
 * The emulator's directory with its mutations: what an administrator does in the Entra admin
 * center and Exchange Online PowerShell (disable a user, revoke sessions, reset a password, add
 * a client secret, grant or revoke consent, add mailbox permissions, toggle SMTP AUTH). Each
 * mutation emits one `change` event.
 *
 * @see https://learn.microsoft.com/entra/identity/users/users-revoke-access
 * @see https://learn.microsoft.com/powershell/module/exchange/add-mailboxpermission
 * @see https://learn.microsoft.com/powershell/module/exchange/set-casmailbox
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EmulatorError } from '../errors.js';
import { DirectoryStore, parseOrThrow } from './directory-store.js';
import { toAppCertificate } from './app-certificates.js';
import type {
  ApplicationAccessPolicy,
  ApplicationRoleAssignment,
  AppCertificate,
  AppRegistration,
  ClientSecret,
  Consent,
  ExchangeServicePrincipal,
  Mailbox,
  RedirectUris,
  Tenant,
  User,
} from './model.js';
import { appSeedSchema, sharedMailboxSeedSchema, userSeedSchema } from './schema.js';
import {
  canonicalList,
  secretHint,
  toAccessPolicy,
  toApp,
  toSharedMailbox,
  toUser,
  userMailbox,
} from './seed-convert.js';

export { DirectoryStore, parseOrThrow, type TenantRef } from './directory-store.js';

/** Changeable tenant settings. */
export interface TenantPatch {
  displayName?: string;
  smtpAuthDisabledByDefault?: boolean;
  userConsent?: Tenant['userConsent'];
  signInFrequencySeconds?: number | null;
  continuousAccessEvaluation?: boolean;
}

/** Changeable user fields (password through {@link Directory.changePassword}). */
export interface UserPatch {
  displayName?: string;
  mfaRequired?: boolean;
  mfaCode?: string;
  disabled?: boolean;
  admin?: boolean;
}

/** Changeable app registration fields. */
export interface AppPatch {
  displayName?: string;
  signInAudience?: AppRegistration['signInAudience'];
  redirectUris?: Partial<RedirectUris>;
  allowPublicClient?: boolean;
  permissions?: { delegated?: string[]; application?: string[] };
}

/** Changeable mailbox fields. */
export interface MailboxPatch {
  displayName?: string;
  imapEnabled?: boolean;
  smtpAuthEnabled?: boolean | null;
  aliases?: string[];
  fullAccessApps?: string[];
}

/** Mailbox rights the directory models. */
export type MailboxRight = 'FullAccess' | 'SendAs';

/** The directory: lookups (from {@link DirectoryStore}) plus administrative changes. */
export class Directory extends DirectoryStore {
  // ── tenants ────────────────────────────────────────────────────────────────────────────────

  /** Changes tenant settings (e.g. `Set-TransportConfig -SmtpClientAuthenticationDisabled`). */
  updateTenant(idOrDomain: string, patch: TenantPatch): Readonly<Tenant> {
    const tenant = this.#tenant(idOrDomain);
    if (patch.displayName !== undefined) tenant.displayName = patch.displayName;
    if (patch.smtpAuthDisabledByDefault !== undefined)
      tenant.smtpAuthDisabledByDefault = patch.smtpAuthDisabledByDefault;
    if (patch.userConsent !== undefined) tenant.userConsent = patch.userConsent;
    if (patch.signInFrequencySeconds !== undefined) tenant.signInFrequencySeconds = patch.signInFrequencySeconds;
    if (patch.continuousAccessEvaluation !== undefined)
      tenant.continuousAccessEvaluation = patch.continuousAccessEvaluation;
    this.emit('change', { type: 'tenant-updated', tenantId: tenant.id });
    return tenant;
  }

  // ── users ──────────────────────────────────────────────────────────────────────────────────

  /** Adds a user (and its mailbox unless `mailbox: false`). */
  addUser(tenantIdOrDomain: string, input: unknown): Readonly<User> {
    const tenant = this.#tenant(tenantIdOrDomain);
    const seed = parseOrThrow(userSeedSchema, input, 'user');
    const user = toUser(seed, tenant.id);
    if (this.users.has(user.id)) throw new EmulatorError('conflict', `user ${user.id} exists`);
    if (this.findUserByUpn(user.userPrincipalName) !== undefined)
      throw new EmulatorError('conflict', `UPN ${user.userPrincipalName} exists`);
    const mailbox = userMailbox(seed, user);
    if (mailbox !== null) this.#claimAddresses([mailbox.address, ...mailbox.aliases]);
    this.users.set(user.id, user);
    if (mailbox !== null) this.mailboxes.set(mailbox.address, mailbox);
    this.emit('change', { type: 'user-added', tenantId: tenant.id, userId: user.id });
    if (mailbox !== null) this.emit('change', { type: 'mailbox-added', tenantId: tenant.id, address: mailbox.address });
    return user;
  }

  /** Changes a user; disabling or enabling also emits `user-disabled` / `user-enabled`. */
  updateUser(idOrUpn: string, patch: UserPatch): Readonly<User> {
    const user = this.#user(idOrUpn);
    const wasDisabled = user.disabled;
    if (patch.displayName !== undefined) user.displayName = patch.displayName;
    if (patch.mfaRequired !== undefined) user.mfaRequired = patch.mfaRequired;
    if (patch.mfaCode !== undefined) user.mfaCode = patch.mfaCode;
    if (patch.disabled !== undefined) user.disabled = patch.disabled;
    if (patch.admin !== undefined) user.admin = patch.admin;
    this.emit('change', { type: 'user-updated', tenantId: user.tenantId, userId: user.id });
    if (user.disabled !== wasDisabled) {
      this.emit('change', {
        type: user.disabled ? 'user-disabled' : 'user-enabled',
        tenantId: user.tenantId,
        userId: user.id,
      });
    }
    return user;
  }

  /** Deletes a user, their mailbox, their consents and their delegations. */
  deleteUser(idOrUpn: string): void {
    const user = this.#user(idOrUpn);
    this.users.delete(user.id);
    const own = this.mailboxOfUser(user.id);
    if (own !== undefined) this.mailboxes.delete(own.address);
    for (const m of this.mailboxes.values()) {
      m.fullAccess = m.fullAccess.filter((id) => id !== user.id);
      m.sendAs = m.sendAs.filter((id) => id !== user.id);
    }
    this.consents = this.consents.filter((c) => c.userId !== user.id);
    this.emit('change', { type: 'user-deleted', tenantId: user.tenantId, userId: user.id });
    if (own !== undefined)
      this.emit('change', { type: 'mailbox-deleted', tenantId: user.tenantId, address: own.address });
  }

  /**
   * "Revoke sessions": refresh tokens and SSO sessions of every session started before now stop
   * working (AADSTS50173).
   * @see https://learn.microsoft.com/graph/api/user-revokesigninsessions
   */
  revokeSessions(idOrUpn: string): Readonly<User> {
    const user = this.#user(idOrUpn);
    const at = this.clock.now();
    user.tokensValidFrom = at;
    this.emit('change', { type: 'sessions-revoked', tenantId: user.tenantId, userId: user.id, at });
    return user;
  }

  /**
   * Changes a user's password. Refresh tokens of public clients obtained with the old password
   * then fail (AADSTS50133); confidential clients' survive unless `revokeAllSessions` (an admin
   * reset in the Entra admin center), which also revokes every session.
   * @see https://learn.microsoft.com/entra/identity-platform/refresh-tokens#token-revocation
   */
  changePassword(idOrUpn: string, password: string, options: { revokeAllSessions?: boolean } = {}): Readonly<User> {
    const user = this.#user(idOrUpn);
    if (password.length === 0) throw new EmulatorError('invalid', 'password must not be empty');
    const at = this.clock.now();
    user.password = password;
    user.passwordChangedAt = at;
    this.emit('change', { type: 'password-changed', tenantId: user.tenantId, userId: user.id, at });
    if (options.revokeAllSessions === true) this.revokeSessions(user.id);
    return user;
  }

  // ── apps ───────────────────────────────────────────────────────────────────────────────────

  /** Registers an app in a tenant. */
  addApp(tenantIdOrDomain: string, input: unknown): Readonly<AppRegistration> {
    const tenant = this.#tenant(tenantIdOrDomain);
    const seed = parseOrThrow(appSeedSchema, input, 'app');
    const app = toApp(seed, tenant.id);
    if (this.apps.has(app.appId)) throw new EmulatorError('conflict', `app ${app.appId} exists`);
    this.apps.set(app.appId, app);
    this.emit('change', { type: 'app-added', tenantId: tenant.id, appId: app.appId });
    if (seed.adminConsentGranted) this.grantAdminConsent(tenant.id, app.appId);
    return app;
  }

  /** Changes an app registration. */
  updateApp(appId: string, patch: AppPatch): Readonly<AppRegistration> {
    const app = this.#app(appId);
    if (patch.displayName !== undefined) app.displayName = patch.displayName;
    if (patch.signInAudience !== undefined) app.signInAudience = patch.signInAudience;
    if (patch.allowPublicClient !== undefined) app.allowPublicClient = patch.allowPublicClient;
    const uris = patch.redirectUris;
    if (uris?.web !== undefined) app.redirectUris.web = [...uris.web];
    if (uris?.spa !== undefined) app.redirectUris.spa = [...uris.spa];
    if (uris?.publicClient !== undefined) app.redirectUris.publicClient = [...uris.publicClient];
    if (patch.permissions?.delegated !== undefined)
      app.permissions.delegated = canonicalList(patch.permissions.delegated, 'delegated', `app ${app.appId}`);
    if (patch.permissions?.application !== undefined)
      app.permissions.application = canonicalList(patch.permissions.application, 'application', `app ${app.appId}`);
    this.emit('change', { type: 'app-updated', tenantId: app.tenantId, appId: app.appId });
    return app;
  }

  /** Deletes an app registration and every consent to it. */
  deleteApp(appId: string): void {
    const app = this.#app(appId);
    this.apps.delete(app.appId);
    this.consents = this.consents.filter((c) => c.appId !== app.appId);
    for (const m of this.mailboxes.values()) m.fullAccessApps = m.fullAccessApps.filter((a) => a !== app.appId);
    this.emit('change', { type: 'app-deleted', tenantId: app.tenantId, appId: app.appId });
  }

  /** Adds a client secret ("Certificates & secrets → New client secret"); the value is generated unless given. */
  addSecret(
    appId: string,
    input: { value?: string; expiresAt: Date; displayName?: string; id?: string },
  ): Readonly<ClientSecret> {
    const app = this.#app(appId);
    const value = input.value ?? generateSecretValue();
    const secret: ClientSecret = {
      id: (input.id ?? randomUUID()).toLowerCase(),
      value,
      hint: secretHint(value),
      displayName: input.displayName ?? 'secret',
      expiresAt: input.expiresAt,
    };
    if (app.secrets.some((s) => s.id === secret.id)) throw new EmulatorError('conflict', `secret ${secret.id} exists`);
    app.secrets.push(secret);
    this.emit('change', { type: 'app-updated', tenantId: app.tenantId, appId: app.appId });
    return secret;
  }

  /** Changes a secret's expiry (e.g. to the past, to test AADSTS7000222). */
  updateSecret(appId: string, secretId: string, patch: { expiresAt: Date }): Readonly<ClientSecret> {
    const app = this.#app(appId);
    const secret = app.secrets.find((s) => s.id === secretId.toLowerCase());
    if (secret === undefined) throw new EmulatorError('not-found', `secret ${secretId} not found on app ${app.appId}`);
    secret.expiresAt = patch.expiresAt;
    this.emit('change', { type: 'app-updated', tenantId: app.tenantId, appId: app.appId });
    return secret;
  }

  /** Deletes a secret. */
  removeSecret(appId: string, secretId: string): void {
    const app = this.#app(appId);
    const before = app.secrets.length;
    app.secrets = app.secrets.filter((s) => s.id !== secretId.toLowerCase());
    if (app.secrets.length === before)
      throw new EmulatorError('not-found', `secret ${secretId} not found on app ${app.appId}`);
    this.emit('change', { type: 'app-updated', tenantId: app.tenantId, appId: app.appId });
  }

  /** Uploads a certificate ("Certificates & secrets → Certificates → Upload certificate"). */
  addCertificate(appId: string, input: { pem: string; displayName?: string; id?: string }): Readonly<AppCertificate> {
    const app = this.#app(appId);
    const certificate = toAppCertificate(input);
    if (app.certificates.some((c) => c.id === certificate.id || c.thumbprint === certificate.thumbprint))
      throw new EmulatorError('conflict', `certificate ${certificate.thumbprint} is already uploaded`);
    app.certificates.push(certificate);
    this.emit('change', { type: 'app-updated', tenantId: app.tenantId, appId: app.appId });
    return certificate;
  }

  /** Deletes a certificate by key id or thumbprint. */
  removeCertificate(appId: string, idOrThumbprint: string): void {
    const app = this.#app(appId);
    const before = app.certificates.length;
    const key = idOrThumbprint.toLowerCase();
    app.certificates = app.certificates.filter((c) => c.id !== key && c.thumbprint.toLowerCase() !== key);
    if (app.certificates.length === before)
      throw new EmulatorError('not-found', `certificate ${idOrThumbprint} not found on app ${app.appId}`);
    this.emit('change', { type: 'app-updated', tenantId: app.tenantId, appId: app.appId });
  }

  // ── Exchange service principals ────────────────────────────────────────────────────────────

  /**
   * `New-ServicePrincipal -AppId -ObjectId` in Exchange Online. Exchange takes any object id: a
   * wrong one (the app registration's instead of the Enterprise application's) is only found out
   * when the app signs in. Registering an app again replaces its entry.
   */
  registerExchangeServicePrincipal(
    tenantIdOrDomain: string,
    input: { appId: string; objectId: string; displayName?: string },
  ): Readonly<ExchangeServicePrincipal> {
    const tenant = this.#tenant(tenantIdOrDomain);
    const appId = input.appId.toLowerCase();
    const entry: ExchangeServicePrincipal = {
      appId,
      objectId: input.objectId.toLowerCase(),
      displayName: input.displayName ?? this.findApp(appId)?.displayName ?? appId,
    };
    tenant.exchangeServicePrincipals = [...tenant.exchangeServicePrincipals.filter((sp) => sp.appId !== appId), entry];
    this.emit('change', { type: 'tenant-updated', tenantId: tenant.id });
    return entry;
  }

  /** `Remove-ServicePrincipal`; the app keeps its FullAccess entries, which no longer help it. */
  removeExchangeServicePrincipal(tenantIdOrDomain: string, appId: string): void {
    const tenant = this.#tenant(tenantIdOrDomain);
    const before = tenant.exchangeServicePrincipals.length;
    tenant.exchangeServicePrincipals = tenant.exchangeServicePrincipals.filter(
      (sp) => sp.appId !== appId.toLowerCase(),
    );
    if (tenant.exchangeServicePrincipals.length === before)
      throw new EmulatorError('not-found', `no service principal for app ${appId} in Exchange`);
    this.emit('change', { type: 'tenant-updated', tenantId: tenant.id });
  }

  /** `New-ApplicationAccessPolicy`; takes effect at once (Exchange Online: up to an hour). */
  addApplicationAccessPolicy(
    tenantIdOrDomain: string,
    input: {
      appId: string;
      accessRight: ApplicationAccessPolicy['accessRight'];
      mailboxes: string[];
      description?: string;
    },
  ): Readonly<ApplicationAccessPolicy> {
    const tenant = this.#tenant(tenantIdOrDomain);
    const policy = toAccessPolicy({ ...input, description: input.description ?? '' });
    tenant.applicationAccessPolicies = [...tenant.applicationAccessPolicies, policy];
    this.emit('change', { type: 'tenant-updated', tenantId: tenant.id });
    return policy;
  }

  /** `Remove-ApplicationAccessPolicy`. */
  removeApplicationAccessPolicy(tenantIdOrDomain: string, id: string): void {
    const tenant = this.#tenant(tenantIdOrDomain);
    const before = tenant.applicationAccessPolicies.length;
    tenant.applicationAccessPolicies = tenant.applicationAccessPolicies.filter((p) => p.id !== id.toLowerCase());
    if (tenant.applicationAccessPolicies.length === before)
      throw new EmulatorError('not-found', `application access policy ${id} not found`);
    this.emit('change', { type: 'tenant-updated', tenantId: tenant.id });
  }

  /**
   * `New-ManagementRoleAssignment -App -Role -CustomResourceScope` (RBAC for Applications), the
   * scope given as its mailboxes. Exchange wants the app's service principal registered first
   * (`New-ServicePrincipal`); takes effect at once (Exchange Online: up to two hours).
   */
  addApplicationRoleAssignment(
    tenantIdOrDomain: string,
    input: { appId: string; role: string; mailboxes: string[]; name?: string },
  ): Readonly<ApplicationRoleAssignment> {
    const tenant = this.#tenant(tenantIdOrDomain);
    const appId = input.appId.toLowerCase();
    if (!tenant.exchangeServicePrincipals.some((sp) => sp.appId === appId))
      throw new EmulatorError(
        'not-found',
        `no service principal for app ${input.appId} in Exchange (New-ServicePrincipal)`,
      );
    const assignment: ApplicationRoleAssignment = {
      id: randomUUID(),
      name: input.name ?? `${input.role}-${appId}`,
      appId,
      role: input.role,
      mailboxes: input.mailboxes.map((m) => m.toLowerCase()),
    };
    tenant.applicationRoleAssignments = [...tenant.applicationRoleAssignments, assignment];
    this.emit('change', { type: 'tenant-updated', tenantId: tenant.id });
    return assignment;
  }

  /** `Set-ManagementScope -RecipientRestrictionFilter` of an assignment's scope: the mailboxes it now covers. */
  setApplicationRoleAssignmentScope(
    tenantIdOrDomain: string,
    id: string,
    mailboxes: string[],
  ): Readonly<ApplicationRoleAssignment> {
    const tenant = this.#tenant(tenantIdOrDomain);
    const found = tenant.applicationRoleAssignments.find((a) => a.id === id.toLowerCase());
    if (found === undefined) throw new EmulatorError('not-found', `management role assignment ${id} not found`);
    const updated = { ...found, mailboxes: mailboxes.map((m) => m.toLowerCase()) };
    tenant.applicationRoleAssignments = tenant.applicationRoleAssignments.map((a) => (a.id === found.id ? updated : a));
    this.emit('change', { type: 'tenant-updated', tenantId: tenant.id });
    return updated;
  }

  /** `Remove-ManagementRoleAssignment`. */
  removeApplicationRoleAssignment(tenantIdOrDomain: string, id: string): void {
    const tenant = this.#tenant(tenantIdOrDomain);
    const before = tenant.applicationRoleAssignments.length;
    tenant.applicationRoleAssignments = tenant.applicationRoleAssignments.filter((a) => a.id !== id.toLowerCase());
    if (tenant.applicationRoleAssignments.length === before)
      throw new EmulatorError('not-found', `management role assignment ${id} not found`);
    this.emit('change', { type: 'tenant-updated', tenantId: tenant.id });
  }

  // ── consents ───────────────────────────────────────────────────────────────────────────────

  /**
   * Records consent: a user's (userId) or an admin's for the whole tenant (userId null). Scopes
   * and roles are merged into an existing grant for the same app and principal.
   */
  grantConsent(input: {
    tenantId: string;
    appId: string;
    userId: string | null;
    scopes?: string[];
    roles?: string[];
  }): Readonly<Consent> {
    const tenant = this.#tenant(input.tenantId);
    const app = this.#app(input.appId);
    const userId = input.userId === null ? null : this.#user(input.userId).id;
    const scopes = canonicalList(input.scopes ?? [], 'delegated', 'consent');
    const roles = canonicalList(input.roles ?? [], 'application', 'consent');
    let consent = this.consents.find((c) => c.tenantId === tenant.id && c.appId === app.appId && c.userId === userId);
    if (consent === undefined) {
      consent = { tenantId: tenant.id, appId: app.appId, userId, scopes: [], roles: [], grantedAt: this.clock.now() };
      this.consents.push(consent);
    }
    consent.scopes = [...new Set([...consent.scopes, ...scopes])];
    consent.roles = [...new Set([...consent.roles, ...roles])];
    consent.grantedAt = this.clock.now();
    this.emit('change', { type: 'consent-granted', tenantId: tenant.id, appId: app.appId, userId });
    return consent;
  }

  /** "Grant admin consent for {tenant}": every configured permission, for every user. */
  grantAdminConsent(tenantId: string, appId: string): Readonly<Consent> {
    const app = this.#app(appId);
    return this.grantConsent({
      tenantId,
      appId: app.appId,
      userId: null,
      scopes: app.permissions.delegated,
      roles: app.permissions.application,
    });
  }

  /**
   * Revokes consent: of one user, of the admin grant (`userId: null`), or every grant of the app
   * in the tenant (`userId: 'all'`). Returns how many grants were removed.
   */
  revokeConsent(input: { tenantId: string; appId: string; userId: string | null | 'all' }): number {
    const tenant = this.#tenant(input.tenantId);
    const appId = input.appId.toLowerCase();
    const userId = input.userId === null || input.userId === 'all' ? input.userId : this.#user(input.userId).id;
    const before = this.consents.length;
    this.consents = this.consents.filter(
      (c) => !(c.tenantId === tenant.id && c.appId === appId && (userId === 'all' || c.userId === userId)),
    );
    const removed = before - this.consents.length;
    if (removed > 0)
      this.emit('change', {
        type: 'consent-revoked',
        tenantId: tenant.id,
        appId,
        userId: userId === 'all' ? null : userId,
      });
    return removed;
  }

  // ── mailboxes ──────────────────────────────────────────────────────────────────────────────

  /** Creates a shared mailbox. */
  addMailbox(tenantIdOrDomain: string, input: unknown): Readonly<Mailbox> {
    const tenant = this.#tenant(tenantIdOrDomain);
    const seed = parseOrThrow(sharedMailboxSeedSchema, input, 'mailbox');
    const mailbox = toSharedMailbox(seed, tenant.id, (ref) => this.#user(ref).id);
    this.#claimAddresses([mailbox.address, ...mailbox.aliases]);
    this.mailboxes.set(mailbox.address, mailbox);
    this.emit('change', { type: 'mailbox-added', tenantId: tenant.id, address: mailbox.address });
    return mailbox;
  }

  /** Changes mailbox settings (`Set-CASMailbox -ImapEnabled / -SmtpClientAuthenticationDisabled`, aliases). */
  updateMailbox(address: string, patch: MailboxPatch): Readonly<Mailbox> {
    const mailbox = this.#mailbox(address);
    if (patch.aliases !== undefined) {
      const aliases = patch.aliases.map((a) => a.toLowerCase());
      const others = aliases.filter((a) => !mailbox.aliases.includes(a));
      this.#claimAddresses(others);
      mailbox.aliases = aliases;
    }
    if (patch.displayName !== undefined) mailbox.displayName = patch.displayName;
    if (patch.imapEnabled !== undefined) mailbox.imapEnabled = patch.imapEnabled;
    if (patch.smtpAuthEnabled !== undefined) mailbox.smtpAuthEnabled = patch.smtpAuthEnabled;
    if (patch.fullAccessApps !== undefined) mailbox.fullAccessApps = patch.fullAccessApps.map((a) => a.toLowerCase());
    this.emit('change', { type: 'mailbox-updated', tenantId: mailbox.tenantId, address: mailbox.address });
    return mailbox;
  }

  /** Deletes a shared mailbox (a user mailbox goes with its user). */
  deleteMailbox(address: string): void {
    const mailbox = this.#mailbox(address);
    if (mailbox.kind === 'user')
      throw new EmulatorError('invalid', `${mailbox.address} is a user mailbox: delete the user instead`);
    this.mailboxes.delete(mailbox.address);
    this.emit('change', { type: 'mailbox-deleted', tenantId: mailbox.tenantId, address: mailbox.address });
  }

  /** Grants FullAccess and/or SendAs on a mailbox to a user. */
  addDelegate(address: string, userRef: string, rights: readonly MailboxRight[]): Readonly<Mailbox> {
    const mailbox = this.#mailbox(address);
    const user = this.#user(userRef);
    if (user.tenantId !== mailbox.tenantId)
      throw new EmulatorError('invalid', `${user.userPrincipalName} is not in the mailbox's tenant`);
    if (rights.includes('FullAccess') && !mailbox.fullAccess.includes(user.id)) mailbox.fullAccess.push(user.id);
    if (rights.includes('SendAs') && !mailbox.sendAs.includes(user.id)) mailbox.sendAs.push(user.id);
    this.emit('change', { type: 'mailbox-updated', tenantId: mailbox.tenantId, address: mailbox.address });
    return mailbox;
  }

  /** Removes FullAccess and/or SendAs of a user on a mailbox. */
  removeDelegate(address: string, userRef: string, rights: readonly MailboxRight[]): Readonly<Mailbox> {
    const mailbox = this.#mailbox(address);
    const user = this.#user(userRef);
    if (rights.includes('FullAccess')) mailbox.fullAccess = mailbox.fullAccess.filter((id) => id !== user.id);
    if (rights.includes('SendAs')) mailbox.sendAs = mailbox.sendAs.filter((id) => id !== user.id);
    this.emit('change', { type: 'mailbox-updated', tenantId: mailbox.tenantId, address: mailbox.address });
    return mailbox;
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────

  #tenant(idOrDomain: string): Tenant {
    const found = this.findTenant(idOrDomain);
    const tenant = found === undefined ? undefined : this.tenants.get(found.id);
    if (tenant === undefined) throw new EmulatorError('not-found', `tenant ${idOrDomain} not found`);
    return tenant;
  }

  #user(idOrUpn: string): User {
    const found = this.findUserById(idOrUpn) ?? this.findUserByUpn(idOrUpn);
    const user = found === undefined ? undefined : this.users.get(found.id);
    if (user === undefined) throw new EmulatorError('not-found', `user ${idOrUpn} not found`);
    return user;
  }

  #app(appId: string): AppRegistration {
    const app = this.apps.get(appId.toLowerCase());
    if (app === undefined) throw new EmulatorError('not-found', `app ${appId} not found`);
    return app;
  }

  #mailbox(address: string): Mailbox {
    const found = this.findMailbox(address);
    const mailbox = found === undefined ? undefined : this.mailboxes.get(found.address);
    if (mailbox === undefined) throw new EmulatorError('not-found', `mailbox ${address} not found`);
    return mailbox;
  }

  #claimAddresses(addresses: readonly string[]): void {
    for (const a of addresses) {
      if (this.findMailbox(a) !== undefined) throw new EmulatorError('conflict', `address ${a} is already in use`);
    }
  }
}

/** A client secret value in the portal's style: 40 characters with a `~`. */
function generateSecretValue(): string {
  const body = randomBytes(30).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36);
  return `${body.slice(0, 3)}8Q~${body.slice(3)}`;
}
