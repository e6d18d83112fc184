/**
 * The doctor's checks of an account that reads or sends through Microsoft Graph — transport
 * `graph`, or `auto` once a direction switched — and, for `auto`, which transport each direction
 * uses now and why, and whether the grant would let a direction still on IMAP or SMTP switch.
 *
 * For Graph: the grant, a Graph token's audience, its scopes (delegated: Mail.ReadWrite and
 * Mail.Send, the `.Shared` forms for a shared mailbox) or roles (app-only: Mail.ReadWrite and
 * Mail.Send), the account's folder found through Graph as the sync finds it, and what can be known
 * of sending without sending: Graph has no dry run of `sendMail`, and Exchange checks Send As
 * only on a real message.
 *
 * An app-only token without the role is not the end of it: Exchange Online's RBAC for Applications
 * may grant the permission for this mailbox alone. Reading is then asked of Graph (the folder):
 * opened, the role comes from Exchange; refused (403 ErrorAccessDenied), neither Entra nor an RBAC
 * scope covers the mailbox, and the remedy names both ways. Sending cannot be tried, so it is a
 * warning with the same two ways.
 *
 * @see https://learn.microsoft.com/exchange/permissions-exo/application-rbac
 *
 * @see https://learn.microsoft.com/graph/permissions-reference#mail-permissions
 */
import { isPosternError } from '../../errors/index.js';
import { findGraphFolder } from '../../mail/graph/graph-folders.js';
import { CLOUDS } from '../../providers/microsoft/authority.js';
import type { Database, EmailAccountRecord, GrantRecord } from '../../store/index.js';
import type { AccountService } from '../accounts/account-service.js';
import {
  checkGraphPermission,
  mayBeGrantedByExchangeRbac,
  type GraphPermission,
  type MailDirection,
} from '../accounts/graph-access.js';
import { graphClientOf } from '../accounts/mailbox-connection.js';
import type { AccessTokenService } from '../identity/access-token-service.js';
import { failed, ok, skipped, warning, type Check } from './check.js';
import type { TokenClaims } from './token-claims.js';

export interface GraphCheckDeps {
  db: Database;
  accounts: AccountService;
  accessTokens: AccessTokenService;
}

/** Whether an account reads or sends through Graph now, or may switch to it (`auto`). */
export function involvesGraph(account: EmailAccountRecord): boolean {
  return account.modernAuth && account.transport !== 'imap_smtp';
}

/** IMAP/SMTP checks that speak for a direction that no longer uses them. */
const INBOUND_IMAP_CHECKS = new Set(['account.imap', 'account.connections']);
const OUTBOUND_SMTP_CHECKS = new Set(['account.smtp', 'account.send-as']);

/**
 * The checks of an account of transport `graph` or `auto`: the IMAP/SMTP checks (`imapSmtp`) for
 * the directions still on them, the Graph checks for those on Graph.
 */
export async function checkGraphAccount(
  account: EmailAccountRecord,
  deps: GraphCheckDeps,
  imapSmtp: () => Promise<Check[]>,
): Promise<Check[]> {
  const inbound = account.effective.inbound.via === 'graph';
  const outbound = account.effective.outbound.via === 'graph';
  const checks: Check[] = [];
  if (account.transport === 'auto') checks.push(transportCheck(account));
  if (!inbound || !outbound) {
    // The Exchange token's permissions are judged by the IMAP and SMTP checks themselves once one
    // direction reads or sends through Graph: the token need not carry both any more.
    const kept = (await imapSmtp()).filter(
      (check) =>
        !(inbound && INBOUND_IMAP_CHECKS.has(check.id)) &&
        !(outbound && OUTBOUND_SMTP_CHECKS.has(check.id)) &&
        !((inbound || outbound) && check.id === 'account.scopes'),
    );
    checks.push(...kept);
  } else if (!account.active) {
    checks.push(
      warning(
        'account.active',
        'Account enabled',
        'The account is disabled: no mail is read or sent.',
        'Enable the account when it should work.',
      ),
    );
  }
  if (!inbound && !outbound) {
    // `auto` on IMAP and SMTP: could each direction switch when Exchange refuses it?
    for (const direction of ['inbound', 'outbound'] as const) checks.push(await readiness(account, deps, direction));
    return checks;
  }
  let grant: GrantRecord;
  try {
    grant = await deps.accounts.grantFor(account);
  } catch (error) {
    return [...checks, asFailure('account.grant', 'Sign-in used', error)];
  }
  if (inbound && outbound)
    checks.push(
      ok(
        'account.grant',
        'Sign-in used',
        `The account signs in as ${grant.upn ?? 'the application'} (grant ${grant.id}, ${grant.state}).`,
      ),
    );
  const directions = [...(inbound ? ['inbound' as const] : []), ...(outbound ? ['outbound' as const] : [])];
  let claims: TokenClaims | null = null;
  for (const direction of directions) {
    const permission = await checkGraphPermission(deps, account, direction);
    const title = `Graph permission to ${direction === 'inbound' ? 'read' : 'send'}`;
    if (mayBeGrantedByExchangeRbac(permission)) {
      checks.push(await exchangeRbacCheck(account, deps, direction, title, permission));
      continue;
    }
    if (!permission.ok) {
      checks.push(asFailure(`account.graph-${direction}`, title, permission.error));
      continue;
    }
    claims = permission.claims;
    const carried = carriedPermissions(permission.claims, grant);
    checks.push(
      ok(
        `account.graph-${direction}`,
        title,
        `The Graph token of ${grant.upn ?? 'the application'} carries ${permission.need.name}${carried === null ? '' : ` (${carried})`}.`,
      ),
    );
    if (direction === 'outbound') checks.push(sendCheck(account, grant, permission.need.name));
  }
  const audience = audienceCheck(claims);
  if (audience !== null) checks.push(audience);
  if (inbound) checks.push(await folderCheck(account, deps));
  return checks;
}

/** Which transport each direction uses now, and why (transport `auto`). */
function transportCheck(account: EmailAccountRecord): Check {
  const { inbound, outbound } = account.effective;
  const line = (verb: string, via: typeof inbound | typeof outbound, start: string): string =>
    via.via === 'graph'
      ? `${verb} through Microsoft Graph since ${via.since ?? '?'}, because ${via.reason ?? 'Exchange refused ' + start}.`
      : `${verb} through ${start}.`;
  return ok(
    'account.transport',
    'Transport (Auto)',
    `${line('Reading', inbound, 'IMAP')} ${line('Sending', outbound, 'SMTP')}${
      inbound.via === 'graph' && outbound.via === 'graph'
        ? ''
        : ' A direction switches to Microsoft Graph by itself when Exchange disables IMAP or SMTP AUTH for the mailbox (or, for app-only access, refuses the app its sign-in) and Graph serves it.'
    }`,
  );
}

/** Whether a direction of an `auto` account still on IMAP or SMTP could switch to Graph. */
async function readiness(account: EmailAccountRecord, deps: GraphCheckDeps, direction: MailDirection): Promise<Check> {
  const id = `account.graph-${direction}`;
  const title = `Switch of ${direction === 'inbound' ? 'reading' : 'sending'} to Microsoft Graph`;
  const then = `Postern will then switch ${direction === 'inbound' ? 'reading' : 'sending'} to Microsoft Graph by itself when Exchange disables ${direction === 'inbound' ? 'IMAP' : 'SMTP AUTH'} for the mailbox`;
  const permission = await checkGraphPermission(deps, account, direction, then);
  if (mayBeGrantedByExchangeRbac(permission)) return rbacReadiness(account, deps, direction, id, title, permission);
  if (permission.ok)
    return ok(
      id,
      title,
      `The grant holds ${permission.need.name} for Microsoft Graph: should Exchange disable ${direction === 'inbound' ? 'IMAP' : 'SMTP AUTH'} for the mailbox, ${direction === 'inbound' ? 'reading' : 'sending'} switches to Graph by itself.`,
    );
  return warning(
    id,
    title,
    `${permission.error.message} Should Exchange disable ${direction === 'inbound' ? 'IMAP' : 'SMTP AUTH'} for the mailbox, Postern could not switch to Graph.`,
    permission.error.remedy ?? 'Authenticate the Cloud Provider again.',
  );
}

/**
 * Readiness of an app-only grant whose Graph token lacks the role: RBAC for Applications may grant
 * it for the mailbox. Reading is asked of Graph (the folder); sending cannot be tried without a
 * message, and Postern tries the message in hand when SMTP refuses it.
 */
async function rbacReadiness(
  account: EmailAccountRecord,
  deps: GraphCheckDeps,
  direction: MailDirection,
  id: string,
  title: string,
  permission: Extract<GraphPermission, { ok: false }> & { readonly need: { readonly name: string } },
): Promise<Check> {
  const name = permission.need.name;
  const remedy = permission.error.remedy ?? 'Authenticate the Cloud Provider again.';
  if (direction === 'outbound')
    return warning(
      id,
      title,
      `${permission.error.message} Exchange Online may still grant it for ${account.username} through RBAC for Applications (the role Application ${name} in a management scope covering the mailbox): should Exchange refuse SMTP AUTH, Postern tries the message in hand through Graph and switches sending once Graph accepts it.`,
      remedy,
    );
  try {
    const client = await graphClientOf(deps.db, deps.accounts, deps.accessTokens, account, { purpose: 'read' });
    await findGraphFolder(client, account.folder);
    return ok(
      id,
      title,
      `The Graph token of the application carries no ${name} role, but Graph lets the application read ${client.mailbox} (RBAC for Applications): should Exchange refuse IMAP, reading switches to Graph by itself.`,
    );
  } catch (error) {
    if (!isPosternError(error, 'GRAPH_ACCESS_DENIED')) return asFailure(id, title, error);
    return warning(
      id,
      title,
      `${permission.error.message} Microsoft Graph refused ${account.username} (403 ErrorAccessDenied): no RBAC for Applications role assignment covers the mailbox either, so Postern could not switch reading to Graph.`,
      remedy,
    );
  }
}

/** The Graph token's audience must be Microsoft Graph. */
function audienceCheck(claims: TokenClaims | null): Check | null {
  if (claims === null || claims.audience === null) return null;
  const title = 'Graph token audience';
  if (isGraphAudience(claims.audience))
    return ok('account.graph-audience', title, `The token is for ${claims.audience} (Microsoft Graph).`);
  return failed(
    'account.graph-audience',
    title,
    `The token is for ${claims.audience}, not Microsoft Graph.`,
    "Name Microsoft Graph's permissions (https://graph.microsoft.com/Mail.ReadWrite, …) in the Cloud Provider's scopes, not Exchange's, for Graph; then authenticate it again.",
    'AUTH_SCOPE_INVALID',
  );
}

/** Graph's audiences: its application id and each cloud's host. */
const GRAPH_AUDIENCES = new Set([
  '00000003-0000-0000-c000-000000000000',
  ...Object.values(CLOUDS).map((cloud) => cloud.graph.toLowerCase()),
]);

function isGraphAudience(audience: string): boolean {
  const normalized = audience.trim().toLowerCase();
  return GRAPH_AUDIENCES.has(normalized.endsWith('/') ? normalized.slice(0, -1) : normalized);
}

/** What Graph lets us know of sending without sending a message. */
function sendCheck(account: EmailAccountRecord, grant: GrantRecord, permission: string): Check {
  const title = 'Sending through Microsoft Graph';
  if (grant.upn !== null && grant.upn.toLowerCase() !== account.username.toLowerCase())
    return skipped(
      'account.graph-send-as',
      title,
      `The token allows ${permission}; Exchange checks that ${grant.upn} may send as ${account.username} (Send As) only when a message is sent, and Graph offers no trial send. A refusal ends as GRAPH_SEND_AS_DENIED with its remedy on the message and the account's timeline.`,
    );
  return ok(
    'account.graph-send-as',
    title,
    `The token allows ${permission}; ${account.username} sends as itself (Graph has no trial send: a refusal shows on the message with its remedy).`,
  );
}

/** The account's folder through Graph, found as the sync finds it. */
async function folderCheck(account: EmailAccountRecord, deps: GraphCheckDeps): Promise<Check> {
  const title = `Folder ${account.folder} through Microsoft Graph`;
  try {
    const client = await graphClientOf(deps.db, deps.accounts, deps.accessTokens, account, { purpose: 'read' });
    const folder = await findGraphFolder(client, account.folder);
    if (folder === undefined)
      return failed(
        'account.graph-folder',
        title,
        `The mailbox ${client.mailbox} has no folder "${account.folder}" in Microsoft Graph.`,
        "Correct the account's folder: a well-known name (Inbox, Junk Email, Archive) or the folder's path as Outlook shows it (Customers/Acme); or create the folder in the mailbox.",
        'GRAPH_FOLDER_NOT_FOUND',
      );
    return ok(
      'account.graph-folder',
      title,
      `Opened ${account.folder} of ${client.mailbox} through Microsoft Graph${folder.totalItemCount === undefined ? '' : `: ${folder.totalItemCount} message(s)`}.`,
    );
  } catch (error) {
    return asFailure('account.graph-folder', title, error);
  }
}

/**
 * An app-only token without the role a direction needs: whether Exchange grants it for the mailbox
 * through RBAC for Applications — asked of Graph for reading, told as a warning for sending.
 */
async function exchangeRbacCheck(
  account: EmailAccountRecord,
  deps: GraphCheckDeps,
  direction: MailDirection,
  title: string,
  permission: Extract<GraphPermission, { ok: false }>,
): Promise<Check> {
  const id = `account.graph-${direction}`;
  const name = permission.need?.name ?? (direction === 'inbound' ? 'Mail.ReadWrite' : 'Mail.Send');
  const remedy =
    permission.error.remedy ??
    `Add the application permission ${name} to the app registration and grant admin consent, or assign it to the app for the mailbox with RBAC for Applications.`;
  if (direction === 'outbound')
    return warning(
      id,
      title,
      `${permission.error.message} Exchange Online may still grant it for ${account.username} through RBAC for Applications (the role Application ${name} in a management scope covering the mailbox); Graph has no trial send, so a refusal shows on the first message sent, as GRAPH_ACCESS_DENIED with its remedy.`,
      remedy,
    );
  try {
    const client = await graphClientOf(deps.db, deps.accounts, deps.accessTokens, account, { purpose: 'read' });
    await findGraphFolder(client, account.folder);
    return ok(
      id,
      title,
      `The Graph token of the application carries no ${name} role, but Graph lets the application read ${client.mailbox}: Exchange Online grants it through RBAC for Applications (the after-fetch actions — mark read, move, delete — need the role Application ${name}, not only Application Mail.Read).`,
    );
  } catch (error) {
    if (!isPosternError(error, 'GRAPH_ACCESS_DENIED')) return asFailure(id, title, error);
    return failed(
      id,
      title,
      `${permission.error.message} Microsoft Graph refused ${account.username} (403 ErrorAccessDenied): no RBAC for Applications role assignment covers the mailbox either.`,
      remedy,
      'GRAPH_ACCESS_DENIED',
    );
  }
}

/** The token's permission names, for the evidence. */
function carriedPermissions(claims: TokenClaims | null, grant: GrantRecord): string | null {
  if (claims === null) return null;
  const names = grant.upn === null ? claims.roles : claims.scopes;
  return names.length === 0 ? null : `${grant.upn === null ? 'roles' : 'scopes'}: ${names.join(', ')}`;
}

function asFailure(id: string, title: string, error: unknown): Check {
  if (isPosternError(error)) {
    const aadsts = typeof error.details?.aadsts === 'string' ? ` (${error.details.aadsts})` : '';
    return failed(id, title, `${error.message}${aadsts}`, error.remedy, error.code);
  }
  return failed(id, title, error instanceof Error ? error.message : String(error), undefined, 'INTERNAL');
}
