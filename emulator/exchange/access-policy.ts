/**
 * Exchange Online's authorization rules for IMAP and SMTP AUTH, as pure decisions over two kinds of
 * facts: what token introspection says about a bearer token, and what the directory says about a
 * mailbox. `createExchangeAccess` turns any source of those facts into an `ExchangeAccess`.
 *
 * Rules (reference §5–§7):
 * - The token must be an Exchange token (`aud` Outlook) carrying `IMAP.AccessAsUser.All` /
 *   `SMTP.Send` (delegated) or the `IMAP.AccessAsApp` / `SMTP.SendAsApp` role (app-only);
 *   otherwise IMAP answers `NO AUTHENTICATE failed.` and SMTP `535 5.7.3`.
 * - IMAP `user=` may name the token's own mailbox or one it has FullAccess to; a known mailbox
 *   without access, or with IMAP disabled, authenticates and then is "not connected".
 * - SMTP `user=` must be the token user's own mailbox: a shared mailbox as login gives `535 5.7.3`.
 *   SMTP AUTH disabled on the mailbox, or on the tenant with no mailbox override, gives `535 5.7.139`.
 * - A sender address other than the login's own needs SendAs on that mailbox.
 * - App-only tokens also need the app's service principal registered in Exchange Online
 *   (`New-ServicePrincipal`) with the object id the token carries (`oid`, the Enterprise
 *   application's): missing, or registered with another id (the app registration's), IMAP answers
 *   `NO AUTHENTICATE failed.` and SMTP `535 5.7.3`, as field reports show — not "not connected".
 * - RBAC for Applications (`app-rbac.ts`): an `Application SMTP.SendAsApp` role assignment whose
 *   management scope covers the login mailbox lets a registered app submit as it without the
 *   `SMTP.SendAsApp` role in its token and without FullAccess; outside the scope SMTP answers `535 5.7.3`.
 *
 * Passwords (only asked while the emulator's basic-authentication switch is on, see
 * `basic-auth.ts`; Exchange Online itself has basic authentication off): the login is a user's UPN
 * or an address (primary or alias) of that user's own mailbox, SASL PLAIN's authzid is empty or
 * the login, the password is the directory's, and the user is enabled and has a mailbox. Then the
 * session is that user's on their own mailbox, with no expiry; IMAP disabled on the mailbox
 * refuses, and SMTP AUTH settings apply as for XOAUTH2.
 *
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
 * @see https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission
 */
import type {
  ExchangeAccess,
  ExchangePrincipal,
  ImapAuthorization,
  PasswordCredentials,
  SendAsDecision,
  SmtpAuthorization,
  SubmissionIdentity,
} from './access.js';
import type { ExchangeClock } from './exchange-clock.js';
import type { XOAuth2Credentials } from './xoauth2.js';

/** What introspection of an access token tells (only valid tokens are described). */
export interface TokenFacts {
  readonly audience: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly tenantId: string;
  readonly appId: string;
  readonly userId?: string;
  readonly upn?: string;
  /** App-only tokens: the service principal's object id (`oid`). */
  readonly servicePrincipalId?: string;
  /** Expiry, ms since the epoch. */
  readonly expiresAt: number;
}

/** What the directory tells about a mailbox. */
export interface MailboxFacts {
  readonly address: string;
  readonly tenantId: string;
  readonly kind: 'user' | 'shared';
  readonly ownerUserId?: string;
  /** Object ids (users) or client ids (applications) with FullAccess. */
  readonly fullAccess: readonly string[];
  /** Object ids (users) or client ids (applications) with Send As. */
  readonly sendAs: readonly string[];
  readonly imapEnabled: boolean;
  /** `null`: follow the tenant default. */
  readonly smtpAuthEnabled: boolean | null;
  readonly tenantSmtpAuthEnabled: boolean;
}

/** What the directory tells about a user who signs in with a password (never the password itself). */
export interface UserFacts {
  readonly id: string;
  readonly tenantId: string;
  readonly upn: string;
  readonly enabled: boolean;
  /** Primary address of the user's own mailbox; absent for a user without one. */
  readonly mailbox?: string;
}

export interface AccessFacts {
  /** Facts about a valid token; `undefined` for an invalid, unknown or expired one. */
  introspect(token: string): Promise<TokenFacts | undefined>;
  /** The mailbox an address or alias names. */
  findMailbox(address: string): MailboxFacts | undefined;
  /** A user by user principal name (case-insensitive). */
  findUserByUpn(upn: string): UserFacts | undefined;
  /** A user by object id. */
  findUserById(id: string): UserFacts | undefined;
  /** Whether `password` is the user's directory password. */
  checkPassword(userId: string, password: string): boolean;
  /** The object id Exchange Online holds for an app's service principal in a tenant (`New-ServicePrincipal`). */
  exchangeServicePrincipal(tenantId: string, appId: string): { readonly objectId: string } | undefined;
  /**
   * Whether an RBAC for Applications role assignment gives the app `permission` (bare, lower-case:
   * `smtp.sendasapp`) on the mailbox (`app-rbac.ts`). Absent: no assignments.
   */
  appRbacGrants?(tenantId: string, appId: string, permission: string, mailbox: string): boolean;
}

/** The Exchange Online resource, by its audience values and application id. */
const EXCHANGE_AUDIENCES = new Set([
  'exchange',
  'https://outlook.office.com',
  'https://outlook.office365.com',
  'https://outlook.office.com/',
  'https://outlook.office365.com/',
  '00000002-0000-0ff1-ce00-000000000000',
]);

/** Builds the access decisions from a source of facts. */
export function createExchangeAccess(facts: AccessFacts, clock: ExchangeClock): ExchangeAccess {
  async function usableToken(token: string): Promise<TokenFacts | undefined> {
    const found = await facts.introspect(token);
    if (!found || !EXCHANGE_AUDIENCES.has(found.audience.toLowerCase()) || found.expiresAt <= clock.now())
      return undefined;
    return found;
  }

  return {
    async authorizeImap(credentials: XOAuth2Credentials): Promise<ImapAuthorization> {
      const token = await usableToken(credentials.token);
      if (!token) return { outcome: 'refused', reason: 'token is not a valid Exchange access token' };
      const principal = principalOf(token);
      if (!grants(token, principal, 'IMAP.AccessAsUser.All', 'IMAP.AccessAsApp')) {
        return { outcome: 'refused', reason: 'token carries neither IMAP.AccessAsUser.All nor IMAP.AccessAsApp' };
      }
      const unregistered = unregisteredApp(facts, token, principal);
      if (unregistered !== undefined) return { outcome: 'refused', reason: unregistered };
      const mailbox = facts.findMailbox(credentials.user);
      if (!mailbox || mailbox.tenantId !== token.tenantId)
        return { outcome: 'refused', reason: `no mailbox ${credentials.user} in the token's tenant` };
      if (!mayOpen(mailbox, principal)) {
        return {
          outcome: 'not-connected',
          reason: `${principal.name} has no FullAccess to ${mailbox.address}`,
          principal,
          expiresAt: token.expiresAt,
        };
      }
      if (!mailbox.imapEnabled) {
        return {
          outcome: 'not-connected',
          reason: `IMAP is disabled for ${mailbox.address}`,
          principal,
          expiresAt: token.expiresAt,
        };
      }
      return { outcome: 'connected', mailbox: mailbox.address, principal, expiresAt: token.expiresAt };
    },

    async authorizeSmtp(credentials: XOAuth2Credentials): Promise<SmtpAuthorization> {
      const token = await usableToken(credentials.token);
      if (!token) return { outcome: 'refused', reason: 'token is not a valid Exchange access token' };
      const principal = principalOf(token);
      const byRole = grants(token, principal, 'SMTP.Send', 'SMTP.SendAsApp');
      const mailbox = facts.findMailbox(credentials.user);
      const byRbac =
        principal.kind === 'app' &&
        mailbox !== undefined &&
        mailbox.tenantId === token.tenantId &&
        sendsAsAppByRbac(facts, principal, mailbox.address);
      if (!byRole && !byRbac) {
        return {
          outcome: 'refused',
          reason:
            'token carries neither SMTP.Send nor SMTP.SendAsApp, and no RBAC for Applications scope covers the mailbox',
        };
      }
      const unregistered = unregisteredApp(facts, token, principal);
      if (unregistered !== undefined) return { outcome: 'refused', reason: unregistered };
      if (!mailbox || mailbox.tenantId !== token.tenantId)
        return { outcome: 'refused', reason: `no mailbox ${credentials.user} in the token's tenant` };
      if (principal.kind === 'user' && mailbox.ownerUserId !== principal.id) {
        return { outcome: 'refused', reason: `${credentials.user} is not the mailbox of ${principal.name}` };
      }
      const disabled = smtpAuthDisabled(mailbox);
      if (disabled !== undefined) return { outcome: 'smtp-auth-disabled', scope: disabled };
      return { outcome: 'authenticated', mailbox: mailbox.address, principal, expiresAt: token.expiresAt };
    },

    authorizeImapPassword(credentials: PasswordCredentials): ImapAuthorization {
      const account = resolvePasswordLogin(facts, credentials);
      if (account.outcome === 'refused') return account;
      const { mailbox, principal } = account;
      if (!mailbox.imapEnabled) return { outcome: 'refused', reason: `IMAP is disabled for ${mailbox.address}` };
      return { outcome: 'connected', mailbox: mailbox.address, principal, expiresAt: Number.POSITIVE_INFINITY };
    },

    authorizeSmtpPassword(credentials: PasswordCredentials): SmtpAuthorization {
      const account = resolvePasswordLogin(facts, credentials);
      if (account.outcome === 'refused') return account;
      const { mailbox, principal } = account;
      const disabled = smtpAuthDisabled(mailbox);
      if (disabled !== undefined) return { outcome: 'smtp-auth-disabled', scope: disabled };
      return { outcome: 'authenticated', mailbox: mailbox.address, principal, expiresAt: Number.POSITIVE_INFINITY };
    },

    checkSendAs(identity: SubmissionIdentity, address: string): SendAsDecision {
      const login = facts.findMailbox(identity.mailbox);
      if (
        identity.principal.kind === 'app' &&
        (!login ||
          !(
            login.fullAccess.includes(identity.principal.id) ||
            sendsAsAppByRbac(facts, identity.principal, login.address)
          ))
      )
        return 'logon-failure';
      const target = facts.findMailbox(address);
      if (!target) return 'denied';
      if (target.address.toLowerCase() === identity.mailbox.toLowerCase()) return 'allowed';
      return target.sendAs.includes(identity.principal.id) ? 'allowed' : 'denied';
    },

    resolveMailbox(address: string): string | undefined {
      return facts.findMailbox(address)?.address.toLowerCase();
    },
  };
}

/** A password login resolved to its user and that user's own mailbox, or refused (reasons never carry the password). */
type PasswordAccount =
  | { readonly outcome: 'refused'; readonly reason: string }
  | { readonly outcome: 'account'; readonly principal: ExchangePrincipal; readonly mailbox: MailboxFacts };

/**
 * Basic authentication's account rules: the login names a user by UPN or by an address of the
 * user's own mailbox; authzid empty or the login (RFC 4616 §2: no proxy authorization here); the
 * directory password; an enabled user with a mailbox.
 */
function resolvePasswordLogin(facts: AccessFacts, credentials: PasswordCredentials): PasswordAccount {
  const login = credentials.user;
  const authzid = credentials.authzid ?? '';
  if (authzid !== '' && authzid.toLowerCase() !== login.toLowerCase())
    return { outcome: 'refused', reason: `authzid ${authzid} is not the login ${login}` };
  const user = facts.findUserByUpn(login) ?? ownerOf(facts, facts.findMailbox(login));
  if (!user) return { outcome: 'refused', reason: `${login} is neither a user nor a user's mailbox` };
  if (!facts.checkPassword(user.id, credentials.password))
    return { outcome: 'refused', reason: `wrong password for ${user.upn}` };
  if (!user.enabled) return { outcome: 'refused', reason: `${user.upn} is disabled` };
  const mailbox = user.mailbox === undefined ? undefined : facts.findMailbox(user.mailbox);
  if (!mailbox || mailbox.ownerUserId !== user.id) return { outcome: 'refused', reason: `${user.upn} has no mailbox` };
  return {
    outcome: 'account',
    principal: { kind: 'user', id: user.id, tenantId: user.tenantId, name: user.upn },
    mailbox,
  };
}

function ownerOf(facts: AccessFacts, mailbox: MailboxFacts | undefined): UserFacts | undefined {
  if (mailbox?.kind !== 'user' || mailbox.ownerUserId === undefined) return undefined;
  return facts.findUserById(mailbox.ownerUserId);
}

/** SMTP AUTH off for the mailbox, or (without a mailbox setting) for the tenant. */
function smtpAuthDisabled(mailbox: MailboxFacts): 'mailbox' | 'tenant' | undefined {
  if (mailbox.smtpAuthEnabled === false) return 'mailbox';
  if (mailbox.smtpAuthEnabled === null && !mailbox.tenantSmtpAuthEnabled) return 'tenant';
  return undefined;
}

function principalOf(token: TokenFacts): ExchangePrincipal {
  if (token.userId !== undefined && token.userId !== '') {
    return { kind: 'user', id: token.userId, tenantId: token.tenantId, name: token.upn ?? token.userId };
  }
  return { kind: 'app', id: token.appId, tenantId: token.tenantId, name: token.appId };
}

/** Delegated tokens need the scope, app-only tokens the role; `scp` values may carry the resource prefix. */
function grants(token: TokenFacts, principal: ExchangePrincipal, scope: string, role: string): boolean {
  const bare = (value: string): string => value.slice(value.lastIndexOf('/') + 1).toLowerCase();
  if (principal.kind === 'user') return token.scopes.some((s) => bare(s) === scope.toLowerCase());
  return token.roles.some((r) => bare(r) === role.toLowerCase());
}

/** Why an app-only principal is unknown to Exchange, or undefined when its service principal is registered rightly. */
function unregisteredApp(facts: AccessFacts, token: TokenFacts, principal: ExchangePrincipal): string | undefined {
  if (principal.kind !== 'app') return undefined;
  const registered = facts.exchangeServicePrincipal(token.tenantId, token.appId);
  if (registered === undefined) return `no service principal for app ${token.appId} in Exchange Online`;
  const oid = token.servicePrincipalId?.toLowerCase();
  if (oid === undefined || registered.objectId.toLowerCase() !== oid)
    return `service principal of app ${token.appId} registered with object id ${registered.objectId}, token oid ${oid ?? '(none)'}`;
  return undefined;
}

/** An `Application SMTP.SendAsApp` assignment of the app covers the mailbox. */
function sendsAsAppByRbac(facts: AccessFacts, principal: ExchangePrincipal, mailbox: string): boolean {
  return facts.appRbacGrants?.(principal.tenantId, principal.id, 'smtp.sendasapp', mailbox) ?? false;
}

function mayOpen(mailbox: MailboxFacts, principal: ExchangePrincipal): boolean {
  if (principal.kind === 'user' && mailbox.ownerUserId === principal.id) return true;
  return mailbox.fullAccess.includes(principal.id);
}
