/**
 * Runs the schema migrations with kysely's Migrator and a static provider: the ordered list below
 * is the schema's whole history, identical on SQLite and PostgreSQL.
 *
 * @see https://kysely.dev/docs/migrations
 */
import {
  Migrator,
  NO_MIGRATIONS,
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResult,
} from 'kysely';
import { PosternError } from '../../errors/index.js';
import type { Database } from '../database.js';
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
 * Brings the schema up to date. Safe to call from several nodes at once: kysely's lock table
 * serialises them. On SQLite each migration runs in its own transaction (kysely's SQLite adapter
 * does not open one), so a failure leaves no half-built table behind.
 *
 * @throws PosternError STORE_MIGRATION_FAILED naming the failing migration.
 */
export async function migrateToLatest(db: Database): Promise<MigrationReport> {
  const { error, results } = await createMigrator(db).migrateToLatest();
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (error !== undefined) throw migrationFailure(error, results);
  return { applied };
}

/**
 * Undoes the migrations that come after `target` (which stays applied), or all of them when
 * `target` is omitted. For development and tests; production schemas only move forward.
 */
export async function migrateDown(db: Database, target?: string): Promise<void> {
  const migrator = createMigrator(db);
  const { error, results } = await migrator.migrateTo(target ?? NO_MIGRATIONS);
  if (error !== undefined) throw migrationFailure(error, results);
}

/** Every known migration and when it ran (null when pending): for `postern migrate --status`. */
export async function getMigrationStates(db: Database): Promise<MigrationState[]> {
  const infos = await createMigrator(db).getMigrations();
  return infos.map((info) => ({ name: info.name, executedAt: info.executedAt ?? null }));
}

function createMigrator(db: Database): Migrator {
  return new Migrator({
    db: db.kysely,
    provider: new StaticMigrationProvider(columnKit(db.engine)),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
}

class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly kit: ColumnKit) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(MIGRATIONS.map((migration) => [migration.name, this.adapt(migration)]));
  }

  private adapt(migration: PosternMigration): Migration {
    const { kit } = this;
    const run =
      (step: (db: Kysely<unknown>, kit: ColumnKit) => Promise<void>) =>
      async (db: Kysely<unknown>): Promise<void> => {
        if (kit.engine === 'sqlite') await db.transaction().execute((trx) => step(trx, kit));
        else await step(db, kit);
      };
    return { up: run((db, k) => migration.up(db, k)), down: run((db, k) => migration.down(db, k)) };
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
