/**
 * Converts validated seed records into directory model objects and back (the control API's
 * `GET /_emulator/seed` exports the current state as a seed that can be loaded again).
 */
import { randomUUID } from 'node:crypto';
import { EmulatorError } from '../errors.js';
import { toAppCertificate } from './app-certificates.js';
import { servicePrincipalObjectId } from './object-ids.js';
import type {
  ApplicationAccessPolicy,
  AppRegistration,
  ClientSecret,
  Consent,
  Mailbox,
  Tenant,
  User,
} from './model.js';
import { canonicalPermission } from './resources.js';
import type { AppSeed, Seed, SecretSeed, SharedMailboxSeed, TenantSeed, UserSeed } from './schema.js';

/** Everything one tenant seed turns into. */
export interface TenantState {
  tenant: Tenant;
  users: User[];
  apps: AppRegistration[];
  consents: Consent[];
  mailboxes: Mailbox[];
}

/** `abc…` → `abc`: the hint the portal shows for a secret. */
export function secretHint(value: string): string {
  return value.slice(0, 3);
}

/** A seed (or control API) application access policy → model. */
export function toAccessPolicy(seed: {
  id?: string | undefined;
  appId: string;
  accessRight: ApplicationAccessPolicy['accessRight'];
  mailboxes: string[];
  description: string;
}): ApplicationAccessPolicy {
  return {
    id: (seed.id ?? randomUUID()).toLowerCase(),
    appId: seed.appId.toLowerCase(),
    accessRight: seed.accessRight,
    mailboxes: seed.mailboxes.map((m) => m.toLowerCase()),
    description: seed.description,
  };
}

/** A seed secret → model. */
function toSecret(seed: SecretSeed): ClientSecret {
  return {
    id: seed.id.toLowerCase(),
    value: seed.value,
    hint: seed.hint ?? secretHint(seed.value),
    displayName: seed.displayName ?? 'secret',
    expiresAt: new Date(seed.expiresAt),
  };
}

/** Canonicalises a list of permissions, turning parse failures into `invalid` errors. */
export function canonicalList(values: readonly string[], kind: 'delegated' | 'application', where: string): string[] {
  const out = new Set<string>();
  for (const value of values) {
    try {
      out.add(canonicalPermission(value, kind));
    } catch (error) {
      throw new EmulatorError('invalid', `${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return [...out];
}

/** A seed user → model. */
export function toUser(seed: UserSeed, tenantId: string): User {
  return {
    id: seed.id.toLowerCase(),
    tenantId,
    userPrincipalName: seed.userPrincipalName.toLowerCase(),
    displayName: seed.displayName,
    mail: (seed.mail ?? seed.userPrincipalName).toLowerCase(),
    password: seed.password,
    mfaRequired: seed.mfaRequired,
    mfaCode: seed.mfaCode,
    disabled: seed.disabled,
    admin: seed.admin,
    passwordChangedAt: seed.passwordChangedAt === null ? null : new Date(seed.passwordChangedAt),
    tokensValidFrom: null,
  };
}

/** The user mailbox that comes with a licensed user, or null when `mailbox: false`. */
export function userMailbox(seed: UserSeed, user: User): Mailbox | null {
  if (seed.mailbox === false) return null;
  return {
    address: user.mail,
    tenantId: user.tenantId,
    kind: 'user',
    ownerUserId: user.id,
    displayName: user.displayName,
    fullAccess: [],
    sendAs: [],
    fullAccessApps: [],
    imapEnabled: seed.mailbox.imapEnabled,
    smtpAuthEnabled: seed.mailbox.smtpAuthEnabled,
    aliases: seed.mailbox.aliases.map((a) => a.toLowerCase()),
  };
}

/** A seed app → model. */
export function toApp(seed: AppSeed, tenantId: string): AppRegistration {
  const where = `app ${seed.appId}`;
  return {
    appId: seed.appId.toLowerCase(),
    tenantId,
    displayName: seed.displayName,
    signInAudience: seed.signInAudience,
    redirectUris: {
      web: [...seed.redirectUris.web],
      spa: [...seed.redirectUris.spa],
      publicClient: [...seed.redirectUris.publicClient],
    },
    secrets: seed.secrets.map(toSecret),
    certificates: seed.certificates.map((c) => toAppCertificate(c)),
    allowPublicClient: seed.allowPublicClient,
    permissions: {
      delegated: canonicalList(seed.permissions.delegated, 'delegated', where),
      application: canonicalList(seed.permissions.application, 'application', where),
    },
  };
}

/** A seed shared mailbox → model, resolving delegates with `resolveUser`. */
export function toSharedMailbox(
  seed: SharedMailboxSeed,
  tenantId: string,
  resolveUser: (ref: string) => string,
): Mailbox {
  return {
    address: seed.address.toLowerCase(),
    tenantId,
    kind: 'shared',
    displayName: seed.displayName,
    fullAccess: [...new Set(seed.fullAccess.map(resolveUser))],
    sendAs: [...new Set(seed.sendAs.map(resolveUser))],
    fullAccessApps: seed.fullAccessApps.map((a) => a.toLowerCase()),
    imapEnabled: seed.imapEnabled,
    smtpAuthEnabled: seed.smtpAuthEnabled,
    aliases: seed.aliases.map((a) => a.toLowerCase()),
  };
}

/** Converts one tenant seed; `now` stamps the consents. */
export function convertTenant(seed: TenantSeed, now: Date): TenantState {
  const tenantId = seed.id.toLowerCase();
  const tenant: Tenant = {
    id: tenantId,
    displayName: seed.displayName,
    domains: seed.domains.map((d) => d.toLowerCase()),
    smtpAuthDisabledByDefault: seed.smtpAuthDisabledByDefault,
    userConsent: seed.userConsent,
    signInFrequencySeconds: seed.signInFrequencySeconds,
    continuousAccessEvaluation: seed.continuousAccessEvaluation,
    exchangeServicePrincipals: [],
    applicationAccessPolicies: seed.applicationAccessPolicies.map((p) => toAccessPolicy(p)),
    applicationRoleAssignments: [],
  };
  const users = seed.users.map((u) => toUser(u, tenantId));
  const resolveUser = (ref: string): string => {
    const lower = ref.toLowerCase();
    const user = users.find((u) => u.id === lower || u.userPrincipalName === lower || u.mail === lower);
    if (user === undefined) throw new EmulatorError('invalid', `tenant ${seed.displayName}: unknown user "${ref}"`);
    return user.id;
  };
  const mailboxes: Mailbox[] = [];
  seed.users.forEach((u, i) => {
    const user = users[i];
    const mailbox = user === undefined ? null : userMailbox(u, user);
    if (mailbox !== null) mailboxes.push(mailbox);
  });
  for (const m of seed.mailboxes) mailboxes.push(toSharedMailbox(m, tenantId, resolveUser));
  const apps = seed.apps.map((a) => toApp(a, tenantId));
  tenant.exchangeServicePrincipals =
    seed.exchangeServicePrincipals?.map((sp) => ({
      appId: sp.appId.toLowerCase(),
      objectId: sp.objectId.toLowerCase(),
      displayName: sp.displayName ?? sp.appId.toLowerCase(),
    })) ??
    [...new Set(mailboxes.flatMap((m) => m.fullAccessApps))].map((appId) => ({
      appId,
      objectId: servicePrincipalObjectId(tenantId, appId),
      displayName: apps.find((a) => a.appId === appId)?.displayName ?? appId,
    }));
  const consents: Consent[] = [];
  seed.apps.forEach((a, i) => {
    const app = apps[i];
    if (a.adminConsentGranted && app !== undefined) {
      consents.push({
        tenantId,
        appId: app.appId,
        userId: null,
        scopes: [...app.permissions.delegated],
        roles: [...app.permissions.application],
        grantedAt: now,
      });
    }
  });
  for (const c of seed.consents) {
    consents.push({
      tenantId,
      appId: c.appId.toLowerCase(),
      userId: c.user === undefined ? null : resolveUser(c.user),
      scopes: canonicalList(c.scopes, 'delegated', `consent for ${c.appId}`),
      roles: canonicalList(c.roles, 'application', `consent for ${c.appId}`),
      grantedAt: now,
    });
  }
  return { tenant, users, apps, consents, mailboxes };
}

/** Exports one tenant's state back to the seed format (passwords and secret values included: test data). */
export function exportTenant(state: TenantState): Seed['tenants'][number] {
  const upnOf = (id: string): string => state.users.find((u) => u.id === id)?.userPrincipalName ?? id;
  return {
    id: state.tenant.id,
    displayName: state.tenant.displayName,
    domains: [...state.tenant.domains],
    smtpAuthDisabledByDefault: state.tenant.smtpAuthDisabledByDefault,
    userConsent: state.tenant.userConsent,
    signInFrequencySeconds: state.tenant.signInFrequencySeconds,
    continuousAccessEvaluation: state.tenant.continuousAccessEvaluation,
    users: state.users.map((u) => {
      const mailbox = state.mailboxes.find((m) => m.kind === 'user' && m.ownerUserId === u.id);
      return {
        id: u.id,
        userPrincipalName: u.userPrincipalName,
        displayName: u.displayName,
        mail: u.mail,
        password: u.password,
        mfaRequired: u.mfaRequired,
        mfaCode: u.mfaCode,
        disabled: u.disabled,
        admin: u.admin,
        passwordChangedAt: u.passwordChangedAt?.toISOString() ?? null,
        mailbox:
          mailbox === undefined
            ? false
            : {
                imapEnabled: mailbox.imapEnabled,
                smtpAuthEnabled: mailbox.smtpAuthEnabled,
                aliases: [...mailbox.aliases],
              },
      };
    }),
    apps: state.apps.map((a) => ({
      appId: a.appId,
      displayName: a.displayName,
      signInAudience: a.signInAudience,
      redirectUris: {
        web: [...a.redirectUris.web],
        spa: [...a.redirectUris.spa],
        publicClient: [...a.redirectUris.publicClient],
      },
      secrets: a.secrets.map((s) => ({
        id: s.id,
        value: s.value,
        hint: s.hint,
        displayName: s.displayName,
        expiresAt: s.expiresAt.toISOString(),
      })),
      certificates: a.certificates.map((c) => ({ id: c.id, displayName: c.displayName, pem: c.pem })),
      allowPublicClient: a.allowPublicClient,
      permissions: { delegated: [...a.permissions.delegated], application: [...a.permissions.application] },
      adminConsentGranted: false,
    })),
    consents: state.consents.map((c) => ({
      appId: c.appId,
      ...(c.userId === null ? {} : { user: upnOf(c.userId) }),
      scopes: [...c.scopes],
      roles: [...c.roles],
    })),
    mailboxes: state.mailboxes
      .filter((m) => m.kind === 'shared')
      .map((m) => ({
        address: m.address,
        displayName: m.displayName,
        kind: 'shared' as const,
        fullAccess: m.fullAccess.map(upnOf),
        sendAs: m.sendAs.map(upnOf),
        fullAccessApps: [...m.fullAccessApps],
        imapEnabled: m.imapEnabled,
        smtpAuthEnabled: m.smtpAuthEnabled,
        aliases: [...m.aliases],
      })),
    exchangeServicePrincipals: state.tenant.exchangeServicePrincipals.map((sp) => ({ ...sp })),
    applicationAccessPolicies: state.tenant.applicationAccessPolicies.map((p) => ({
      ...p,
      mailboxes: [...p.mailboxes],
    })),
  };
}
