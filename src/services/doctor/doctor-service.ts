import type { MicrosoftIdentity } from '../../providers/microsoft/identity-client.js';
import {
  listEmailAccounts,
  listGrants,
  listProviders,
  requireEmailAccount,
  requireProvider,
  type Database,
  type EmailAccountRecord,
  type ProviderRecord,
  type SecretBox,
} from '../../store/index.js';
import type { AccessTokenService } from '../identity/access-token-service.js';
import type { AccountService } from '../accounts/account-service.js';
import { checkAccount, type AccountCheckDeps, type CheckOptions } from './account-checks.js';
import type { Diagnosis, DiagnosisSection } from './check.js';
import { checkProvider } from './provider-checks.js';

export interface DoctorDeps {
  db: Database;
  box: SecretBox;
  identity: MicrosoftIdentity;
  accounts: AccountService;
  accessTokens: AccessTokenService;
  publicUrl: string;
}

export type DoctorTarget = { accountId: number } | { providerId: number } | Record<string, never>;

/**
 * The doctor: the reference guide's troubleshooting list run as checks — for one account (with its
 * provider), one provider (with its accounts), or everything — each with evidence and a remedy.
 */
export class DoctorService {
  /** SMTP checks, plugged in by the outbound side. */
  extraAccountChecks: AccountCheckDeps['extra'];

  constructor(private readonly deps: DoctorDeps) {}

  /**
   * Runs the checks. `sendTest` lets the Send As check of a shared mailbox submit a test message
   * (to the delegate): only when a person asked for it, never on opening a page.
   */
  async diagnose(target: DoctorTarget = {}, options: CheckOptions = { sendTest: false }): Promise<Diagnosis> {
    const sections: DiagnosisSection[] = [];
    if ('accountId' in target) {
      const account = await requireEmailAccount(this.deps.db, target.accountId);
      if (account.providerId !== null)
        sections.push(await this.providerSection(await requireProvider(this.deps.db, account.providerId)));
      sections.push(await this.accountSection(account, options));
    } else if ('providerId' in target) {
      const provider = await requireProvider(this.deps.db, target.providerId);
      sections.push(await this.providerSection(provider));
      for (const account of (await listEmailAccounts(this.deps.db)).filter((a) => a.providerId === provider.id))
        sections.push(await this.accountSection(account, options));
    } else {
      for (const provider of await listProviders(this.deps.db)) sections.push(await this.providerSection(provider));
      for (const account of await listEmailAccounts(this.deps.db))
        sections.push(await this.accountSection(account, options));
    }
    const ok = sections.every((section) => section.checks.every((check) => check.result !== 'failed'));
    return { at: this.deps.db.now().toISOString(), ok, sections };
  }

  private async providerSection(provider: ProviderRecord): Promise<DiagnosisSection> {
    const grants = await listGrants(this.deps.db, { providerId: provider.id });
    const checks = await checkProvider(provider, grants, {
      identity: this.deps.identity,
      box: this.deps.box,
      publicUrl: this.deps.publicUrl,
      now: () => this.deps.db.now(),
    });
    return { subject: `Cloud Provider "${provider.name}"`, checks };
  }

  private async accountSection(account: EmailAccountRecord, options: CheckOptions): Promise<DiagnosisSection> {
    const checks = await checkAccount(
      account,
      {
        db: this.deps.db,
        accounts: this.deps.accounts,
        accessTokens: this.deps.accessTokens,
        now: () => this.deps.db.now(),
        ...(this.extraAccountChecks === undefined ? {} : { extra: this.extraAccountChecks }),
      },
      options,
    );
    return { subject: `Email account ${account.key} <${account.emailAddress}>`, checks };
  }
}
