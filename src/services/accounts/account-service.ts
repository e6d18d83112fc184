import { EventEmitter } from 'node:events';
import { PosternError } from '../../errors/index.js';
import type { EmailAccountInput } from '../../domain/email-account-fields.js';
import {
  appendEvent,
  createEmailAccount,
  resetEffectiveTransport,
  findOrCreateFallbackList,
  deleteEmailAccount,
  findGrantByUpn,
  getList,
  listAccountAgents,
  listEmailAccounts,
  listEvents,
  listGrants,
  openEmailAccountPassword,
  requireEmailAccount,
  requireVisibleEmailAccount,
  requireProvider,
  setAccountAgents,
  setEmailAccountPassword,
  updateEmailAccount,
  type Database,
  type EmailAccountFields,
  type EmailAccountRecord,
  type EventPage,
  type GrantRecord,
  type SecretBox,
} from '../../store/index.js';
import { DEFAULT_MAX_MESSAGE_BYTES, defaultTransport } from '../../domain/email-account-fields.js';

export interface AccountView {
  account: EmailAccountRecord;
  providerName: string | null;
  agentIds: number[];
}

/** Who asks: agents see only the accounts assigned to them. */
export interface Viewer {
  userId: number;
  role: 'admin' | 'agent';
}

/**
 * Email Accounts: the guide's association of a mailbox with a Cloud Provider. Changes are
 * announced on `changes` (`'changed'`, account id) so that the mailbox workers follow them without
 * a restart.
 */
export class AccountService {
  readonly changes = new EventEmitter<{ changed: [number]; deleted: [number] }>();

  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {}

  async create(input: EmailAccountInput): Promise<AccountView> {
    const resolved = await this.resolve(input, undefined);
    const fields: EmailAccountFields = {
      ...resolved,
      name: input.name,
      key: input.key,
      emailAddress: input.emailAddress,
      username: resolved.username ?? input.emailAddress,
    };
    const account = await this.db.transaction(async (tx) => {
      const created = await this.storePassword(tx, await createEmailAccount(tx, fields), input.password);
      if (input.agentIds !== undefined) await setAccountAgents(tx, created.id, input.agentIds);
      await appendEvent(tx, {
        scope: 'account',
        scopeId: created.id,
        type: 'account.created',
        message: `Email account ${created.key} (${created.emailAddress}) was created.`,
      });
      return created;
    });
    this.changes.emit('changed', account.id);
    return this.view(account);
  }

  async update(id: number, input: Partial<EmailAccountInput>): Promise<AccountView> {
    const current = await requireEmailAccount(this.db, id);
    const fields = await this.resolve(input, current);
    const account = await this.db.transaction(async (tx) => {
      // A transport chosen again starts afresh: `auto` tries IMAP and SMTP again.
      if (input.transport !== undefined && input.transport !== current.transport) await resetEffectiveTransport(tx, id);
      const updated = await this.storePassword(tx, await updateEmailAccount(tx, id, fields), input.password);
      if (input.agentIds !== undefined) await setAccountAgents(tx, id, input.agentIds);
      return updated;
    });
    this.changes.emit('changed', id);
    return this.view(account);
  }

  async setActive(id: number, active: boolean): Promise<AccountView> {
    const account = await updateEmailAccount(this.db, id, { active });
    await appendEvent(this.db, {
      scope: 'account',
      scopeId: id,
      type: active ? 'account.enabled' : 'account.disabled',
      message: `Email account ${account.key} was ${active ? 'enabled' : 'disabled'}.`,
    });
    this.changes.emit('changed', id);
    return this.view(account);
  }

  async remove(id: number): Promise<void> {
    await deleteEmailAccount(this.db, id);
    this.changes.emit('deleted', id);
  }

  async get(id: number, viewer?: Viewer): Promise<AccountView> {
    const agent = viewer === undefined || viewer.role === 'admin' ? undefined : viewer.userId;
    return this.view(await requireVisibleEmailAccount(this.db, id, agent));
  }

  async list(viewer?: Viewer): Promise<AccountView[]> {
    const accounts = await listEmailAccounts(
      this.db,
      viewer === undefined || viewer.role === 'admin' ? {} : { agentUserId: viewer.userId },
    );
    return Promise.all(accounts.map((account) => this.view(account)));
  }

  events(id: number, before?: number): Promise<EventPage> {
    return listEvents(this.db, { scope: 'account', scopeId: id, ...(before === undefined ? {} : { before }) });
  }

  /**
   * The password of an account without Modern Authentication (another IMAP/SMTP server), read
   * fresh from the store so that a changed password takes effect at the next sign-in.
   *
   * @throws PosternError AUTH_NOT_AUTHENTICATED when the account has no password.
   */
  async passwordFor(accountId: number): Promise<string> {
    const account = await requireEmailAccount(this.db, accountId);
    const password = openEmailAccountPassword(this.box, account);
    if (password === null) {
      throw new PosternError('AUTH_NOT_AUTHENTICATED', {
        message: `Email account ${account.key} has neither Modern Authentication nor a password.`,
        remedy: "Set the account's password, or turn Modern Authentication on and choose a Cloud Provider.",
      });
    }
    return password;
  }

  /** The grant an account signs in with: the provider's grant of its modern authentication email. */
  async grantFor(account: EmailAccountRecord): Promise<GrantRecord> {
    if (account.providerId === null) {
      throw new PosternError('AUTH_NOT_AUTHENTICATED', {
        message: `Email account ${account.key} has no Cloud Provider.`,
        remedy: 'Choose a Cloud Provider for the account.',
      });
    }
    const identity = account.modernAuthEmail ?? account.username;
    const grant =
      (await findGrantByUpn(this.db, account.providerId, identity)) ?? (await this.appGrant(account.providerId));
    if (grant === undefined) {
      const provider = await requireProvider(this.db, account.providerId);
      throw new PosternError('AUTH_NOT_AUTHENTICATED', {
        message: `Cloud Provider "${provider.name}" has no sign-in for ${identity}.`,
        remedy: `Authenticate the provider signed in as ${identity}${account.modernAuthEmail === null ? '' : ' (the modern authentication email, the delegate of the shared mailbox)'}.`,
        details: { providerId: provider.id, identity },
      });
    }
    return grant;
  }

  private async appGrant(providerId: number): Promise<GrantRecord | undefined> {
    return (await listGrants(this.db, { providerId })).find((grant) => grant.upn === null);
  }

  /** Applies defaults and the guide's rules, naming the field of every refusal. */
  private async resolve(
    input: Partial<EmailAccountInput>,
    current: EmailAccountRecord | undefined,
  ): Promise<Partial<EmailAccountFields>> {
    const service = input.service ?? current?.service ?? 'outlook365';
    const modernAuth = input.modernAuth ?? current?.modernAuth ?? service === 'outlook365';
    const emailAddress = input.emailAddress ?? current?.emailAddress;
    const username = input.username ?? current?.username ?? emailAddress;
    if (service === 'outlook365' && !modernAuth) {
      throw fieldError(
        'modernAuth',
        'must be on for Outlook365: Microsoft turned off username and password sign-in for IMAP and SMTP in Exchange Online',
      );
    }
    const providerId = input.providerId === undefined ? current?.providerId : input.providerId;
    if (modernAuth) {
      if (providerId === null || providerId === undefined)
        throw fieldError('providerId', 'is required with Modern Authentication: choose the Cloud Provider');
      await requireProvider(this.db, providerId).catch(() => {
        throw fieldError('providerId', `there is no Cloud Provider ${providerId}`);
      });
      const identity =
        (input.modernAuthEmail === undefined ? current?.modernAuthEmail : input.modernAuthEmail) ?? username ?? '';
      const grant = (await findGrantByUpn(this.db, providerId, identity)) ?? (await this.appGrant(providerId));
      if (grant === undefined) {
        const provider = await requireProvider(this.db, providerId);
        const known = (await listGrants(this.db, { providerId })).map((g) =>
          g.email !== null && g.email !== g.upn ? `${g.upn ?? ''} (${g.email})` : (g.upn ?? 'the application'),
        );
        throw new PosternError('VALIDATION_FAILED', {
          message: `Cloud Provider "${provider.name}" has no sign-in for ${identity}: authenticate the provider signed in as ${identity}.${known.length === 0 ? '' : ` It holds sign-ins for: ${known.join(', ')}.`}`,
          remedy: `Open the Cloud Provider, use Authenticate and sign in as ${identity}; for a shared mailbox set the Modern Authentication Email to the delegate who signs in.`,
          details: {
            in: 'body',
            fields: [
              {
                field: input.modernAuthEmail === undefined ? 'username' : 'modernAuthEmail',
                problem: `the provider has no sign-in for ${identity}`,
              },
            ],
          },
        });
      }
    } else if (service === 'imap') {
      if ((input.imapHost ?? current?.imapHost ?? null) === null)
        throw fieldError('imapHost', 'is required for an IMAP account');
      if (input.password === undefined && current?.sealedPassword == null)
        throw fieldError('password', 'is required for an IMAP account without Modern Authentication');
    }
    const defaultListId = await this.defaultList(input.defaultListId, current);
    return {
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.key === undefined ? {} : { key: input.key }),
      ...(emailAddress === undefined ? {} : { emailAddress }),
      ...(username === undefined ? {} : { username }),
      defaultListId,
      ...(input.active === undefined ? {} : { active: input.active }),
      service,
      modernAuth,
      ...(providerId === undefined ? {} : { providerId }),
      ...(input.modernAuthEmail === undefined ? {} : { modernAuthEmail: input.modernAuthEmail }),
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.signature === undefined ? {} : { signature: input.signature }),
      ...(input.transport === undefined
        ? current === undefined
          ? { transport: modernAuth ? defaultTransport(service) : 'imap_smtp' }
          : {}
        : { transport: input.transport }),
      ...(input.imapHost === undefined ? {} : { imapHost: input.imapHost }),
      ...(input.imapPort === undefined ? {} : { imapPort: input.imapPort }),
      ...(input.smtpHost === undefined ? {} : { smtpHost: input.smtpHost }),
      ...(input.smtpPort === undefined ? {} : { smtpPort: input.smtpPort }),
      ...(input.tlsCaPem === undefined ? {} : { tlsCaPem: input.tlsCaPem }),
      ...(input.folder === undefined ? {} : { folder: input.folder }),
      ...(input.scanJunk === undefined ? {} : { scanJunk: input.scanJunk }),
      ...(input.afterFetchAction === undefined ? {} : { afterFetchAction: input.afterFetchAction }),
      ...(input.afterFetchFolder === undefined ? {} : { afterFetchFolder: input.afterFetchFolder }),
      ...(input.maxMessageBytes === undefined
        ? current === undefined
          ? { maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES }
          : {}
        : { maxMessageBytes: input.maxMessageBytes }),
      ...(input.useIdle === undefined ? {} : { useIdle: input.useIdle }),
      ...(input.pollIntervalSeconds === undefined ? {} : { pollIntervalSeconds: input.pollIntervalSeconds }),
      ...(input.firstSync === undefined ? {} : { firstSync: input.firstSync }),
      ...(input.sendPerMinute === undefined ? {} : { sendPerMinute: input.sendPerMinute }),
      ...(input.recipientsPerDay === undefined ? {} : { recipientsPerDay: input.recipientsPerDay }),
      ...(input.rawRetentionDays === undefined ? {} : { rawRetentionDays: input.rawRetentionDays }),
    };
  }

  /** The given list, the current one, or the fallback list (created when missing). */
  private async defaultList(
    requested: number | null | undefined,
    current: EmailAccountRecord | undefined,
  ): Promise<number> {
    if (requested !== undefined && requested !== null) {
      if ((await getList(this.db, requested)) === undefined)
        throw fieldError('defaultListId', `there is no list ${requested}`);
      return requested;
    }
    if (current?.defaultListId != null) return current.defaultListId;
    return findOrCreateFallbackList(this.db);
  }

  /** Sets the account's password when the input names one. */
  private async storePassword(
    tx: Database,
    account: EmailAccountRecord,
    password: string | undefined,
  ): Promise<EmailAccountRecord> {
    return password === undefined ? account : setEmailAccountPassword(tx, this.box, account.id, password);
  }

  private async view(account: EmailAccountRecord): Promise<AccountView> {
    const providerName = account.providerId === null ? null : (await requireProvider(this.db, account.providerId)).name;
    return { account, providerName, agentIds: await listAccountAgents(this.db, account.id) };
  }
}

function fieldError(field: string, problem: string): PosternError {
  return new PosternError('VALIDATION_FAILED', {
    message: `The request body is invalid: ${field}: ${problem}.`,
    details: { in: 'body', fields: [{ field, problem }] },
  });
}
