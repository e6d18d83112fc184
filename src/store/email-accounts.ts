/**
 * Email Accounts: one mailbox each, read by a mailbox worker and answered from its address, and
 * the agents assigned to it (`account_agents`). Keys (1–5 characters, shown on agent tabs) are
 * unique regardless of case. The IMAP password of a non-Microsoft account is sealed in
 * `password_enc` by {@link setEmailAccountPassword} and opened by {@link openEmailAccountPassword}
 * for the IMAP and SMTP adapters alone; the record carries it sealed, and presenters never name it.
 *
 * `first_sync_days` encodes the first-sync window: N > 0 imports the last N days, 0 only mail
 * arriving from now on, -1 everything.
 */
import { PosternError } from '../errors/index.js';
import type { Database } from './database.js';
import type {
  AccountService,
  AccountStatus,
  AccountTransport,
  AfterFetchAction,
  EffectiveInbound,
  EffectiveOutbound,
  Row,
  Sealed,
  Timestamp,
} from './schema.js';
import type { SecretBox } from './secret-box.js';
import { readConstraintViolation } from './sql-errors.js';
import { toDbTime } from './time.js';
import { deleteUnlessReferenced } from './delete-row.js';

const PASSWORD = 'email_accounts.password';

/** What to import when an account is first connected. */
export type FirstSync =
  { readonly kind: 'days'; readonly days: number } | { readonly kind: 'all' } | { readonly kind: 'new' };

/** An account's last error, as shown with its status. */
export interface AccountError {
  readonly code: string;
  readonly message: string;
  readonly remedy: string | null;
}

/** The transport one direction uses now, and why it is not the starting one (transport `auto`). */
export interface EffectiveDirection<Via extends string> {
  readonly via: Via;
  /** Why the direction switched; null while it uses its starting transport. */
  readonly reason: string | null;
  /** Since when; null while it uses its starting transport. */
  readonly since: Timestamp | null;
}

/** An email account as the rest of Postern sees it. */
export interface EmailAccountRecord {
  readonly id: number;
  readonly name: string;
  readonly key: string;
  readonly emailAddress: string;
  readonly defaultListId: number | null;
  readonly active: boolean;
  readonly service: AccountService;
  readonly modernAuth: boolean;
  readonly username: string;
  /** The sealed IMAP password (service `imap`), opaque; never presented. */
  readonly sealedPassword: Sealed | null;
  readonly providerId: number | null;
  readonly modernAuthEmail: string | null;
  readonly description: string | null;
  /** The signature under the account's replies (plain text, may hold placeholders); null when none. */
  readonly signature: string | null;
  readonly transport: AccountTransport;
  /**
   * What reading and sending use now: fixed by `transport` for `imap_smtp` and `graph`; for `auto`,
   * IMAP and SMTP until a direction switched to Microsoft Graph (migration 0019).
   */
  readonly effective: {
    readonly inbound: EffectiveDirection<EffectiveInbound>;
    readonly outbound: EffectiveDirection<EffectiveOutbound>;
  };
  readonly imapHost: string | null;
  readonly imapPort: number | null;
  readonly smtpHost: string | null;
  readonly smtpPort: number | null;
  /** The account's own CAs (PEM) for its IMAP and SMTP servers, trusted besides the system's; null when none. */
  readonly tlsCaPem: string | null;
  readonly folder: string;
  readonly scanJunk: boolean;
  readonly afterFetchAction: AfterFetchAction;
  readonly afterFetchFolder: string | null;
  readonly maxMessageBytes: number;
  readonly useIdle: boolean;
  readonly pollIntervalSeconds: number;
  readonly firstSync: FirstSync;
  readonly sendPerMinute: number;
  readonly recipientsPerDay: number;
  /** Days the originals of its messages (raw MIME, attached files) are kept; null: for ever. */
  readonly rawRetentionDays: number | null;
  readonly status: AccountStatus;
  readonly lastError: AccountError | null;
  readonly statusChangedAt: Timestamp | null;
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
}

/** The fields an administrator sets. Omitted optional fields take the schema's defaults. */
export interface EmailAccountFields {
  readonly name: string;
  readonly key: string;
  readonly emailAddress: string;
  readonly username: string;
  readonly defaultListId?: number | null;
  readonly active?: boolean;
  readonly service?: AccountService;
  readonly modernAuth?: boolean;
  readonly providerId?: number | null;
  readonly modernAuthEmail?: string | null;
  readonly description?: string | null;
  readonly signature?: string | null;
  readonly transport?: AccountTransport;
  readonly imapHost?: string | null;
  readonly imapPort?: number | null;
  readonly smtpHost?: string | null;
  readonly smtpPort?: number | null;
  readonly tlsCaPem?: string | null;
  readonly folder?: string;
  readonly scanJunk?: boolean;
  readonly afterFetchAction?: AfterFetchAction;
  readonly afterFetchFolder?: string | null;
  readonly maxMessageBytes?: number;
  readonly useIdle?: boolean;
  readonly pollIntervalSeconds?: number;
  readonly firstSync?: FirstSync;
  readonly sendPerMinute?: number;
  readonly recipientsPerDay?: number;
  readonly rawRetentionDays?: number | null;
}

/** Filters of {@link listEmailAccounts}. */
export interface EmailAccountFilter {
  readonly active?: boolean;
  /** Only accounts this user is assigned to as an agent. */
  readonly agentUserId?: number;
}

/**
 * Creates an account (status `disconnected` until its worker connects).
 *
 * @throws PosternError RESOURCE_CONFLICT when the key is taken in any case.
 */
export async function createEmailAccount(db: Database, fields: EmailAccountFields): Promise<EmailAccountRecord> {
  const now = toDbTime(db.now());
  try {
    const row = await db.kysely
      .insertInto('email_accounts')
      .values({
        ...toColumns(fields),
        name: fields.name,
        key: fields.key,
        email_address: fields.emailAddress,
        username: fields.username,
        service: fields.service ?? 'outlook365',
        transport: fields.transport ?? 'imap_smtp',
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toEmailAccountRecord(row);
  } catch (error) {
    throw translateConflict(error, fields.key);
  }
}

/** The account with this id. */
export async function getEmailAccount(db: Database, id: number): Promise<EmailAccountRecord | undefined> {
  const row = await db.kysely.selectFrom('email_accounts').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toEmailAccountRecord(row);
}

/** The account with this id. @throws PosternError RESOURCE_NOT_FOUND */
export async function requireEmailAccount(db: Database, id: number): Promise<EmailAccountRecord> {
  const account = await getEmailAccount(db, id);
  if (account === undefined) throw accountNotFound(id);
  return account;
}

/**
 * The account with this id, when `agentUserId` is omitted (an administrator) or is an agent of it.
 *
 * @throws PosternError RESOURCE_NOT_FOUND, worded the same for an account the agent may not see as
 *   for one that does not exist, so that ids reveal nothing.
 */
export async function requireVisibleEmailAccount(
  db: Database,
  id: number,
  agentUserId?: number,
): Promise<EmailAccountRecord> {
  const account = await getEmailAccount(db, id);
  if (account === undefined || (agentUserId !== undefined && !(await isAccountAgent(db, id, agentUserId)))) {
    throw accountNotFound(id);
  }
  return account;
}

/** The account with this key, compared regardless of case. */
export async function findEmailAccountByKey(db: Database, key: string): Promise<EmailAccountRecord | undefined> {
  const row = await db.kysely
    .selectFrom('email_accounts')
    .selectAll()
    .where((eb) => eb(eb.fn('lower', ['key']), '=', key.toLowerCase()))
    .executeTakeFirst();
  return row === undefined ? undefined : toEmailAccountRecord(row);
}

/** Accounts by key. There are few: no paging. */
export async function listEmailAccounts(db: Database, filter: EmailAccountFilter = {}): Promise<EmailAccountRecord[]> {
  let query = db.kysely.selectFrom('email_accounts').selectAll('email_accounts');
  if (filter.active !== undefined) query = query.where('email_accounts.active', '=', filter.active ? 1 : 0);
  if (filter.agentUserId !== undefined) {
    const userId = filter.agentUserId;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('account_agents')
          .select('account_agents.account_id')
          .whereRef('account_agents.account_id', '=', 'email_accounts.id')
          .where('account_agents.user_id', '=', userId),
      ),
    );
  }
  const rows = await query
    .orderBy((eb) => eb.fn('lower', ['email_accounts.key']))
    .orderBy('email_accounts.id')
    .execute();
  return rows.map(toEmailAccountRecord);
}

/**
 * Changes an account's settings.
 *
 * @throws PosternError RESOURCE_NOT_FOUND, RESOURCE_CONFLICT for a taken key.
 */
export async function updateEmailAccount(
  db: Database,
  id: number,
  changes: Partial<EmailAccountFields>,
): Promise<EmailAccountRecord> {
  const columns = {
    ...toColumns(changes),
    ...(changes.name === undefined ? {} : { name: changes.name }),
    ...(changes.key === undefined ? {} : { key: changes.key }),
    ...(changes.emailAddress === undefined ? {} : { email_address: changes.emailAddress }),
    ...(changes.username === undefined ? {} : { username: changes.username }),
    ...(changes.service === undefined ? {} : { service: changes.service }),
    ...(changes.transport === undefined ? {} : { transport: changes.transport }),
  };
  try {
    const row = await db.kysely
      .updateTable('email_accounts')
      .set({ ...columns, updated_at: toDbTime(db.now()) })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw accountNotFound(id);
    return toEmailAccountRecord(row);
  } catch (error) {
    throw translateConflict(error, changes.key ?? '');
  }
}

/**
 * Sets (or, with null, removes) the password an account without Modern Authentication signs in with.
 *
 * @throws PosternError RESOURCE_NOT_FOUND
 */
export async function setEmailAccountPassword(
  db: Database,
  box: SecretBox,
  id: number,
  password: string | null,
): Promise<EmailAccountRecord> {
  const row = await db.kysely
    .updateTable('email_accounts')
    .set({ password_enc: box.sealOrNull(password, PASSWORD, id), updated_at: toDbTime(db.now()) })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) throw accountNotFound(id);
  return toEmailAccountRecord(row);
}

/** The account's password in plain text, for the IMAP and SMTP adapters; null when it has none. */
export function openEmailAccountPassword(box: SecretBox, account: EmailAccountRecord): string | null {
  return box.openOrNull(account.sealedPassword, PASSWORD, account.id);
}

/**
 * Marks `disconnected`, with the error, the accounts of a provider that sign in as `upn` (their
 * Modern Authentication email, else their username, regardless of case): their grant needs a new
 * sign-in.
 */
export async function disconnectAccountsSignedInAs(
  db: Database,
  providerId: number,
  upn: string,
  error: AccountError,
): Promise<void> {
  await db.kysely
    .updateTable('email_accounts')
    .set({
      status: 'disconnected',
      last_error_code: error.code,
      last_error_message: error.message,
      last_error_remedy: error.remedy,
      status_changed_at: toDbTime(db.now()),
    })
    .where('provider_id', '=', providerId)
    .where((eb) => eb(eb.fn('lower', [eb.fn.coalesce('modern_auth_email', 'username')]), '=', upn.toLowerCase()))
    .execute();
}

/**
 * Records the account's connection status and its last error (cleared with `null`). The status
 * time changes only when the status does, so "connected since" stays true across reports.
 *
 * @throws PosternError RESOURCE_NOT_FOUND
 */
export async function setEmailAccountStatus(
  db: Database,
  id: number,
  status: AccountStatus,
  error: AccountError | null = null,
): Promise<EmailAccountRecord> {
  return db.transaction(async (tx) => {
    const current = await requireEmailAccount(tx, id);
    const now = toDbTime(tx.now());
    const row = await tx.kysely
      .updateTable('email_accounts')
      .set({
        status,
        last_error_code: error?.code ?? null,
        last_error_message: error?.message ?? null,
        last_error_remedy: error?.remedy ?? null,
        status_changed_at:
          current.status === status && current.statusChangedAt !== null ? current.statusChangedAt : now,
        updated_at: now,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toEmailAccountRecord(row);
  });
}

/**
 * Deletes an account with its agent assignments and checkpoints.
 *
 * @throws PosternError RESOURCE_NOT_FOUND; RESOURCE_CONFLICT when it has conversations or mail
 *   (disable it instead).
 */
export async function deleteEmailAccount(db: Database, id: number): Promise<void> {
  await deleteUnlessReferenced(db, 'email_accounts', id, {
    resource: 'email_account',
    notFound: () => accountNotFound(id),
    inUse: {
      message: `Email account ${id} has conversations and cannot be deleted.`,
      remedy: 'Disable the account instead: its conversations stay readable and no mail is read or sent.',
    },
  });
}

/**
 * Replaces the agents assigned to an account.
 *
 * @throws PosternError RESOURCE_NOT_FOUND for an unknown account or user.
 */
export async function setAccountAgents(db: Database, accountId: number, userIds: readonly number[]): Promise<number[]> {
  const unique = [...new Set(userIds)].sort((a, b) => a - b);
  return db.transaction(async (tx) => {
    await requireEmailAccount(tx, accountId);
    if (unique.length > 0) {
      const found = await tx.kysely.selectFrom('users').select('id').where('id', 'in', unique).execute();
      const missing = unique.filter((userId) => !found.some((row) => row.id === userId));
      if (missing.length > 0) {
        throw new PosternError('RESOURCE_NOT_FOUND', {
          message: `There is no user ${missing.join(', ')}.`,
          details: { resource: 'user', ids: missing },
        });
      }
    }
    await tx.kysely.deleteFrom('account_agents').where('account_id', '=', accountId).execute();
    if (unique.length > 0) {
      const now = toDbTime(tx.now());
      await tx.kysely
        .insertInto('account_agents')
        .values(unique.map((userId) => ({ account_id: accountId, user_id: userId, created_at: now })))
        .execute();
    }
    return unique;
  });
}

/** The ids of the agents assigned to an account, ascending. */
export async function listAccountAgents(db: Database, accountId: number): Promise<number[]> {
  const rows = await db.kysely
    .selectFrom('account_agents')
    .select('user_id')
    .where('account_id', '=', accountId)
    .orderBy('user_id')
    .execute();
  return rows.map((row) => row.user_id);
}

/** The ids of the accounts a user is assigned to, ascending. */
export async function listAgentAccountIds(db: Database, userId: number): Promise<number[]> {
  const rows = await db.kysely
    .selectFrom('account_agents')
    .select('account_id')
    .where('user_id', '=', userId)
    .orderBy('account_id')
    .execute();
  return rows.map((row) => row.account_id);
}

/** True when the user is assigned to the account. */
export async function isAccountAgent(db: Database, accountId: number, userId: number): Promise<boolean> {
  const row = await db.kysely
    .selectFrom('account_agents')
    .select('user_id')
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}

/** The `first_sync_days` column value of a first-sync window. */
export function firstSyncToDays(firstSync: FirstSync): number {
  if (firstSync.kind === 'all') return -1;
  if (firstSync.kind === 'new') return 0;
  return Math.max(1, Math.trunc(firstSync.days));
}

/** The first-sync window of a `first_sync_days` value. */
export function firstSyncFromDays(days: number): FirstSync {
  if (days < 0) return { kind: 'all' };
  if (days === 0) return { kind: 'new' };
  return { kind: 'days', days };
}

function toColumns(fields: Partial<EmailAccountFields>) {
  const flag = (value: boolean): 0 | 1 => (value ? 1 : 0);
  return {
    ...(fields.defaultListId === undefined ? {} : { default_list_id: fields.defaultListId }),
    ...(fields.active === undefined ? {} : { active: flag(fields.active) }),
    ...(fields.modernAuth === undefined ? {} : { modern_auth: flag(fields.modernAuth) }),
    ...(fields.providerId === undefined ? {} : { provider_id: fields.providerId }),
    ...(fields.modernAuthEmail === undefined ? {} : { modern_auth_email: fields.modernAuthEmail }),
    ...(fields.description === undefined ? {} : { description: fields.description }),
    ...(fields.signature === undefined ? {} : { signature: fields.signature }),
    ...(fields.imapHost === undefined ? {} : { imap_host: fields.imapHost }),
    ...(fields.imapPort === undefined ? {} : { imap_port: fields.imapPort }),
    ...(fields.smtpHost === undefined ? {} : { smtp_host: fields.smtpHost }),
    ...(fields.smtpPort === undefined ? {} : { smtp_port: fields.smtpPort }),
    ...(fields.tlsCaPem === undefined ? {} : { tls_ca_pem: fields.tlsCaPem }),
    ...(fields.folder === undefined ? {} : { folder: fields.folder }),
    ...(fields.scanJunk === undefined ? {} : { scan_junk: flag(fields.scanJunk) }),
    ...(fields.afterFetchAction === undefined ? {} : { after_fetch_action: fields.afterFetchAction }),
    ...(fields.afterFetchFolder === undefined ? {} : { after_fetch_folder: fields.afterFetchFolder }),
    ...(fields.maxMessageBytes === undefined ? {} : { max_message_bytes: fields.maxMessageBytes }),
    ...(fields.useIdle === undefined ? {} : { use_idle: flag(fields.useIdle) }),
    ...(fields.pollIntervalSeconds === undefined ? {} : { poll_interval_seconds: fields.pollIntervalSeconds }),
    ...(fields.firstSync === undefined ? {} : { first_sync_days: firstSyncToDays(fields.firstSync) }),
    ...(fields.sendPerMinute === undefined ? {} : { send_per_minute: fields.sendPerMinute }),
    ...(fields.recipientsPerDay === undefined ? {} : { recipients_per_day: fields.recipientsPerDay }),
    ...(fields.rawRetentionDays === undefined ? {} : { raw_retention_days: fields.rawRetentionDays }),
  };
}

function translateConflict(error: unknown, key: string): unknown {
  if (readConstraintViolation(error)?.kind === 'unique') {
    return new PosternError('RESOURCE_CONFLICT', {
      message: `An email account with the key "${key}" already exists.`,
      remedy: 'Choose another key; keys are compared regardless of case.',
      details: { field: 'key', key },
      cause: error,
    });
  }
  if (readConstraintViolation(error)?.kind === 'foreign_key') {
    return new PosternError('VALIDATION_FAILED', {
      message: 'The default list or the cloud provider does not exist.',
      details: { fields: [{ field: 'defaultListId' }, { field: 'providerId' }] },
      cause: error,
    });
  }
  return error;
}

function accountNotFound(id: number): PosternError {
  return new PosternError('RESOURCE_NOT_FOUND', {
    message: `There is no email account ${id}.`,
    details: { resource: 'email_account', id },
  });
}

/** What each direction uses now (see {@link EmailAccountRecord.effective}). */
function effectiveOf(row: Row<'email_accounts'>): EmailAccountRecord['effective'] {
  if (row.transport === 'graph')
    return {
      inbound: { via: 'graph', reason: null, since: null },
      outbound: { via: 'graph', reason: null, since: null },
    };
  const auto = row.transport === 'auto';
  return {
    inbound:
      auto && row.inbound_via === 'graph'
        ? { via: 'graph', reason: row.inbound_via_reason, since: row.inbound_via_since }
        : { via: 'imap', reason: null, since: null },
    outbound:
      auto && row.outbound_via === 'graph'
        ? { via: 'graph', reason: row.outbound_via_reason, since: row.outbound_via_since }
        : { via: 'smtp', reason: null, since: null },
  };
}

/**
 * Records that one direction of an account of transport `auto` switched to Microsoft Graph, unless
 * it already had (or the account is no longer `auto`). Returns true when this call made the switch,
 * so that of several deliveries meeting the same refusal at once only one tells the timeline.
 */
export async function switchEffectiveTransport(
  db: Database,
  accountId: number,
  direction: 'inbound' | 'outbound',
  reason: string,
  at: Date,
): Promise<boolean> {
  const since = toDbTime(at);
  const query =
    direction === 'inbound'
      ? db.kysely
          .updateTable('email_accounts')
          .set({ inbound_via: 'graph', inbound_via_reason: reason, inbound_via_since: since })
          .where((eb) => eb.or([eb('inbound_via', 'is', null), eb('inbound_via', '!=', 'graph')]))
      : db.kysely
          .updateTable('email_accounts')
          .set({ outbound_via: 'graph', outbound_via_reason: reason, outbound_via_since: since })
          .where((eb) => eb.or([eb('outbound_via', 'is', null), eb('outbound_via', '!=', 'graph')]));
  const result = await query.where('id', '=', accountId).where('transport', '=', 'auto').executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Forgets where an account's directions switched to: each starts again on its starting transport. */
export async function resetEffectiveTransport(db: Database, accountId: number): Promise<void> {
  await db.kysely
    .updateTable('email_accounts')
    .set({
      inbound_via: null,
      inbound_via_reason: null,
      inbound_via_since: null,
      outbound_via: null,
      outbound_via_reason: null,
      outbound_via_since: null,
    })
    .where('id', '=', accountId)
    .execute();
}

function toEmailAccountRecord(row: Row<'email_accounts'>): EmailAccountRecord {
  return {
    id: row.id,
    name: row.name,
    key: row.key,
    emailAddress: row.email_address,
    defaultListId: row.default_list_id,
    active: row.active === 1,
    service: row.service,
    modernAuth: row.modern_auth === 1,
    username: row.username,
    sealedPassword: row.password_enc,
    providerId: row.provider_id,
    modernAuthEmail: row.modern_auth_email,
    description: row.description,
    signature: row.signature,
    transport: row.transport,
    effective: effectiveOf(row),
    imapHost: row.imap_host,
    imapPort: row.imap_port,
    smtpHost: row.smtp_host,
    smtpPort: row.smtp_port,
    tlsCaPem: row.tls_ca_pem,
    folder: row.folder,
    scanJunk: row.scan_junk === 1,
    afterFetchAction: row.after_fetch_action,
    afterFetchFolder: row.after_fetch_folder,
    maxMessageBytes: row.max_message_bytes,
    useIdle: row.use_idle === 1,
    pollIntervalSeconds: row.poll_interval_seconds,
    firstSync: firstSyncFromDays(row.first_sync_days),
    sendPerMinute: row.send_per_minute,
    recipientsPerDay: row.recipients_per_day,
    rawRetentionDays: row.raw_retention_days,
    status: row.status,
    lastError:
      row.last_error_code === null
        ? null
        : { code: row.last_error_code, message: row.last_error_message ?? '', remedy: row.last_error_remedy },
    statusChangedAt: row.status_changed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Whether an active account signs in through this provider as `upn` (case-insensitive; the
 * modern authentication email, or else the username) — any active account of the provider when
 * `upn` is null (an application grant). The token keeper renews only grants in use.
 */
export async function hasActiveAccountForGrant(
  db: Database,
  grant: { readonly providerId: number; readonly upn: string | null },
): Promise<boolean> {
  let query = db.kysely
    .selectFrom('email_accounts')
    .select('id')
    .where('provider_id', '=', grant.providerId)
    .where('active', '=', 1);
  if (grant.upn !== null) {
    const upn = grant.upn.toLowerCase();
    query = query.where((eb) => eb(eb.fn('lower', [eb.fn.coalesce('modern_auth_email', 'username')]), '=', upn));
  }
  return (await query.executeTakeFirst()) !== undefined;
}
