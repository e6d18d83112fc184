/**
 * Control routes that change the directory: the seed, tenants, users (disable, MFA, revoke
 * sessions, password), apps (secrets, certificates, admin consent), consents, mailboxes and
 * delegations, Exchange's service principals (`New-ServicePrincipal`), application access policies
 * and RBAC for Applications role assignments. Users are presented
 * without their password; a new secret is returned with its value once.
 */
import type { FastifyInstance } from 'fastify';
import type {
  AppCertificate,
  AppRegistration,
  ClientSecret,
  Consent,
  Mailbox,
  Tenant,
  User,
} from '../directory/model.js';
import { appObjectId, servicePrincipalObjectId } from '../directory/object-ids.js';
import type { ControlDeps } from './control-api.js';
import {
  adminConsentSchema,
  applicationAccessPolicySchema,
  applicationRoleAssignmentSchema,
  applicationRoleScopeSchema,
  appPatchSchema,
  consentRevokeSchema,
  consentSchema,
  delegateRemoveQuerySchema,
  delegateSchema,
  exchangeServicePrincipalSchema,
  mailboxPatchSchema,
  newCertificateSchema,
  newSecretSchema,
  passwordChangeSchema,
  secretPatchSchema,
  tenantPatchSchema,
  userPatchSchema,
} from './schemas.js';

const DAY_MS = 86_400_000;

/** A user without the password. */
function presentUser(u: Readonly<User>) {
  return {
    id: u.id,
    tenantId: u.tenantId,
    userPrincipalName: u.userPrincipalName,
    displayName: u.displayName,
    mail: u.mail,
    mfaRequired: u.mfaRequired,
    disabled: u.disabled,
    admin: u.admin,
    passwordChangedAt: u.passwordChangedAt,
    tokensValidFrom: u.tokensValidFrom,
  };
}

/** A secret without its value (hint only). */
function presentSecret(s: Readonly<ClientSecret>) {
  return { id: s.id, hint: s.hint, displayName: s.displayName, expiresAt: s.expiresAt };
}

/** An uploaded certificate, as the portal lists it. */
function presentCertificate(c: Readonly<AppCertificate>) {
  return {
    id: c.id,
    displayName: c.displayName,
    thumbprint: c.thumbprint,
    startsAt: c.startsAt,
    expiresAt: c.expiresAt,
  };
}

/**
 * An app registration with secrets reduced to hints, and its two object ids: the app
 * registration's and its service principal's (Enterprise application) in the home tenant.
 */
function presentApp(a: Readonly<AppRegistration>) {
  return {
    appId: a.appId,
    objectId: appObjectId(a.appId),
    servicePrincipalId: servicePrincipalObjectId(a.tenantId, a.appId),
    tenantId: a.tenantId,
    displayName: a.displayName,
    signInAudience: a.signInAudience,
    redirectUris: a.redirectUris,
    allowPublicClient: a.allowPublicClient,
    permissions: a.permissions,
    secrets: a.secrets.map(presentSecret),
    certificates: a.certificates.map(presentCertificate),
  };
}

function presentTenant(t: Readonly<Tenant>) {
  return { ...t };
}

function presentMailbox(m: Readonly<Mailbox>) {
  return { ...m };
}

function presentConsent(c: Readonly<Consent>) {
  return { ...c };
}

/** Registers the directory routes in the control scope. */
export function registerDirectoryRoutes(scope: FastifyInstance, deps: ControlDeps): void {
  const { directory, clock } = deps;

  scope.get('/seed', async () => directory.exportSeed());
  scope.put('/seed', async (request) => {
    directory.load(request.body);
    return { tenants: directory.listTenants().map(presentTenant) };
  });

  scope.post('/tenants', async (request, reply) =>
    reply.code(201).send(presentTenant(directory.addTenant(request.body))),
  );
  scope.patch<{ Params: { tenant: string } }>('/tenants/:tenant', async (request) =>
    presentTenant(directory.updateTenant(request.params.tenant, tenantPatchSchema.parse(request.body))),
  );

  scope.post<{ Params: { tenant: string } }>('/tenants/:tenant/users', async (request, reply) =>
    reply.code(201).send(presentUser(directory.addUser(request.params.tenant, request.body))),
  );
  scope.patch<{ Params: { user: string } }>('/users/:user', async (request) =>
    presentUser(directory.updateUser(request.params.user, userPatchSchema.parse(request.body))),
  );
  scope.delete<{ Params: { user: string } }>('/users/:user', async (request, reply) => {
    directory.deleteUser(request.params.user);
    return reply.code(204).send();
  });
  scope.post<{ Params: { user: string } }>('/users/:user/revoke-sessions', async (request) =>
    presentUser(directory.revokeSessions(request.params.user)),
  );
  scope.post<{ Params: { user: string } }>('/users/:user/password', async (request) => {
    const body = passwordChangeSchema.parse(request.body);
    return presentUser(
      directory.changePassword(request.params.user, body.password, { revokeAllSessions: body.revokeAllSessions }),
    );
  });

  scope.post<{ Params: { tenant: string } }>('/tenants/:tenant/apps', async (request, reply) =>
    reply.code(201).send(presentApp(directory.addApp(request.params.tenant, request.body))),
  );
  scope.patch<{ Params: { appId: string } }>('/apps/:appId', async (request) =>
    presentApp(directory.updateApp(request.params.appId, appPatchSchema.parse(request.body))),
  );
  scope.delete<{ Params: { appId: string } }>('/apps/:appId', async (request, reply) => {
    directory.deleteApp(request.params.appId);
    return reply.code(204).send();
  });
  scope.post<{ Params: { appId: string } }>('/apps/:appId/secrets', async (request, reply) => {
    const body = newSecretSchema.parse(request.body ?? {});
    const secret = directory.addSecret(request.params.appId, {
      expiresAt: body.expiresAt ?? new Date(clock.nowMs() + 180 * DAY_MS),
      ...(body.value === undefined ? {} : { value: body.value }),
      ...(body.displayName === undefined ? {} : { displayName: body.displayName }),
      ...(body.id === undefined ? {} : { id: body.id }),
    });
    return reply.code(201).send({ ...presentSecret(secret), value: secret.value });
  });
  scope.patch<{ Params: { appId: string; secretId: string } }>('/apps/:appId/secrets/:secretId', async (request) =>
    presentSecret(
      directory.updateSecret(request.params.appId, request.params.secretId, secretPatchSchema.parse(request.body)),
    ),
  );
  scope.delete<{ Params: { appId: string; secretId: string } }>(
    '/apps/:appId/secrets/:secretId',
    async (request, reply) => {
      directory.removeSecret(request.params.appId, request.params.secretId);
      return reply.code(204).send();
    },
  );
  scope.post<{ Params: { appId: string } }>('/apps/:appId/certificates', async (request, reply) => {
    const body = newCertificateSchema.parse(request.body);
    const certificate = directory.addCertificate(request.params.appId, {
      pem: body.certificate,
      ...(body.displayName === undefined ? {} : { displayName: body.displayName }),
      ...(body.id === undefined ? {} : { id: body.id }),
    });
    return reply.code(201).send(presentCertificate(certificate));
  });
  scope.delete<{ Params: { appId: string; certificate: string } }>(
    '/apps/:appId/certificates/:certificate',
    async (request, reply) => {
      directory.removeCertificate(request.params.appId, request.params.certificate);
      return reply.code(204).send();
    },
  );
  scope.post<{ Params: { tenant: string } }>('/tenants/:tenant/exchange/service-principals', async (request, reply) => {
    const body = exchangeServicePrincipalSchema.parse(request.body);
    return reply.code(201).send(directory.registerExchangeServicePrincipal(request.params.tenant, body));
  });
  scope.delete<{ Params: { tenant: string; appId: string } }>(
    '/tenants/:tenant/exchange/service-principals/:appId',
    async (request, reply) => {
      directory.removeExchangeServicePrincipal(request.params.tenant, request.params.appId);
      return reply.code(204).send();
    },
  );
  scope.post<{ Params: { tenant: string } }>(
    '/tenants/:tenant/exchange/application-access-policies',
    async (request, reply) => {
      const body = applicationAccessPolicySchema.parse(request.body);
      return reply.code(201).send(
        directory.addApplicationAccessPolicy(request.params.tenant, {
          appId: body.appId,
          accessRight: body.accessRight,
          mailboxes: body.mailboxes,
          ...(body.description === undefined ? {} : { description: body.description }),
        }),
      );
    },
  );
  scope.delete<{ Params: { tenant: string; id: string } }>(
    '/tenants/:tenant/exchange/application-access-policies/:id',
    async (request, reply) => {
      directory.removeApplicationAccessPolicy(request.params.tenant, request.params.id);
      return reply.code(204).send();
    },
  );
  scope.get<{ Params: { tenant: string } }>(
    '/tenants/:tenant/exchange/management-role-assignments',
    async (request) => {
      const tenant = directory.findTenant(request.params.tenant);
      return tenant === undefined ? [] : directory.applicationRoleAssignments(tenant.id);
    },
  );
  scope.post<{ Params: { tenant: string } }>(
    '/tenants/:tenant/exchange/management-role-assignments',
    async (request, reply) => {
      const body = applicationRoleAssignmentSchema.parse(request.body);
      return reply.code(201).send(
        directory.addApplicationRoleAssignment(request.params.tenant, {
          appId: body.appId,
          role: body.role,
          mailboxes: body.mailboxes,
          ...(body.name === undefined ? {} : { name: body.name }),
        }),
      );
    },
  );
  scope.patch<{ Params: { tenant: string; id: string } }>(
    '/tenants/:tenant/exchange/management-role-assignments/:id',
    async (request) =>
      directory.setApplicationRoleAssignmentScope(
        request.params.tenant,
        request.params.id,
        applicationRoleScopeSchema.parse(request.body).mailboxes,
      ),
  );
  scope.delete<{ Params: { tenant: string; id: string } }>(
    '/tenants/:tenant/exchange/management-role-assignments/:id',
    async (request, reply) => {
      directory.removeApplicationRoleAssignment(request.params.tenant, request.params.id);
      return reply.code(204).send();
    },
  );
  scope.post<{ Params: { appId: string } }>('/apps/:appId/admin-consent', async (request) => {
    const body = adminConsentSchema.parse(request.body ?? {});
    const app = directory.findApp(request.params.appId);
    return presentConsent(directory.grantAdminConsent(body.tenant ?? app?.tenantId ?? '', request.params.appId));
  });

  scope.post('/consents', async (request, reply) => {
    const body = consentSchema.parse(request.body);
    const tenant = directory.findTenant(body.tenant);
    const consent = directory.grantConsent({
      tenantId: tenant?.id ?? body.tenant,
      appId: body.appId,
      userId: body.user ?? null,
      scopes: body.scopes,
      roles: body.roles,
    });
    return reply.code(201).send(presentConsent(consent));
  });
  scope.post('/consents/revoke', async (request) => {
    const body = consentRevokeSchema.parse(request.body);
    const tenant = directory.findTenant(body.tenant);
    const userId = body.user === 'admin' ? null : body.user;
    return { revoked: directory.revokeConsent({ tenantId: tenant?.id ?? body.tenant, appId: body.appId, userId }) };
  });

  scope.post<{ Params: { tenant: string } }>('/tenants/:tenant/mailboxes', async (request, reply) =>
    reply.code(201).send(presentMailbox(directory.addMailbox(request.params.tenant, request.body))),
  );
  scope.patch<{ Params: { address: string } }>('/mailboxes/:address', async (request) =>
    presentMailbox(directory.updateMailbox(request.params.address, mailboxPatchSchema.parse(request.body))),
  );
  scope.delete<{ Params: { address: string } }>('/mailboxes/:address', async (request, reply) => {
    directory.deleteMailbox(request.params.address);
    return reply.code(204).send();
  });
  scope.post<{ Params: { address: string } }>('/mailboxes/:address/delegates', async (request) => {
    const body = delegateSchema.parse(request.body);
    return presentMailbox(directory.addDelegate(request.params.address, body.user, body.rights));
  });
  scope.delete<{ Params: { address: string; user: string } }>(
    '/mailboxes/:address/delegates/:user',
    async (request) => {
      const query = delegateRemoveQuerySchema.parse(request.query);
      return presentMailbox(directory.removeDelegate(request.params.address, request.params.user, query.rights));
    },
  );

  scope.get('/tenants', async () => directory.listTenants().map(presentTenant));
  scope.get('/users', async () => directory.listUsers().map(presentUser));
  scope.get('/apps', async () => directory.listApps().map(presentApp));
  scope.get('/mailboxes', async () => directory.listMailboxes().map(presentMailbox));
}
