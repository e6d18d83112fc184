/**
 * Whether an account's sign-in may reach its mailbox through Microsoft Graph, per direction, read
 * from what a Graph access token of the grant actually carries (`scp` for a user's sign-in,
 * `roles` for app-only access) — the connection test, the doctor and transport `auto` ask here.
 *
 * - Reading needs `Mail.ReadWrite` (the after-fetch actions write: mark read, move, delete), sending
 *   `Mail.Send`; a shared mailbox reached with its delegate's sign-in needs the `.Shared` forms.
 * - App-only access needs the application permissions (roles) `Mail.ReadWrite` and `Mail.Send`, or
 *   Exchange Online's RBAC for Applications: a role assignment (`Application Mail.ReadWrite`,
 *   `Application Mail.Send`) whose management scope covers the mailbox grants the permission for
 *   that mailbox without any role in the token. A token without the role is therefore not the last
 *   word for app-only access (`mayBeGrantedByExchangeRbac`): only Graph's answer for the mailbox is.
 *
 * A delegated sign-in is asked for a Graph token only when the Cloud Provider's scopes name the
 * permission: Entra answers a refresh for a resource never consented to with AADSTS65001, which
 * the token service treats as a sign-in to redo — a question must not break a working grant.
 *
 * @see https://learn.microsoft.com/graph/permissions-reference#mail-permissions
 */
import { PosternError, isPosternError } from '../../errors/index.js';
import { endpointsOf, isGraphScope } from '../../providers/microsoft/authority.js';
import { requireProvider, type Database, type EmailAccountRecord, type GrantRecord } from '../../store/index.js';
import { readTokenClaims, shortNames, type TokenClaims } from '../doctor/token-claims.js';
import type { AccessTokenService } from '../identity/access-token-service.js';
import type { AccountService } from './account-service.js';

/** Reading (inbound) or sending (outbound). */
export type MailDirection = 'inbound' | 'outbound';

/** The Graph permission a direction needs for an account's sign-in. */
export interface GraphPermissionNeed {
  /** `Mail.Send`, `Mail.Send.Shared`, `Mail.ReadWrite`, `Mail.ReadWrite.Shared`. */
  readonly name: string;
  /** A delegated permission (scope) or an application permission (role). */
  readonly kind: 'delegated' | 'application';
  /** Who signs in: the delegate's UPN, or null for the application. */
  readonly signedIn: string | null;
}

/** What a Graph token of the grant says about a direction. */
export type GraphPermission =
  | {
      readonly ok: true;
      readonly need: GraphPermissionNeed;
      readonly claims: TokenClaims | null;
      readonly token: string;
    }
  | { readonly ok: false; readonly need: GraphPermissionNeed | null; readonly error: PosternError };

/** The permission a direction needs: the `.Shared` form when a delegate reaches another mailbox. */
export function graphPermissionNeed(
  account: EmailAccountRecord,
  grant: GrantRecord,
  direction: MailDirection,
): GraphPermissionNeed {
  const base = direction === 'outbound' ? 'Mail.Send' : 'Mail.ReadWrite';
  if (grant.upn === null) return { name: base, kind: 'application', signedIn: null };
  const own = [grant.upn, grant.email]
    .filter((address): address is string => address !== null)
    .some((address) => address.toLowerCase() === account.username.toLowerCase());
  return { name: own ? base : `${base}.Shared`, kind: 'delegated', signedIn: grant.upn };
}

/** Whether the permissions a token (or a provider's scopes) name include `need` (the `.Shared` form also serves one's own mailbox). */
function covers(present: Set<string>, need: GraphPermissionNeed): boolean {
  const name = need.name.toLowerCase();
  if (present.has(name)) return true;
  return need.kind === 'delegated' && !name.endsWith('.shared') && present.has(`${name}.shared`);
}

/**
 * The RBAC for Applications way to give an app `permission` on one mailbox, in Exchange Online
 * PowerShell (the app's service principal registered there first).
 */
export function exchangeRbacRemedy(permission: string, appId: string, mailbox: string): string {
  return `in Exchange Online PowerShell, assign the role to the app for the mailbox with RBAC for Applications: New-ServicePrincipal -AppId ${appId} (once), a management scope whose recipient filter includes ${mailbox} (New-ManagementScope -RecipientRestrictionFilter …), and New-ManagementRoleAssignment -App ${appId} -Role 'Application ${permission}' -CustomResourceScope <that scope>`;
}

/** What to do when the grant lacks `need`, and what Postern then does by itself (`then`). */
export function permissionRemedy(
  need: GraphPermissionNeed,
  graphHost: string,
  then: string,
  app?: { readonly appId: string; readonly mailbox: string },
): string {
  if (need.kind === 'application')
    return `Add the application permission ${need.name} (API permissions → Microsoft Graph → Application permissions) to the app registration and grant admin consent${app === undefined ? '' : `; or, to reach only some mailboxes, ${exchangeRbacRemedy(need.name, app.appId, app.mailbox)}`}${then.length === 0 ? '' : `: ${then}`}.`;
  return `Add the delegated permission ${need.name} (API permissions → Microsoft Graph → Delegated permissions) to the app registration, add ${graphHost}/${need.name} to the Cloud Provider's scopes, and authenticate the Cloud Provider again as ${need.signedIn ?? 'the delegate'}${then.length === 0 ? '' : `: ${then}`}.`;
}

/** Reads the grant's Graph permission for one direction; never throws for a missing permission. */
export async function checkGraphPermission(
  deps: { db: Database; accounts: AccountService; accessTokens: AccessTokenService },
  account: EmailAccountRecord,
  direction: MailDirection,
  then = '',
): Promise<GraphPermission> {
  if (!account.modernAuth || account.providerId === null) {
    return {
      ok: false,
      need: null,
      error: new PosternError('GRAPH_PERMISSION_MISSING', {
        message: `Email account ${account.key} does not use Modern Authentication: Microsoft Graph reaches only Microsoft 365 mailboxes.`,
        remedy: 'Turn Modern Authentication on and choose a Cloud Provider.',
      }),
    };
  }
  let grant: GrantRecord;
  try {
    grant = await deps.accounts.grantFor(account);
  } catch (error) {
    return { ok: false, need: null, error: asPosternError(error) };
  }
  const need = graphPermissionNeed(account, grant, direction);
  const provider = await requireProvider(deps.db, account.providerId);
  const endpoints = endpointsOf(provider);
  const missing = (evidence: string): GraphPermission => ({
    ok: false,
    need,
    error: new PosternError('GRAPH_PERMISSION_MISSING', {
      message: `${evidence} To ${direction === 'outbound' ? 'send' : 'read'} through Microsoft Graph it needs the ${need.kind} permission ${need.name}.`,
      remedy: permissionRemedy(need, endpoints.graph, then, {
        appId: provider.applicationId,
        mailbox: account.username,
      }),
      details: { permission: need.name, kind: need.kind, direction },
    }),
  });
  if (need.kind === 'delegated') {
    const asked = shortNames(provider.scopes.filter((scope) => isGraphScope(scope, endpoints)));
    if (!covers(asked, need))
      return missing(
        `Cloud Provider "${provider.name}" asks for ${asked.size === 0 ? 'no Microsoft Graph permission' : `the Graph permissions ${[...asked].join(', ')}`}.`,
      );
  }
  let token: string;
  try {
    token = (await deps.accessTokens.accessToken(grant.id, 'graph')).token;
  } catch (error) {
    return { ok: false, need, error: asPosternError(error) };
  }
  const claims = readTokenClaims(token);
  // A token that is not a readable JWT cannot be judged here; Graph itself will say.
  if (claims === null) return { ok: true, need, claims, token };
  const present = shortNames(need.kind === 'application' ? claims.roles : claims.scopes);
  if (!covers(present, need))
    return missing(
      `The Graph token of ${need.signedIn ?? 'the application'} carries ${present.size === 0 ? 'no mail permission' : [...present].join(', ')}.`,
    );
  return { ok: true, need, claims, token };
}

/**
 * Whether a refusal only says that an app-only token lacks the role: Exchange's RBAC for
 * Applications may still grant the permission for the mailbox, so Graph itself must be asked.
 */
export function mayBeGrantedByExchangeRbac(
  permission: GraphPermission,
): permission is Extract<GraphPermission, { ok: false }> & { readonly need: GraphPermissionNeed } {
  return (
    !permission.ok &&
    permission.need?.kind === 'application' &&
    isPosternError(permission.error, 'GRAPH_PERMISSION_MISSING')
  );
}

function asPosternError(error: unknown): PosternError {
  return isPosternError(error) ? error : new PosternError('INTERNAL', { cause: error });
}
