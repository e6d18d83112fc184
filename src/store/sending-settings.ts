/**
 * An email account's sending settings: the limits the dispatcher enforces (messages a minute,
 * recipients a rolling day, concurrent submissions) and the checks the send API makes (recipients
 * per message, message size), plus how long temporary failures are retried, and the hold on its
 * sending while Exchange throttles the mailbox (`holdAccountSending`). Defaults are Exchange
 * Online's (30, 10,000, 3, 500, 35 MB) and 24 hours.
 *
 * @see https://learn.microsoft.com/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits#sending-limits
 */
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import { longestOutboxDelayMs } from '../domain/outbox-policy.js';
import { isScheduledDue, setBackBound } from '../domain/scheduled-time.js';
import { PosternError } from '../errors/index.js';
import type { Database } from './database.js';
import { dueNextAttempt } from './outbox.js';
import type { AccountTransport, DB } from './schema.js';
import { fromDbTime, toDbTime } from './time.js';

/** One account's sending settings. */
export interface SendingSettings {
  readonly accountId: number;
  readonly sendPerMinute: number;
  readonly recipientsPerDay: number;
  readonly concurrency: number;
  readonly maxRecipientsPerMessage: number;
  readonly maxMessageBytes: number;
  readonly retryForHours: number;
}

/** The settings that can change. */
export type SendingSettingsChanges = Partial<Omit<SendingSettings, 'accountId'>>;

/** An account the dispatcher may send for, with its limits. */
export interface SendingAccount extends SendingSettings {
  readonly transport: AccountTransport;
}

/** The account's sending settings. @throws PosternError RESOURCE_NOT_FOUND */
export async function getSendingSettings(db: Database, accountId: number): Promise<SendingSettings> {
  const row = await selectSettings(db).where('id', '=', accountId).executeTakeFirst();
  if (row === undefined) throw accountNotFound(accountId);
  return toSettings(row);
}

/** Changes an account's sending settings. @throws PosternError RESOURCE_NOT_FOUND */
export async function updateSendingSettings(
  db: Database,
  accountId: number,
  changes: SendingSettingsChanges,
): Promise<SendingSettings> {
  const columns = {
    ...(changes.sendPerMinute === undefined ? {} : { send_per_minute: changes.sendPerMinute }),
    ...(changes.recipientsPerDay === undefined ? {} : { recipients_per_day: changes.recipientsPerDay }),
    ...(changes.concurrency === undefined ? {} : { send_concurrency: changes.concurrency }),
    ...(changes.maxRecipientsPerMessage === undefined
      ? {}
      : { max_recipients_per_message: changes.maxRecipientsPerMessage }),
    ...(changes.maxMessageBytes === undefined ? {} : { max_send_bytes: changes.maxMessageBytes }),
    ...(changes.retryForHours === undefined ? {} : { send_retry_hours: changes.retryForHours }),
  };
  const result = await db.kysely
    .updateTable('email_accounts')
    .set({ ...columns, updated_at: toDbTime(db.now()) })
    .where('id', '=', accountId)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw accountNotFound(accountId);
  return getSendingSettings(db, accountId);
}

/**
 * Active accounts of the given transports that have queued mail due by `now`, with their limits:
 * the dispatcher's work list.
 */
export async function listAccountsWithDueMail(
  db: Database,
  now: Date,
  transports: readonly AccountTransport[],
): Promise<SendingAccount[]> {
  if (transports.length === 0) return [];
  const rows = await selectSettings(db)
    .select('transport')
    .where('active', '=', 1)
    .where('transport', 'in', [...transports])
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('outbox')
          .select('outbox.id')
          .whereRef('outbox.account_id', '=', 'email_accounts.id')
          .where('outbox.state', '=', 'queued')
          .where((inner) => dueNextAttempt(inner, now)),
      ),
    )
    .where((eb) => holdOver(eb, now))
    .orderBy('id')
    .execute();
  return rows.map((row) => ({ ...toSettings(row), transport: row.transport }));
}

/** Why and until when an account's sending is held. */
export interface SendingHold {
  readonly until: Date;
  readonly code: string;
  readonly message: string;
  readonly remedy: string | null;
}

/**
 * Holds the account's sending until `hold.until`, unless a hold is already in force at `now`
 * (submissions under way when the block began end with the same refusal: the first one decides).
 * Returns true when this call started the hold.
 */
export async function holdAccountSending(
  db: Database,
  accountId: number,
  hold: SendingHold,
  now: Date,
): Promise<boolean> {
  const result = await db.kysely
    .updateTable('email_accounts')
    .set({
      sending_held_until: toDbTime(hold.until),
      sending_hold_code: hold.code,
      sending_hold_message: hold.message,
      sending_hold_remedy: hold.remedy,
    })
    .where('id', '=', accountId)
    .where((eb) => holdOver(eb, now))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The hold in force on the account's sending at `now`, if any. */
export async function getSendingHold(db: Database, accountId: number, now: Date): Promise<SendingHold | null> {
  const row = await db.kysely
    .selectFrom('email_accounts')
    .select(['sending_held_until', 'sending_hold_code', 'sending_hold_message', 'sending_hold_remedy'])
    .where('id', '=', accountId)
    .executeTakeFirst();
  if (row?.sending_held_until == null) return null;
  if (isScheduledDue(fromDbTime(row.sending_held_until), now, longestOutboxDelayMs())) return null;
  return {
    until: fromDbTime(row.sending_held_until),
    code: row.sending_hold_code ?? 'SMTP_SENDER_THROTTLED',
    message: row.sending_hold_message ?? '',
    remedy: row.sending_hold_remedy,
  };
}

/**
 * No hold is in force on the account at `now`: none, ended, or one further ahead than a hold is
 * ever set — the clock was set back since (domain/scheduled-time.ts).
 */
function holdOver(eb: ExpressionBuilder<DB, 'email_accounts'>, now: Date): Expression<SqlBool> {
  return eb.or([
    eb('sending_held_until', 'is', null),
    eb('sending_held_until', '<=', toDbTime(now)),
    eb('sending_held_until', '>', toDbTime(setBackBound(now, longestOutboxDelayMs()))),
  ]);
}

function selectSettings(db: Database) {
  return db.kysely
    .selectFrom('email_accounts')
    .select([
      'id',
      'send_per_minute',
      'recipients_per_day',
      'send_concurrency',
      'max_recipients_per_message',
      'max_send_bytes',
      'send_retry_hours',
    ]);
}

function toSettings(row: {
  id: number;
  send_per_minute: number;
  recipients_per_day: number;
  send_concurrency: number;
  max_recipients_per_message: number;
  max_send_bytes: number;
  send_retry_hours: number;
}): SendingSettings {
  return {
    accountId: row.id,
    sendPerMinute: row.send_per_minute,
    recipientsPerDay: row.recipients_per_day,
    concurrency: row.send_concurrency,
    maxRecipientsPerMessage: row.max_recipients_per_message,
    maxMessageBytes: row.max_send_bytes,
    retryForHours: row.send_retry_hours,
  };
}

function accountNotFound(id: number): PosternError {
  return new PosternError('RESOURCE_NOT_FOUND', {
    message: `There is no email account ${id}.`,
    details: { resource: 'email_account', id },
  });
}
