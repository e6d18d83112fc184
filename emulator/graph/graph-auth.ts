/**
 * Who calls the emulated Graph and what they may do, from the bearer token (synchronous
 * introspection by the identity half) and the directory:
 *
 * - the token must be a Graph token: an Exchange-audience token is refused with
 *   `401 InvalidAuthenticationToken` "Access token validation failure. Invalid audience.";
 * - `/me` needs a delegated token (app-only: `400` "/me request is only valid with delegated
 *   authentication flow."); `/users/{id | upn}` names a user or a shared mailbox of the token's tenant;
 * - delegated tokens need `Mail.Read` / `Mail.ReadWrite` / `Mail.Send` on the user's own mailbox,
 *   and the `.Shared` variants plus FullAccess on anyone else's (a shared mailbox);
 * - app-only tokens need the application role (`Mail.Read`, `Mail.ReadWrite`, `Mail.Send`), which
 *   covers every mailbox of the tenant unless application access policies limit the app
 *   (`403 ErrorAccessDenied` "Access to OData is disabled." outside their scope); or, without the
 *   role, an RBAC for Applications assignment (`Application Mail.ReadWrite`, …) whose management
 *   scope covers the mailbox (`../exchange/app-rbac.ts`); neither: `403 ErrorAccessDenied`
 *   "Access is denied. Check credentials and try again.". The two grants add up, and access
 *   policies limit only the Entra role.
 *
 * @see ../../../shared/reference/microsoft-protocols.md §2, §6, §8
 * @see https://learn.microsoft.com/graph/outlook-share-messages-folders
 * @see https://learn.microsoft.com/graph/permissions-reference#mail-permissions
 */
import type { DirectoryStore } from '../directory/directory-store.js';
import type { Mailbox, User } from '../directory/model.js';
import type { IntrospectAccessToken } from '../identity/introspect.js';
import { appRbacGrants } from '../exchange/app-rbac.js';
import { graphErrors } from './graph-errors.js';

/** The caller: a signed-in user through an app (delegated), or an app alone. */
export type GraphPrincipal =
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly upn: string;
      readonly tenantId: string;
      readonly appId: string;
      readonly scopes: ReadonlySet<string>;
    }
  | { readonly kind: 'app'; readonly appId: string; readonly tenantId: string; readonly roles: ReadonlySet<string> };

/** The `/me` or `/users/{ref}` part of a request path. */
export type GraphTarget = { readonly kind: 'me' } | { readonly kind: 'user'; readonly ref: string };

/** The mailbox (and directory user, if any) a request addresses. */
export interface ResolvedTarget {
  readonly mailbox: Readonly<Mailbox> | undefined;
  readonly user: Readonly<User> | undefined;
  /** The mail store key: the mailbox's primary address, lower-cased. */
  readonly address: string | undefined;
  /** The principal's own mailbox (delegated, owner). */
  readonly own: boolean;
}

/** What an operation needs. */
export type GraphRight = 'read' | 'write' | 'send' | 'profile';

const lower = (values: readonly string[]): Set<string> =>
  new Set(values.map((v) => v.slice(v.lastIndexOf('/') + 1).toLowerCase()));

/** Delegated scopes that grant each right on the user's own mailbox / on another's. */
const DELEGATED: Record<GraphRight, { own: readonly string[]; other: readonly string[] }> = {
  read: {
    own: ['mail.read', 'mail.readwrite', 'mail.read.shared', 'mail.readwrite.shared'],
    other: ['mail.read.shared', 'mail.readwrite.shared'],
  },
  write: { own: ['mail.readwrite', 'mail.readwrite.shared'], other: ['mail.readwrite.shared'] },
  send: { own: ['mail.send', 'mail.send.shared'], other: ['mail.send.shared'] },
  profile: {
    own: ['user.read', 'user.readbasic.all', 'user.read.all'],
    other: ['user.readbasic.all', 'user.read.all'],
  },
};

/** Application roles that grant each right on any mailbox of the tenant. */
const APPLICATION: Record<GraphRight, readonly string[]> = {
  read: ['mail.read', 'mail.readwrite'],
  write: ['mail.readwrite'],
  send: ['mail.send'],
  profile: ['user.read.all', 'user.readbasic.all'],
};

/** Reads and validates the bearer token; throws the 401 replies Graph gives. */
export function authenticate(authorization: string | undefined, introspect: IntrospectAccessToken): GraphPrincipal {
  const match = /^bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (match?.[1] === undefined) throw graphErrors.emptyToken();
  const facts = introspect(match[1]);
  if (!facts.valid) {
    if (facts.reason === 'malformed') throw graphErrors.malformedToken();
    if (facts.reason === 'expired') throw graphErrors.expiredToken();
    throw graphErrors.invalidToken();
  }
  if (facts.audience !== 'graph') throw graphErrors.invalidAudience();
  if (facts.userId !== undefined) {
    return {
      kind: 'user',
      userId: facts.userId,
      upn: facts.upn ?? facts.userId,
      tenantId: facts.tenantId,
      appId: facts.appId,
      scopes: lower(facts.scopes),
    };
  }
  return { kind: 'app', appId: facts.appId, tenantId: facts.tenantId, roles: lower(facts.roles) };
}

/** Resolves `/me` or `/users/{id | upn | shared mailbox address}` within the token's tenant. */
export function resolveTarget(
  principal: GraphPrincipal,
  target: GraphTarget,
  directory: DirectoryStore,
): ResolvedTarget {
  if (target.kind === 'me') {
    if (principal.kind === 'app') throw graphErrors.meWithAppOnly();
    const user = directory.findUserById(principal.userId);
    const mailbox = user === undefined ? undefined : directory.mailboxOfUser(user.id);
    return { user, mailbox, address: mailbox?.address.toLowerCase(), own: true };
  }
  const user = directory.findUserById(target.ref) ?? directory.findUserByUpn(target.ref);
  if (user !== undefined) {
    if (user.tenantId !== principal.tenantId)
      return { user: undefined, mailbox: undefined, address: undefined, own: false };
    const mailbox = directory.mailboxOfUser(user.id);
    return {
      user,
      mailbox,
      address: mailbox?.address.toLowerCase(),
      own: principal.kind === 'user' && principal.userId === user.id,
    };
  }
  const mailbox = directory.findMailbox(target.ref);
  // Graph addresses a user by id or UPN; a shared mailbox's user object has its address as UPN.
  if (
    mailbox === undefined ||
    mailbox.kind !== 'shared' ||
    mailbox.tenantId !== principal.tenantId ||
    mailbox.address.toLowerCase() !== target.ref.toLowerCase()
  ) {
    return { user: undefined, mailbox: undefined, address: undefined, own: false };
  }
  return { user: undefined, mailbox, address: mailbox.address.toLowerCase(), own: false };
}

/** Throws unless the principal holds `right` on the resolved target. */
export function requireRight(
  principal: GraphPrincipal,
  target: ResolvedTarget,
  right: GraphRight,
  directory: DirectoryStore,
): void {
  const denied = right === 'profile' ? graphErrors.insufficientPrivileges : graphErrors.accessDenied;
  if (principal.kind === 'app') {
    if (!APPLICATION[right].some((role) => principal.roles.has(role))) {
      if (
        right !== 'profile' &&
        target.address !== undefined &&
        appRbacGrants(
          directory.applicationRoleAssignments(principal.tenantId),
          principal.appId,
          APPLICATION[right],
          target.address,
        )
      )
        return;
      throw denied();
    }
    if (
      right !== 'profile' &&
      target.address !== undefined &&
      !directory.appMayAccessMailbox(principal.tenantId, principal.appId, target.address)
    )
      throw graphErrors.accessPolicyDenied();
    return;
  }
  const scopes = target.own ? DELEGATED[right].own : DELEGATED[right].other;
  if (!scopes.some((scope) => principal.scopes.has(scope))) throw denied();
  if (right === 'profile' || target.own) return;
  if (target.mailbox === undefined || !directory.hasFullAccess(principal.userId, target.mailbox)) throw denied();
}

/**
 * Whether the caller may send with `fromAddress` as From when submitting from `target`'s mailbox:
 * its own address (or an alias), or a mailbox it has Send As on (delegated: the signed-in user;
 * app-only: the mailbox's owner).
 */
export function maySendAs(
  principal: GraphPrincipal,
  target: ResolvedTarget,
  fromAddress: string,
  directory: DirectoryStore,
): boolean {
  const from = directory.findMailbox(fromAddress);
  if (from === undefined) return false;
  if (principal.kind === 'user') return directory.hasSendAs(principal.userId, from);
  if (target.mailbox !== undefined && from.address.toLowerCase() === target.mailbox.address.toLowerCase()) return true;
  return target.mailbox?.ownerUserId !== undefined && directory.hasSendAs(target.mailbox.ownerUserId, from);
}
