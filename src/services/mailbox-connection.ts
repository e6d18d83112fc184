import fs from 'node:fs';
import { ImapFlow } from 'imapflow';
import { PosternError, isPosternError } from '../errors/index.js';
import { mapImapError } from '../mail/imap/imap-errors.js';
import type { AccessToken } from '../mail/imap/mailbox-sync.js';
import { endpointsOf } from '../providers/microsoft/authority.js';
import { requireEmailAccount, requireProvider, type Database, type EmailAccountRecord } from '../store/index.js';
import type { AccessTokenService } from './access-token-service.js';
import type { AccountService } from './account-service.js';

/** Where and how an account's mailbox is reached over IMAP. */
export type ImapEndpoint = ImapPlace &
  (
    | { accessToken: () => Promise<AccessToken>; password?: undefined }
    | { password: () => Promise<string>; accessToken?: undefined }
  );

interface ImapPlace {
  host: string;
  port: number;
  tls: { ca?: string; servername?: string };
  user: string;
}

const EXCHANGE_IMAP_PORT = 993;
const IMAPS_PORT = 993;

/**
 * Resolves an account to its IMAP endpoint. With Modern Authentication: the host of its
 * provider's cloud (or the account's override), the provider's extra CA for a custom authority,
 * `user=` the mailbox (the shared mailbox's address), and the delegate's Exchange token from the
 * token service. Without (service `imap`, another server): the account's host and port (993 by
 * default, implicit TLS, trusted by the system's CAs and `NODE_EXTRA_CA_CERTS`), the username and
 * the account's password, unsealed at each sign-in.
 */
export async function imapEndpointOf(
  db: Database,
  accounts: AccountService,
  accessTokens: AccessTokenService,
  account: EmailAccountRecord,
): Promise<ImapEndpoint> {
  if (!account.modernAuth) {
    if (account.imapHost === null) {
      throw new PosternError('VALIDATION_FAILED', {
        message: `Email account ${account.key} has no IMAP host: an account without Modern Authentication names its server.`,
        remedy: 'Set the IMAP host (and port, 993 by default) of the account.',
        details: { in: 'body', fields: [{ field: 'imapHost', problem: 'is required for an IMAP account' }] },
      });
    }
    return {
      host: account.imapHost,
      port: account.imapPort ?? IMAPS_PORT,
      tls: {},
      user: account.username,
      password: () => accounts.passwordFor(account.id),
    };
  }
  if (account.providerId === null) {
    throw new PosternError('VALIDATION_FAILED', {
      message: `Email account ${account.key} uses Modern Authentication without a Cloud Provider.`,
      remedy: 'Choose a Cloud Provider for the account.',
    });
  }
  const provider = await requireProvider(db, account.providerId);
  const endpoints = endpointsOf(provider);
  const ca = provider.caFile === null ? undefined : fs.readFileSync(provider.caFile, 'utf8');
  return {
    host: account.imapHost ?? endpoints.imapHost,
    port: account.imapPort ?? EXCHANGE_IMAP_PORT,
    tls: ca === undefined ? {} : { ca },
    user: account.username,
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
}

export interface ConnectionTest {
  ok: boolean;
  steps: ConnectionStep[];
  error: { code: string; message: string; remedy: string | null } | null;
}

/** `POST /api/email/accounts/:id/test`: connects now and reports each step in plain words. */
export class MailboxTestService {
  constructor(
    private readonly db: Database,
    private readonly accounts: AccountService,
    private readonly accessTokens: AccessTokenService,
  ) {}

  async run(accountId: number): Promise<ConnectionTest> {
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
    let endpoint: ImapEndpoint;
    let auth: { user: string; accessToken: string } | { user: string; pass: string };
    let method: string;
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
          steps.push({ step: 'token', ok: true, detail: 'An Exchange access token was obtained.' });
        } catch (error) {
          return fail('token', error);
        }
      }
    } catch (error) {
      return fail(account.modernAuth ? 'grant' : 'credentials', error);
    }
    const client = new ImapFlow({
      host: endpoint.host,
      port: endpoint.port,
      secure: true,
      tls: endpoint.tls,
      auth,
      logger: false,
      connectionTimeout: 20_000,
      greetingTimeout: 20_000,
      socketTimeout: 30_000,
    });
    const context = {
      host: endpoint.host,
      user: endpoint.user,
      folder: account.folder,
      method: endpoint.password === undefined ? ('xoauth2' as const) : ('password' as const),
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
    return { ok: true, steps, error: null };
  }
}
