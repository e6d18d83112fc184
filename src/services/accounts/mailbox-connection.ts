import type { ImapFlow } from 'imapflow';
import { PosternError, isPosternError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { PROBE_TIMEOUTS, createImapClient } from '../../mail/access/imap-client.js';
import { requireGraph, requireImap, resolveMailboxRoute, type MailboxRoute } from '../../mail/access/mailbox-route.js';
import { GraphClient, type GraphLogger } from '../../mail/graph/graph-client.js';
import { findGraphFolder } from '../../mail/graph/graph-folders.js';
import type { GraphPurpose } from '../../mail/graph/graph-errors.js';
import { loadCa } from '../../mail/access/tls-trust.js';
import { mapImapError } from '../../mail/imap/imap-errors.js';
import type { AccessToken } from '../../mail/imap/mailbox-sync.js';
import { endpointsOf } from '../../providers/microsoft/authority.js';
import {
  requireEmailAccount,
  requireProvider,
  type Database,
  type EmailAccountRecord,
  type GrantRecord,
  type ProviderRecord,
} from '../../store/index.js';
import type { AccessTokenService } from '../identity/access-token-service.js';
import type { AccountService } from './account-service.js';
import { checkGraphPermission, mayBeGrantedByExchangeRbac } from './graph-access.js';
import { reusedToken } from './reused-token.js';

/** Where and how an account's mailbox is reached over IMAP: what the sync, the connection test and the doctor open. */
export type ImapEndpoint = ImapPlace &
  (
    | { accessToken: () => Promise<AccessToken>; password?: undefined; appOnly: boolean }
    | { password: () => Promise<string>; accessToken?: undefined; appOnly?: undefined }
  );

interface ImapPlace {
  host: string;
  port: number;
  /** The Cloud Provider's CA (PEM) for a custom authority, trusted besides the system's CAs. */
  tls: { ca?: string; servername?: string };
  user: string;
}

/**
 * An account's route, resolved by the mailbox-access layer (`src/mail/access/`) from the account
 * and, with Modern Authentication, its Cloud Provider's cloud and CA file.
 */
export async function mailboxRouteOf(db: Database, account: EmailAccountRecord): Promise<MailboxRoute> {
  if (!account.modernAuth || account.providerId === null) return resolveMailboxRoute(account, null);
  const provider = await requireProvider(db, account.providerId);
  const { imapHost, smtpHost } = endpointsOf(provider);
  return resolveMailboxRoute(account, { imapHost, smtpHost, graphApi: graphApiOf(provider), caFile: provider.caFile });
}

/**
 * Microsoft Graph's API root for a provider: its cloud's Graph host, or for a custom authority (the
 * emulator, a proxy) the authority's own origin, which serves `/v1.0` beside the identity platform.
 * Tokens keep the cloud's Graph audience either way.
 */
function graphApiOf(provider: ProviderRecord): string {
  const root =
    provider.cloud === 'custom' ? new URL(endpointsOf(provider).authority).origin : endpointsOf(provider).graph;
  return `${root}/v1.0`;
}

/** What a Graph client of an account is for: reading (the sync) or sending (the outbox). */
export interface GraphClientRequest {
  readonly purpose: GraphPurpose;
  readonly signal?: AbortSignal;
  readonly logger?: GraphLogger;
  readonly throttleBudgetMs?: number;
}

/**
 * A Graph client for an account's mailbox: its route's API root and trust, and the grant's Graph
 * token from the token service (the delegate's for a shared mailbox, the application's for
 * app-only access), reused for a short while (reused-token.ts) and refreshed once when Graph
 * refuses it.
 */
export async function graphClientOf(
  db: Database,
  accounts: AccountService,
  accessTokens: AccessTokenService,
  account: EmailAccountRecord,
  request: GraphClientRequest,
): Promise<GraphClient> {
  const route = await mailboxRouteOf(db, account);
  const endpoint = requireGraph(route);
  const ca = loadCa(route.trust, 'graph');
  const grantId = async (): Promise<number> => (await accounts.grantFor(await requireEmailAccount(db, account.id))).id;
  const token = reusedToken(
    async () => accessTokens.accessToken(await grantId(), 'graph'),
    () => db.now().getTime(),
  );
  return new GraphClient({
    target: { apiBase: endpoint.apiBase, mailbox: endpoint.mailbox, ca },
    accessToken: () => token.get(),
    refreshToken: async () => {
      token.forget();
      await accessTokens.refreshNow(await grantId(), 'graph');
    },
    purpose: request.purpose,
    ...(request.signal === undefined ? {} : { signal: request.signal }),
    ...(request.logger === undefined ? {} : { logger: request.logger }),
    ...(request.throttleBudgetMs === undefined ? {} : { throttleBudgetMs: request.throttleBudgetMs }),
  });
}

/**
 * Resolves an account to its IMAP endpoint and credentials. With Modern Authentication: the
 * delegate's Exchange token from the token service, fetched at each sign-in. Without (service
 * `imap`, another server): the account's password, unsealed at each sign-in.
 */
export async function imapEndpointOf(
  db: Database,
  accounts: AccountService,
  accessTokens: AccessTokenService,
  account: EmailAccountRecord,
): Promise<ImapEndpoint> {
  const route = await mailboxRouteOf(db, account);
  const { host, port } = requireImap(route);
  const ca = loadCa(route.trust, 'imap');
  const place: ImapPlace = { host, port, tls: ca === null ? {} : { ca }, user: route.user };
  if (route.signIn === 'password') return { ...place, password: () => accounts.passwordFor(account.id) };
  // An app-only grant (client credentials) has no user: its refusals mean other things.
  const appOnly = await accounts.grantFor(account).then(
    (grant) => grant.upn === null,
    () => false,
  );
  return {
    ...place,
    appOnly,
    accessToken: async () => {
      const grant = await accounts.grantFor(await requireEmailAccount(db, account.id));
      const token = await accessTokens.accessToken(grant.id, 'exchange');
      return { token: token.token, expiresAt: token.expiresAt };
    },
  };
}

export interface ConnectionStep {
  step: string;
  ok: boolean;
  detail: string;
  /** Not tested (Send As without a test message). */
  skipped?: boolean;
}

export interface ConnectionTest {
  ok: boolean;
  steps: ConnectionStep[];
  error: { code: string; message: string; remedy: string | null } | null;
}

/** A finding of the doctor's SMTP checks (`src/services/doctor/smtp-checks.ts`), as the test reads it. */
export interface SmtpFinding {
  readonly id: string;
  readonly result: 'ok' | 'warning' | 'failed' | 'skipped';
  readonly evidence: string;
  readonly remedy?: string;
  readonly code?: string;
}

/**
 * SMTP AUTH as the signed-in user and, for a shared mailbox, Send As (only with `sendTest`: it
 * submits a message to the delegate). Plugged in by the composition root: the doctor's own checks.
 */
export type SmtpProbe = (input: {
  account: EmailAccountRecord;
  grant: GrantRecord;
  token: string;
  endpoint: ImapEndpoint;
  sendTest: boolean;
}) => Promise<SmtpFinding[]>;

const SMTP_STEPS: Readonly<Record<string, string>> = { 'account.smtp': 'smtp-auth', 'account.send-as': 'send-as' };

/** `POST /api/email/accounts/:id/test`: connects now and reports each step in plain words. */
export class MailboxTestService {
  /** The doctor's SMTP checks, plugged in by the composition root (services/index.ts). */
  smtpProbe: SmtpProbe | undefined;

  constructor(
    private readonly db: Database,
    private readonly accounts: AccountService,
    private readonly accessTokens: AccessTokenService,
    private readonly logger?: Logger,
  ) {}

  /**
   * IMAP (sign-in and folder), then — for an account that sends over SMTP with Modern
   * Authentication — SMTP AUTH and Send As, by the doctor's checks. Send As of a shared mailbox is
   * tested only with `sendTest` (it submits a message to the delegate); otherwise it says so.
   */
  async run(accountId: number, options: { sendTest?: boolean } = {}): Promise<ConnectionTest> {
    const steps: ConnectionStep[] = [];
    const fail = (step: string, error: unknown): ConnectionTest => {
      const failure = isPosternError(error) ? error : new PosternError('INTERNAL', { cause: error });
      steps.push({ step, ok: false, detail: failure.message });
      return {
        ok: false,
        steps,
        error: { code: failure.code, message: failure.message, remedy: failure.remedy ?? null },
      };
    };
    const account = await requireEmailAccount(this.db, accountId);
    if (account.effective.inbound.via === 'graph') return this.runGraph(account, steps, fail);
    let endpoint: ImapEndpoint;
    let auth: { user: string; accessToken: string } | { user: string; pass: string };
    let method: string;
    let signedIn: { grant: GrantRecord; token: string } | null = null;
    try {
      endpoint = await imapEndpointOf(this.db, this.accounts, this.accessTokens, account);
      if (endpoint.password !== undefined) {
        auth = { user: endpoint.user, pass: await endpoint.password() };
        method = 'a password';
        steps.push({ step: 'credentials', ok: true, detail: `The account holds a password for ${endpoint.user}.` });
      } else {
        const grant = await this.accounts.grantFor(account);
        steps.push({
          step: 'grant',
          ok: true,
          detail: `The Cloud Provider holds a sign-in for ${grant.upn ?? 'the application'}.`,
        });
        try {
          const token = await endpoint.accessToken();
          auth = { user: endpoint.user, accessToken: typeof token === 'string' ? token : token.token };
          method = 'XOAUTH2';
          signedIn = { grant, token: auth.accessToken };
          steps.push({ step: 'token', ok: true, detail: 'An Exchange access token was obtained.' });
        } catch (error) {
          return fail('token', error);
        }
      }
    } catch (error) {
      return fail(account.modernAuth ? 'grant' : 'credentials', error);
    }
    let client: ImapFlow;
    try {
      client = createImapClient({
        host: endpoint.host,
        port: endpoint.port,
        tls: endpoint.tls,
        auth,
        ...(this.logger === undefined
          ? {}
          : { logger: this.logger.child({ component: 'mailbox-test', accountId: account.id, key: account.key }) }),
        timeouts: PROBE_TIMEOUTS,
      });
    } catch (error) {
      return fail('imap-login', error);
    }
    const context = {
      host: endpoint.host,
      port: endpoint.port,
      user: endpoint.user,
      folder: account.folder,
      method:
        endpoint.password !== undefined
          ? ('password' as const)
          : endpoint.appOnly
            ? ('xoauth2-app' as const)
            : ('xoauth2' as const),
    };
    try {
      await client.connect();
      steps.push({
        step: 'imap-login',
        ok: true,
        detail: `Signed in to ${endpoint.host}:${endpoint.port} as ${endpoint.user} with ${method}.`,
      });
    } catch (error) {
      return fail('imap-login', mapImapError(error, context));
    }
    try {
      const mailbox = await client.mailboxOpen(account.folder, { readOnly: true });
      steps.push({ step: 'folder', ok: true, detail: `Opened ${account.folder}: ${mailbox.exists} message(s).` });
    } catch (error) {
      return fail('folder', mapImapError(error, context));
    } finally {
      await client.logout().catch(() => client.close());
    }
    if (signedIn !== null && this.smtpProbe !== undefined && account.effective.outbound.via !== 'graph') {
      let findings: SmtpFinding[];
      try {
        findings = await this.smtpProbe({
          account,
          grant: signedIn.grant,
          token: signedIn.token,
          endpoint,
          sendTest: options.sendTest === true,
        });
      } catch (error) {
        // The checks answer findings; anything thrown is a fault of ours, logged and reported as a step.
        if (!isPosternError(error)) this.logger?.error({ err: error, accountId: account.id }, 'SMTP checks failed');
        return fail('smtp-auth', error);
      }
      let failure: SmtpFinding | undefined;
      for (const finding of findings) {
        const step = SMTP_STEPS[finding.id] ?? finding.id;
        const skipped = finding.result === 'skipped';
        steps.push({
          step,
          ok: finding.result !== 'failed',
          detail: finding.evidence,
          ...(skipped ? { skipped } : {}),
        });
        if (finding.result === 'failed') failure ??= finding;
      }
      if (failure !== undefined) {
        return {
          ok: false,
          steps,
          error: {
            code: failure.code ?? 'SMTP_AUTH_FAILED',
            message: failure.evidence,
            remedy: failure.remedy ?? null,
          },
        };
      }
    }
    return { ok: true, steps, error: null };
  }

  /**
   * An account that reads through Microsoft Graph: the grant, a Graph token carrying the permission
   * to read the mailbox, and the account's folder found through Graph as the sync finds it.
   */
  private async runGraph(
    account: EmailAccountRecord,
    steps: ConnectionStep[],
    fail: (step: string, error: unknown) => ConnectionTest,
  ): Promise<ConnectionTest> {
    let grant: GrantRecord;
    try {
      grant = await this.accounts.grantFor(account);
      steps.push({
        step: 'grant',
        ok: true,
        detail: `The Cloud Provider holds a sign-in for ${grant.upn ?? 'the application'}.`,
      });
    } catch (error) {
      return fail('grant', error);
    }
    const deps = { db: this.db, accounts: this.accounts, accessTokens: this.accessTokens };
    const permission = await checkGraphPermission(deps, account, 'inbound');
    if (mayBeGrantedByExchangeRbac(permission)) {
      // App-only without the role: Exchange's RBAC for Applications may grant it for this mailbox; Graph tells.
      steps.push({
        step: 'graph-token',
        ok: true,
        detail: `A Microsoft Graph access token was obtained for the application; it carries no ${permission.need.name} role, which RBAC for Applications may grant for the mailbox.`,
      });
    } else if (!permission.ok) return fail('graph-token', permission.error);
    else
      steps.push({
        step: 'graph-token',
        ok: true,
        detail: `A Microsoft Graph access token was obtained for ${grant.upn ?? 'the application'}; it allows ${permission.need.name}.`,
      });
    try {
      const client = await graphClientOf(this.db, this.accounts, this.accessTokens, account, { purpose: 'read' });
      const folder = await findGraphFolder(client, account.folder);
      if (folder === undefined) {
        throw new PosternError('GRAPH_FOLDER_NOT_FOUND', {
          message: `The mailbox ${client.mailbox} has no folder "${account.folder}" in Microsoft Graph.`,
          details: { mailbox: client.mailbox, folder: account.folder },
        });
      }
      const count = folder.totalItemCount === undefined ? '' : `: ${folder.totalItemCount} message(s)`;
      steps.push({
        step: 'folder',
        ok: true,
        detail: `Opened ${account.folder} of ${client.mailbox} through Microsoft Graph${count}.`,
      });
    } catch (error) {
      return fail('folder', error);
    }
    return { ok: true, steps, error: null };
  }
}
