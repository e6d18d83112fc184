/**
 * Runs the schema migrations with kysely's Migrator and a static provider: the ordered list below
 * is the schema's whole history, identical on SQLite and PostgreSQL.
 *
 * @see https://kysely.dev/docs/migrations
 */
import {
  Migrator,
  NO_MIGRATIONS,
  sql,
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResult,
  type MigrationResultSet,
} from 'kysely';
import { PosternError } from '../../errors/index.js';
import type { Database, Engine } from '../database.js';
import type { DB } from '../schema.js';
import { columnKit, type ColumnKit } from './columns.js';
import type { PosternMigration } from './migration.js';
import { identityMigration } from './0001-identity.js';
import { providersMigration } from './0002-providers.js';
import { contactsMigration } from './0003-contacts.js';
import { accountsMigration } from './0004-accounts.js';
import { messagesMigration } from './0005-messages.js';
import { eventsMigration } from './0006-events.js';
import { outboundMigration } from './0007-outbound.js';
import { grantEmailMigration } from './0008-grant-email.js';
import { attachmentsInRawMigration } from './0009-attachments-in-raw.js';
import { loginThrottleMigration } from './0010-login-throttle.js';
import { signInTicketsMigration } from './0012-sign-in-tickets.js';
import { sendingHoldMigration } from './0013-sending-hold.js';
import { clientCertificatesMigration } from './0014-client-certificates.js';
import { accountTlsCaMigration } from './0015-account-tls-ca.js';
import { graphInboundMigration } from './0016-graph-inbound.js';
import { messageBouncesMigration } from './0018-message-bounces.js';
import { effectiveTransportMigration } from './0019-effective-transport.js';
import { graphSubscriptionsMigration } from './0020-graph-subscriptions.js';
import { nodesAndMailboxLeasesMigration } from './0021-nodes-and-mailbox-leases.js';
import { messageSearchMigration } from './0023-message-search.js';
import { rawMimeUncompressedMigration } from './0025-raw-mime-uncompressed.js';
import { replyDraftsMigration } from './0026-reply-drafts.js';
import { notesMigration } from './0027-notes.js';
import { retentionMigration } from './0030-retention.js';
import { snoozeMigration } from './0031-snooze.js';
import { signaturesCannedAnswersMigration } from './0032-signatures-canned-answers.js';
import { replyDraftHtmlMigration } from './0033-reply-draft-html.js';
import { searchAtScaleMigration } from './0034-search-at-scale.js';
import { contactSearchMigration } from './0035-contact-search.js';
import { subjectSearchMigration } from './0036-subject-search.js';
import { conversationSubjectsMigration } from './0037-conversation-subjects.js';
import { phrasePairsMigration } from './0038-phrase-pairs.js';
import { messageConversationIndexMigration } from './0039-message-conversation-index.js';

/** Every migration, oldest first. Append only. */
export const MIGRATIONS: readonly PosternMigration[] = [
  identityMigration,
  providersMigration,
  contactsMigration,
  accountsMigration,
  messagesMigration,
  eventsMigration,
  outboundMigration,
  grantEmailMigration,
  attachmentsInRawMigration,
  loginThrottleMigration,
  signInTicketsMigration,
  sendingHoldMigration,
  clientCertificatesMigration,
  accountTlsCaMigration,
  graphInboundMigration,
  messageBouncesMigration,
  effectiveTransportMigration,
  graphSubscriptionsMigration,
  nodesAndMailboxLeasesMigration,
  messageSearchMigration,
  rawMimeUncompressedMigration,
  replyDraftsMigration,
  notesMigration,
  retentionMigration,
  snoozeMigration,
  signaturesCannedAnswersMigration,
  replyDraftHtmlMigration,
  searchAtScaleMigration,
  contactSearchMigration,
  subjectSearchMigration,
  conversationSubjectsMigration,
  phrasePairsMigration,
  messageConversationIndexMigration,
];

const MIGRATION_TABLE = 'schema_migrations';
const MIGRATION_LOCK_TABLE = 'schema_migrations_lock';

/** What `migrateToLatest` did. */
export interface MigrationReport {
  /** Names of the migrations applied by this call, in order; empty when already up to date. */
  readonly applied: readonly string[];
}

/** One migration and whether it has run. */
export interface MigrationState {
  readonly name: string;
  readonly executedAt: Date | null;
}

/**
 * Brings the schema up to date. Safe to call from several processes at once: the whole run holds
 * an exclusive lock, and one that had to wait then finds nothing left to do. On PostgreSQL that is
 * kysely's advisory lock around one transaction; on SQLite, where kysely takes no lock (it assumes
 * one connection), the run is one `BEGIN IMMEDIATE` transaction — SQLite's write lock on the file,
 * which the next process waits for (up to {@link SQLITE_MIGRATION_WAIT_MS}) before it reads which
 * migrations have run. On both engines a failure rolls the run back: no half-built table remains.
 *
 * @throws PosternError STORE_MIGRATION_FAILED naming the failing migration.
 */
export async function migrateToLatest(db: Database): Promise<MigrationReport> {
  const { error, results } = await runExclusive(db, (migrator) => migrator.migrateToLatest());
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (error !== undefined) throw migrationFailure(error, results);
  return { applied };
}

/**
 * Undoes the migrations that come after `target` (which stays applied), or all of them when
 * `target` is omitted. For development and tests; production schemas only move forward.
 */
export async function migrateDown(db: Database, target?: string): Promise<void> {
  const { error, results } = await runExclusive(db, (migrator) => migrator.migrateTo(target ?? NO_MIGRATIONS));
  if (error !== undefined) throw migrationFailure(error, results);
}

/** Every known migration and when it ran (null when pending): for `postern migrate --status`. */
export async function getMigrationStates(db: Database): Promise<MigrationState[]> {
  const infos = await createMigrator(db.kysely, db.engine).getMigrations();
  return infos.map((info) => ({ name: info.name, executedAt: info.executedAt ?? null }));
}

/**
 * How long a process waits on SQLite for another one's migrations (ms): far longer than the
 * connection's usual busy timeout, since a migration of a large database may take a while.
 */
export const SQLITE_MIGRATION_WAIT_MS = 120_000;

/**
 * Runs `step` with a migrator holding the schema for itself across processes. PostgreSQL: kysely's
 * advisory lock and transaction. SQLite: `BEGIN IMMEDIATE` on the one connection, committed when
 * the run succeeded and rolled back when it failed.
 * @see https://www.sqlite.org/lang_transaction.html#deferred_immediate_and_exclusive_transactions
 */
async function runExclusive(
  db: Database,
  step: (migrator: Migrator) => Promise<MigrationResultSet>,
): Promise<MigrationResultSet> {
  // A long statement (an index built over a million rows) must not hit the query timeout.
  if (db.engine !== 'sqlite') return db.withoutQueryTimeout((kysely) => step(createMigrator(kysely, db.engine)));
  return db.kysely.connection().execute(async (connection) => {
    const { rows } = await sql<{ timeout: number }>`pragma busy_timeout`.execute(connection);
    const busyTimeout = Number(rows[0]?.timeout ?? 0);
    await sql.raw(`pragma busy_timeout = ${SQLITE_MIGRATION_WAIT_MS}`).execute(connection);
    try {
      await sql`begin immediate`.execute(connection);
    } catch (error) {
      await sql.raw(`pragma busy_timeout = ${busyTimeout}`).execute(connection);
      return { error, results: undefined };
    }
    let outcome: MigrationResultSet;
    try {
      outcome = await step(createMigrator(connection, db.engine));
    } catch (error) {
      outcome = { error, results: undefined };
    }
    try {
      await sql.raw(outcome.error === undefined ? 'commit' : 'rollback').execute(connection);
    } catch (error) {
      // SQLite may have rolled back already (a full disk); a failed commit is undone here.
      await sql`rollback`.execute(connection).catch(() => undefined);
      if (outcome.error === undefined) outcome = { error, results: outcome.results };
    } finally {
      await sql.raw(`pragma busy_timeout = ${busyTimeout}`).execute(connection);
    }
    return outcome;
  });
}

function createMigrator(kysely: Kysely<DB>, engine: Engine): Migrator {
  return new Migrator({
    db: kysely,
    provider: new StaticMigrationProvider(columnKit(engine)),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
}

/** The migrations as kysely wants them; the transaction around them is the caller's (see runExclusive). */
class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly kit: ColumnKit) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(MIGRATIONS.map((migration) => [migration.name, this.adapt(migration)]));
  }

  private adapt(migration: PosternMigration): Migration {
    const { kit } = this;
    return { up: (db) => migration.up(db, kit), down: (db) => migration.down(db, kit) };
  }
}

function migrationFailure(error: unknown, results: readonly MigrationResult[] | undefined): PosternError {
  const failed = results?.find((result) => result.status === 'Error')?.migrationName;
  const reason = error instanceof Error ? error.message : String(error);
  return new PosternError('STORE_MIGRATION_FAILED', {
    message:
      failed === undefined
        ? `The database schema could not be migrated: ${reason}`
        : `Migration ${failed} failed: ${reason}`,
    details: failed === undefined ? {} : { migration: failed },
    cause: error,
  });
}
