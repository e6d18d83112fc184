import { isPosternError } from '../../errors/index.js';
import { listEvents, type Database, type EmailAccountRecord, type GrantRecord } from '../../store/index.js';
import type { AccessTokenService } from '../identity/access-token-service.js';
import type { AccountService } from '../accounts/account-service.js';
import { imapEndpointOf, type ImapEndpoint } from '../accounts/mailbox-connection.js';
import { failed, ok, skipped, warning, type Check } from './check.js';
import { checkGraphAccount, involvesGraph } from './graph-checks.js';
import { probeImap } from './imap-probe.js';
import { isExchangeAudience, readTokenClaims, shortNames, type TokenClaims } from './token-claims.js';

export interface AccountCheckDeps {
  db: Database;
  accounts: AccountService;
  accessTokens: AccessTokenService;
  now: () => Date;
  /** Extra checks (SMTP) added by the outbound side. */
  extra?: (account: EmailAccountRecord, context: AccountCheckContext) => Promise<Check[]>;
}

/** What a caller allows the checks to do beyond looking. */
export interface CheckOptions {
  /**
   * Submit a test message to check Send As for a shared mailbox (Exchange checks it only on
   * submission). Off unless a person asks: it puts a message in the delegate's mailbox.
   */
  readonly sendTest: boolean;
}

/** What the identity checks learned, for later checks. */
export interface AccountCheckContext extends CheckOptions {
  grant: GrantRecord;
  token: string;
  claims: TokenClaims | null;
  endpoint: ImapEndpoint;
}

/** The mailbox connection cap Exchange applies (reported 16). */
const EXCHANGE_CONNECTION_CAP = 16;

/**
 * The guide's "authenticated but not connected" checklist and its other cases, run against one
 * account: the sign-in it uses, the scopes actually present in its access token, the token's user
 * against the account, IMAP sign-in and folder, connection count, recent failures.
 */
export async function checkAccount(
  account: EmailAccountRecord,
  deps: AccountCheckDeps,
  options: CheckOptions = { sendTest: false },
): Promise<Check[]> {
  // Transport `graph`, or `auto` (IMAP and SMTP until a direction switches to Graph): graph-checks.ts.
  if (involvesGraph(account))
    return checkGraphAccount(account, deps, () => checkImapSmtpAccount(account, deps, options));
  return checkImapSmtpAccount(account, deps, options);
}

async function checkImapSmtpAccount(
  account: EmailAccountRecord,
  deps: AccountCheckDeps,
  options: CheckOptions,
): Promise<Check[]> {
  const checks: Check[] = [];
  if (!account.active)
    checks.push(
      warning(
        'account.active',
        'Account enabled',
        'The account is disabled: no mail is read or sent.',
        'Enable the account when it should work.',
      ),
    );
  if (!account.modernAuth) return [...checks, ...(await checkPasswordAccount(account, deps))];
  let grant: GrantRecord;
  let endpoint: ImapEndpoint;
  try {
    grant = await deps.accounts.grantFor(account);
    endpoint = await imapEndpointOf(deps.db, deps.accounts, deps.accessTokens, account);
    checks.push(
      ok(
        'account.grant',
        'Sign-in used',
        `The account signs in as ${grant.upn ?? 'the application'} (grant ${grant.id}, ${grant.state}).`,
      ),
    );
  } catch (error) {
    checks.push(asFailure('account.grant', 'Sign-in used', error));
    return checks;
  }
  let token: string;
  try {
    await deps.accessTokens.refreshNow(grant.id, 'exchange');
    token = (await deps.accessTokens.accessToken(grant.id, 'exchange')).token;
  } catch (error) {
    checks.push(asFailure('account.token', 'Exchange access token', error));
    return checks;
  }
  const claims = readTokenClaims(token);
  checks.push(checkScopes(claims, grant));
  checks.push(checkTokenUser(claims, grant, account));
  checks.push(...(await checkImap(account, endpoint, token, claims, grant)));
  if (deps.extra !== undefined)
    checks.push(...(await deps.extra(account, { grant, token, claims, endpoint, sendTest: options.sendTest })));
  checks.push(await checkConnections(account, deps));
  checks.push(await checkRecentFailures(account, deps));
  return checks;
}

function asFailure(id: string, title: string, error: unknown): Check {
  if (isPosternError(error)) {
    const aadsts = typeof error.details?.aadsts === 'string' ? ` (${error.details.aadsts})` : '';
    return failed(id, title, `${error.message}${aadsts}`, error.remedy, error.code);
  }
  return failed(id, title, error instanceof Error ? error.message : String(error), undefined, 'INTERNAL');
}

function checkScopes(claims: TokenClaims | null, grant: GrantRecord): Check {
  const title = 'Permissions in the access token';
  if (claims === null)
    return skipped(
      'account.scopes',
      title,
      'The access token is not a readable JWT; its permissions cannot be listed.',
    );
  const appOnly = grant.upn === null;
  const present = shortNames(appOnly ? claims.roles : claims.scopes);
  if (appOnly && claims.roles.length === 0 && (claims.audience === null || isExchangeAudience(claims.audience))) {
    return failed(
      'account.scopes',
      title,
      'The app-only token carries no application permission (no roles): admin consent has not been granted for the tenant.',
      "Add the application permissions IMAP.AccessAsApp and SMTP.SendAsApp (API permissions → Office 365 Exchange Online → Application permissions) to the app registration, then open the Cloud Provider's admin consent link (Actions → Admin consent link) and have a tenant administrator accept it.",
      'AUTH_APP_ROLES_MISSING',
    );
  }
  const needed = appOnly ? ['IMAP.AccessAsApp', 'SMTP.SendAsApp'] : ['IMAP.AccessAsUser.All', 'SMTP.Send'];
  const missing = needed.filter((name) => !present.has(name.toLowerCase()));
  const list = [...present].join(', ') || 'none';
  if (claims.audience !== null && !isExchangeAudience(claims.audience)) {
    return failed(
      'account.scopes',
      title,
      `The token is for ${claims.audience}, not Exchange Online.`,
      'Request the https://outlook.office.com/ scopes (IMAP.AccessAsUser.All, SMTP.Send) rather than Graph ones for IMAP and SMTP.',
      'AUTH_SCOPE_INVALID',
    );
  }
  if (appOnly && missing.length === 1 && missing[0] === 'SMTP.SendAsApp') {
    // RBAC for Applications may grant SMTP.SendAsApp for this mailbox alone, with no role in the
    // token: only Exchange's answer to SMTP AUTH (the SMTP check) tells.
    return warning(
      'account.scopes',
      title,
      `The app-only token carries ${list}; it lacks SMTP.SendAsApp, which Exchange Online may still grant for the mailbox through RBAC for Applications (the role Application SMTP.SendAsApp in a management scope covering it): the SMTP AUTH check tells.`,
      "Add SMTP.SendAsApp to the app registration (API permissions → Office 365 Exchange Online → Application permissions) and have a tenant administrator accept the Cloud Provider's admin consent link again; or, in Exchange Online PowerShell, New-ManagementRoleAssignment -App <application id> -Role 'Application SMTP.SendAsApp' -CustomResourceScope <a management scope whose recipient filter includes the mailbox>.",
    );
  }
  if (missing.length > 0 && appOnly) {
    return failed(
      'account.scopes',
      title,
      `The app-only token carries ${list}; it lacks ${missing.join(' and ')}.`,
      `Add ${missing.join(' and ')} to the app registration (API permissions → Office 365 Exchange Online → Application permissions), then open the Cloud Provider's admin consent link and have a tenant administrator accept it again.`,
      'AUTH_APP_ROLES_MISSING',
    );
  }
  if (missing.length > 0) {
    const where = appOnly
      ? 'Application permissions under "Office 365 Exchange Online", then Grant admin consent'
      : 'Microsoft Graph → Delegated permissions (or have the user consent again)';
    return failed(
      'account.scopes',
      title,
      `The token carries ${list}; it lacks ${missing.join(' and ')}.`,
      `In the Azure portal, API permissions, add ${missing.join(' and ')} (${where}); then authenticate the Cloud Provider again.`,
      'AUTH_CONSENT_REQUIRED',
    );
  }
  return ok('account.scopes', title, `The token carries ${list}.`);
}

function checkTokenUser(claims: TokenClaims | null, grant: GrantRecord, account: EmailAccountRecord): Check {
  const title = 'Token user';
  if (grant.upn === null)
    return ok('account.identity', title, `App-only token; it opens ${account.username} as the application.`);
  const expected = (account.modernAuthEmail ?? account.username).toLowerCase();
  const user = (claims?.user ?? grant.upn).toLowerCase();
  const known = [grant.upn, grant.email].filter((a): a is string => a !== null).map((a) => a.toLowerCase());
  if (!known.includes(expected) && user !== expected) {
    return failed(
      'account.identity',
      title,
      `The token belongs to ${user}, but the account signs in as ${expected}.`,
      `Authenticate the provider signed in as ${expected}, or correct the Modern Authentication Email.`,
    );
  }
  const shared = account.username.toLowerCase() !== expected;
  return ok(
    'account.identity',
    title,
    shared
      ? `The token belongs to ${user}, the delegate of the shared mailbox ${account.username}.`
      : `The token belongs to ${user}, the mailbox's user.`,
  );
}

/** An account on another server, signing in with a password: the sign-in and the folder. */
async function checkPasswordAccount(account: EmailAccountRecord, deps: AccountCheckDeps): Promise<Check[]> {
  const title = `IMAP sign-in and folder ${account.folder}`;
  let endpoint: ImapEndpoint;
  let password: string;
  try {
    endpoint = await imapEndpointOf(deps.db, deps.accounts, deps.accessTokens, account);
    password = endpoint.password === undefined ? '' : await endpoint.password();
  } catch (error) {
    return [asFailure('account.imap', title, error)];
  }
  const probe = await probeImap(
    { host: endpoint.host, port: endpoint.port, tls: endpoint.tls, user: endpoint.user, password },
    account.folder,
  );
  const imap = probe.ok
    ? ok(
        'account.imap',
        title,
        `Signed in to ${endpoint.host}:${endpoint.port} as ${endpoint.user} with a password; ${account.folder} holds ${probe.messages} message(s).`,
      )
    : failed('account.imap', title, probe.error.message, probe.error.remedy, probe.error.code);
  return [
    imap,
    skipped(
      'account.microsoft',
      'Microsoft 365 checks',
      'The account does not use Modern Authentication: no Cloud Provider, token or Exchange permission to check. Sending is checked when a reply is submitted.',
    ),
  ];
}

async function checkImap(
  account: EmailAccountRecord,
  endpoint: ImapEndpoint,
  token: string,
  claims: TokenClaims | null,
  grant: GrantRecord,
): Promise<Check[]> {
  const title = `IMAP sign-in and folder ${account.folder}`;
  const appOnly = grant.upn === null;
  const target = { host: endpoint.host, port: endpoint.port, tls: endpoint.tls, user: endpoint.user, token, appOnly };
  const probe = await probeImap(target, account.folder);
  if (probe.ok)
    return [
      ok(
        'account.imap',
        title,
        `Signed in to ${endpoint.host}:${endpoint.port} as ${endpoint.user} with XOAUTH2; ${account.folder} holds ${probe.messages} message(s).`,
      ),
    ];
  const error = probe.error;
  if (appOnly) return [appOnlyImapFailure(account, error, claims, title)];
  if (error.code !== 'IMAP_NOT_CONNECTED')
    return [failed('account.imap', title, error.message, error.remedy, error.code)];
  // "User is authenticated but not connected": tell its causes apart.
  const delegate = grant.upn ?? claims?.user ?? null;
  if (delegate !== null && delegate.toLowerCase() !== account.username.toLowerCase()) {
    const own = await probeImap({ ...target, user: delegate }, 'INBOX');
    if (own.ok) {
      return [
        failed(
          'account.imap',
          title,
          `Exchange accepted ${delegate}'s token but did not open ${account.username} (User is authenticated but not connected), while ${delegate}'s own mailbox opens.`,
          `Give ${delegate} FullAccess on the shared mailbox ${account.username} (Add-MailboxPermission -Identity ${account.username} -User ${delegate} -AccessRights FullAccess), or check that IMAP is enabled for ${account.username} (Set-CASMailbox -ImapEnabled $true).`,
          'IMAP_NOT_CONNECTED',
        ),
      ];
    }
  }
  return [
    failed(
      'account.imap',
      title,
      `Exchange accepted the token for ${account.username} but did not open the mailbox (User is authenticated but not connected).`,
      `IMAP is disabled for ${account.username}, or it has no Exchange Online license: enable it with Set-CASMailbox -Identity ${account.username} -ImapEnabled $true, and check the license in the Microsoft 365 admin center.`,
      'IMAP_NOT_CONNECTED',
    ),
  ];
}

/**
 * An app-only IMAP sign-in that failed, explained with what the token says: `NO AUTHENTICATE
 * failed.` with the role present means Exchange does not know the app's service principal (or
 * knows it under another object id); "not connected" means it has no FullAccess on the mailbox.
 * The remedy names the app id and the Enterprise application's object id from the token itself.
 *
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth#register-service-principals-in-exchange
 */
function appOnlyImapFailure(
  account: EmailAccountRecord,
  error: { code: string; message: string; remedy?: string | undefined },
  claims: TokenClaims | null,
  title: string,
): Check {
  const appId = claims?.appId ?? '<application id>';
  const objectId = claims?.objectId ?? '<enterprise application object id>';
  const hasRole = claims !== null && shortNames(claims.roles).has('imap.accessasapp');
  if ((error.code === 'IMAP_APP_NOT_REGISTERED' || error.code === 'IMAP_AUTH_FAILED') && !hasRole) {
    return failed(
      'account.imap',
      title,
      `Exchange refused the app-only token for ${account.username} (NO AUTHENTICATE failed.): it does not carry IMAP.AccessAsApp.`,
      "Add IMAP.AccessAsApp (API permissions → Office 365 Exchange Online → Application permissions) to the app registration, then open the Cloud Provider's admin consent link and have a tenant administrator accept it.",
      'AUTH_APP_ROLES_MISSING',
    );
  }
  if (error.code === 'IMAP_APP_NOT_REGISTERED' || error.code === 'IMAP_AUTH_FAILED') {
    return failed(
      'account.imap',
      title,
      `Exchange refused the app-only token for ${account.username} (NO AUTHENTICATE failed.) although it carries IMAP.AccessAsApp: the service principal of app ${appId} is not registered in Exchange Online, or is registered with another object id than ${objectId} (the Enterprise application's).`,
      `In Exchange Online PowerShell: New-ServicePrincipal -AppId ${appId} -ObjectId ${objectId} (if one exists with another object id, Remove-ServicePrincipal it first); then Add-MailboxPermission -Identity ${account.username} -User ${objectId} -AccessRights FullAccess.`,
      'IMAP_APP_NOT_REGISTERED',
    );
  }
  if (error.code === 'IMAP_NOT_CONNECTED') {
    return failed(
      'account.imap',
      title,
      `Exchange accepted the app-only token but did not open ${account.username} (User is authenticated but not connected): the app's service principal has no FullAccess on it, or IMAP is disabled for the mailbox.`,
      `Add-MailboxPermission -Identity ${account.username} -User ${objectId} -AccessRights FullAccess; check Set-CASMailbox -Identity ${account.username} -ImapEnabled $true.`,
      'IMAP_NOT_CONNECTED',
    );
  }
  return failed('account.imap', title, error.message, error.remedy, error.code);
}

async function checkConnections(account: EmailAccountRecord, deps: AccountCheckDeps): Promise<Check> {
  const sameMailbox = (await deps.accounts.list()).filter(
    (view) => view.account.active && view.account.username.toLowerCase() === account.username.toLowerCase(),
  );
  const count = sameMailbox.length;
  const evidence = `Postern keeps ${count} IMAP connection(s) to ${account.username}; Exchange allows about ${EXCHANGE_CONNECTION_CAP} per mailbox, shared with every other client (Outlook, phones).`;
  if (count >= EXCHANGE_CONNECTION_CAP / 2)
    return warning(
      'account.connections',
      'Connections to the mailbox',
      evidence,
      'Use fewer accounts on the same mailbox, or close other clients: over the limit Exchange answers "authenticated but not connected".',
    );
  return ok('account.connections', 'Connections to the mailbox', evidence);
}

async function checkRecentFailures(account: EmailAccountRecord, deps: AccountCheckDeps): Promise<Check> {
  const since = new Date(deps.now().getTime() - 86_400_000);
  const page = await listEvents(deps.db, { scope: 'account', scopeId: account.id, levels: ['error'], since, limit: 5 });
  if (page.items.length === 0) return ok('account.recent', 'Failures in the last 24 hours', 'None.');
  const lines = page.items.map((event) => `${event.createdAt.slice(0, 16).replace('T', ' ')} ${event.message}`);
  return warning(
    'account.recent',
    'Failures in the last 24 hours',
    lines.join(' | '),
    "See the account's timeline for each failure and its remedy.",
  );
}
