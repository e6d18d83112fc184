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
export interface ImapEndpoint {
  host: string;
  port: number;
  tls: { ca?: string; servername?: string };
  user: string;
  accessToken: () => Promise<AccessToken>;
}

const EXCHANGE_IMAP_PORT = 993;

/**
 * Resolves an account to its IMAP endpoint: the host of its provider's cloud (or the account's
 * override), the provider's extra CA for a custom authority, `user=` the mailbox (the shared
 * mailbox's address), and the delegate's Exchange token from the token service.
 */
export async function imapEndpointOf(
  db: Database,
  accounts: AccountService,
  accessTokens: AccessTokenService,
  account: EmailAccountRecord,
): Promise<ImapEndpoint> {
  if (!account.modernAuth || account.providerId === null) {
    throw new PosternError('VALIDATION_FAILED', {
      message: `Email account ${account.key} does not use Modern Authentication; IMAP with a password is not supported yet.`,
      remedy: 'Enable Modern Authentication and choose a Cloud Provider for the account.',
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
      return { ok: false, steps, error: { code: failure.code, message: failure.message, remedy: failure.remedy ?? null } };
    };
    const account = await requireEmailAccount(this.db, accountId);
    let endpoint: ImapEndpoint;
    try {
      endpoint = await imapEndpointOf(this.db, this.accounts, this.accessTokens, account);
      const grant = await this.accounts.grantFor(account);
      steps.push({ step: 'grant', ok: true, detail: `The Cloud Provider holds a sign-in for ${grant.upn ?? 'the application'}.` });
    } catch (error) {
      return fail('grant', error);
    }
    let token: AccessToken;
    try {
      token = await endpoint.accessToken();
      steps.push({ step: 'token', ok: true, detail: 'An Exchange access token was obtained.' });
    } catch (error) {
      return fail('token', error);
    }
    const client = new ImapFlow({
      host: endpoint.host,
      port: endpoint.port,
      secure: true,
      tls: endpoint.tls,
      auth: { user: endpoint.user, accessToken: typeof token === 'string' ? token : token.token },
      logger: false,
      connectionTimeout: 20_000,
      greetingTimeout: 20_000,
      socketTimeout: 30_000,
    });
    const context = { host: endpoint.host, user: endpoint.user, folder: account.folder };
    try {
      await client.connect();
      steps.push({ step: 'imap-login', ok: true, detail: `Signed in to ${endpoint.host}:${endpoint.port} as ${endpoint.user} with XOAUTH2.` });
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
