/**
 * `ExchangeAccess` on top of the identity half: token facts from its (synchronous) access-token
 * introspection, mailbox facts from its directory. The rules themselves live in `access-policy.ts`.
 *
 * Mapping notes: FullAccess holds user object ids plus the app ids of service principals
 * (`fullAccessApps`, for app-only IMAP/SMTP), and an app must also be registered in Exchange
 * (`exchangeServicePrincipals`, with the right object id); RBAC for Applications assignments come
 * from the tenant's `applicationRoleAssignments`; SMTP AUTH falls back to the tenant default when the
 * mailbox has no setting (`smtpAuthEnabled: null`). Passwords (basic authentication) are checked
 * by the directory itself and never leave it.
 *
 * @see ../README.md ("Contract for the Exchange half")
 */
import type { Clock } from '../clock.js';
import type { DirectoryStore } from '../directory/directory-store.js';
import type { User } from '../directory/model.js';
import type { IntrospectAccessToken } from '../identity/introspect.js';
import type { ExchangeAccess } from './access.js';
import { appRbacGrants } from './app-rbac.js';
import { createExchangeAccess, type MailboxFacts, type TokenFacts, type UserFacts } from './access-policy.js';
import type { ExchangeClock } from './exchange-clock.js';

/** The emulator clock as the Exchange half reads it. */
export function exchangeClockOf(clock: Clock): ExchangeClock {
  return { now: () => clock.nowMs() };
}

export function createDirectoryAccess(options: {
  directory: DirectoryStore;
  introspect: IntrospectAccessToken;
  clock: ExchangeClock;
}): ExchangeAccess {
  const { directory, introspect, clock } = options;
  return createExchangeAccess(
    {
      introspect: async (token): Promise<TokenFacts | undefined> => {
        const result = introspect(token);
        if (!result.valid) return undefined;
        return {
          audience: result.audience,
          scopes: result.scopes,
          roles: result.roles,
          tenantId: result.tenantId,
          appId: result.appId,
          userId: result.userId,
          upn: result.upn,
          servicePrincipalId: result.servicePrincipalId,
          expiresAt: result.expiresAt.getTime(),
        };
      },
      findMailbox: (address): MailboxFacts | undefined => {
        const mailbox = directory.findMailbox(address);
        if (!mailbox) return undefined;
        const tenant = directory.tenantOf(mailbox);
        return {
          address: mailbox.address,
          tenantId: mailbox.tenantId,
          kind: mailbox.kind,
          ownerUserId: mailbox.ownerUserId,
          fullAccess: [...mailbox.fullAccess, ...mailbox.fullAccessApps],
          sendAs: mailbox.sendAs,
          imapEnabled: mailbox.imapEnabled,
          smtpAuthEnabled: mailbox.smtpAuthEnabled,
          tenantSmtpAuthEnabled: tenant ? !tenant.smtpAuthDisabledByDefault : true,
        };
      },
      findUserByUpn: (upn) => userFacts(directory, directory.findUserByUpn(upn)),
      findUserById: (id) => userFacts(directory, directory.findUserById(id)),
      checkPassword: (userId, password) => directory.checkPassword(userId, password),
      exchangeServicePrincipal: (tenantId, appId) => directory.exchangeServicePrincipal(tenantId, appId),
      appRbacGrants: (tenantId, appId, permission, mailbox) =>
        appRbacGrants(directory.applicationRoleAssignments(tenantId), appId, [permission], mailbox),
    },
    clock,
  );
}

function userFacts(directory: DirectoryStore, user: Readonly<User> | undefined): UserFacts | undefined {
  if (!user) return undefined;
  return {
    id: user.id,
    tenantId: user.tenantId,
    upn: user.userPrincipalName,
    enabled: !user.disabled,
    mailbox: directory.mailboxOfUser(user.id)?.address,
  };
}
