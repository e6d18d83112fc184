/**
 * Reads constraint violations and storage failures out of the two drivers' errors, so that
 * repositories and the services above them can turn them into catalogue errors
 * (`RESOURCE_CONFLICT`, `STORE_DISK_FULL`…) without knowing which engine they run on.
 *
 * @see https://www.sqlite.org/rescode.html#constraint_unique
 * @see https://www.postgresql.org/docs/current/errcodes-appendix.html (class 23)
 */

import { PosternError, isPosternError } from '../errors/index.js';

/** What kind of constraint a write broke. */
export type ConstraintKind = 'unique' | 'foreign_key' | 'not_null' | 'check';

/** A constraint violation, whichever engine reported it. */
export interface ConstraintViolation {
  readonly kind: ConstraintKind;
  /** PostgreSQL's constraint name, or SQLite's index name or `table.column` list. */
  readonly constraint: string;
}

const SQLITE_CODES: Readonly<Record<string, ConstraintKind>> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign_key',
  SQLITE_CONSTRAINT_NOTNULL: 'not_null',
  SQLITE_CONSTRAINT_CHECK: 'check',
};

const POSTGRES_CODES: Readonly<Record<string, ConstraintKind>> = {
  '23505': 'unique',
  '23503': 'foreign_key',
  '23502': 'not_null',
  '23514': 'check',
};

/** The violation an error reports, or undefined when it is not a constraint violation. */
export function readConstraintViolation(error: unknown): ConstraintViolation | undefined {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string') return undefined;
  // ON DELETE RESTRICT reports SQLITE_CONSTRAINT_TRIGGER; the message still says FOREIGN KEY.
  const sqliteKind =
    error.code.startsWith('SQLITE_CONSTRAINT') && error.message.startsWith('FOREIGN KEY constraint failed')
      ? 'foreign_key'
      : SQLITE_CODES[error.code];
  if (sqliteKind !== undefined) {
    const match = /constraint failed: (?:index '([^']+)'|(.+))$/i.exec(error.message);
    return { kind: sqliteKind, constraint: match?.[1] ?? match?.[2] ?? '' };
  }
  const postgresKind = POSTGRES_CODES[error.code];
  if (postgresKind !== undefined) {
    const constraint = 'constraint' in error && typeof error.constraint === 'string' ? error.constraint : '';
    return { kind: postgresKind, constraint };
  }
  return undefined;
}

/** Why a write could not be stored, whichever engine reported it. */
export type StorageFailureKind = 'disk-full' | 'read-only' | 'unavailable' | 'corrupt';

const SQLITE_FAILURES: ReadonlyArray<readonly [prefix: string, kind: StorageFailureKind]> = [
  ['SQLITE_FULL', 'disk-full'],
  ['SQLITE_READONLY', 'read-only'],
  ['SQLITE_CORRUPT', 'corrupt'],
  ['SQLITE_NOTADB', 'corrupt'],
  ['SQLITE_IOERR', 'unavailable'],
  ['SQLITE_CANTOPEN', 'unavailable'],
];

/**
 * What kind of storage failure an error is — a full disk, a read-only file system or database, a
 * database gone away, a damaged file — or undefined when it is none of these (a constraint, a bug).
 *
 * @see https://www.sqlite.org/rescode.html (SQLITE_FULL, SQLITE_IOERR_*, SQLITE_READONLY_*)
 * @see https://www.postgresql.org/docs/current/errcodes-appendix.html (53100 disk_full, 25006, 57014, 57P0x, class 08)
 */
export function readStorageFailure(error: unknown): StorageFailureKind | undefined {
  const code =
    typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
      ? error.code
      : undefined;
  if (code === undefined) return lostPostgresConnection(error) ? 'unavailable' : undefined;
  if (code === 'ENOSPC') return 'disk-full';
  if (code === 'EROFS') return 'read-only';
  if (code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR_FSYNC') {
    // ENOSPC surfaces as a write or fsync I/O error when the WAL cannot grow.
    return error instanceof Error && /full|space/i.test(error.message) ? 'disk-full' : 'unavailable';
  }
  for (const [prefix, kind] of SQLITE_FAILURES) if (code.startsWith(prefix)) return kind;
  if (code === '53100') return 'disk-full';
  if (code === '25006') return 'read-only';
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return 'unavailable';
  // The statement timeout: the server did not answer in time, as with the client's own timeout.
  if (code === '57014') return 'unavailable';
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT') return 'unavailable';
  return undefined;
}

/**
 * node-postgres's own errors for a connection that broke, timed out or could not be had carry no
 * code, only these messages (pg/lib/client.js, pg-pool/index.js): a PostgreSQL restart gives them.
 */
const PG_CONNECTION_MESSAGES: readonly string[] = [
  'Connection terminated',
  'Query read timeout',
  'timeout exceeded when trying to connect',
  'timeout expired',
  'Client has encountered a connection error and is not queryable',
];

function lostPostgresConnection(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return PG_CONNECTION_MESSAGES.some((message) => error.message.startsWith(message));
}

/**
 * The catalogue error for a storage failure — so that a database that cannot write is reported as
 * the database, never as the mail server that happened to be talking — or undefined when `error`
 * is not one (it is then thrown as it is).
 */
export function storageErrorOf(error: unknown): PosternError | undefined {
  if (isPosternError(error)) return undefined;
  const kind = readStorageFailure(error);
  if (kind === undefined) return undefined;
  const detail = error instanceof Error ? error.message : String(error);
  const code =
    kind === 'disk-full'
      ? 'STORE_DISK_FULL'
      : kind === 'read-only'
        ? 'STORE_READ_ONLY'
        : kind === 'corrupt'
          ? 'STORE_CORRUPT'
          : 'STORE_UNAVAILABLE';
  return new PosternError(code, { details: { reason: detail.slice(0, 200) }, cause: error });
}

/** The catalogue codes of storage failures (see {@link storageErrorOf}). */
export const STORAGE_ERROR_CODES: ReadonlySet<string> = new Set([
  'STORE_DISK_FULL',
  'STORE_READ_ONLY',
  'STORE_UNAVAILABLE',
  'STORE_CORRUPT',
]);

/**
 * The storage failure an error is — a driver's error, or one already turned into its catalogue
 * error further down — or undefined. Callers that must not blame something else for the store
 * (the outbox: a message is never failed because the database could not write) branch on it.
 */
export function asStorageError(error: unknown): PosternError | undefined {
  if (isPosternError(error)) return STORAGE_ERROR_CODES.has(error.code) ? error : undefined;
  return storageErrorOf(error);
}
