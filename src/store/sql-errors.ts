/**
 * Reads constraint violations out of the two drivers' errors, so that repositories can turn them
 * into catalogue errors (`RESOURCE_CONFLICT`) without knowing which engine they run on.
 *
 * @see https://www.sqlite.org/rescode.html#constraint_unique
 * @see https://www.postgresql.org/docs/current/errcodes-appendix.html (class 23)
 */

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
