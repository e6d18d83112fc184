import { describe, expect, it } from 'vitest';
import { readConstraintViolation } from './sql-errors.js';

function driverError(message: string, fields: Record<string, string>): Error {
  return Object.assign(new Error(message), fields);
}

describe('readConstraintViolation', () => {
  it('reads better-sqlite3 errors, with the index name or the columns', () => {
    expect(
      readConstraintViolation(
        driverError("UNIQUE constraint failed: index 'users_username_lower_key'", { code: 'SQLITE_CONSTRAINT_UNIQUE' }),
      ),
    ).toEqual({ kind: 'unique', constraint: 'users_username_lower_key' });
    expect(
      readConstraintViolation(
        driverError('UNIQUE constraint failed: contact_addresses.address', { code: 'SQLITE_CONSTRAINT_UNIQUE' }),
      ),
    ).toEqual({ kind: 'unique', constraint: 'contact_addresses.address' });
    expect(
      readConstraintViolation(driverError('FOREIGN KEY constraint failed', { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' }))
        ?.kind,
    ).toBe('foreign_key');
    // ON DELETE RESTRICT is enforced as a trigger.
    expect(
      readConstraintViolation(driverError('FOREIGN KEY constraint failed', { code: 'SQLITE_CONSTRAINT_TRIGGER' }))
        ?.kind,
    ).toBe('foreign_key');
  });

  it('reads pg errors by SQLSTATE', () => {
    expect(
      readConstraintViolation(driverError('duplicate key', { code: '23505', constraint: 'lists_name_lower_key' })),
    ).toEqual({ kind: 'unique', constraint: 'lists_name_lower_key' });
    expect(readConstraintViolation(driverError('violates foreign key', { code: '23503', constraint: 'x' }))?.kind).toBe(
      'foreign_key',
    );
  });

  it('ignores everything else', () => {
    expect(readConstraintViolation(new Error('boom'))).toBeUndefined();
    expect(readConstraintViolation(driverError('syntax', { code: '42601' }))).toBeUndefined();
    expect(readConstraintViolation('23505')).toBeUndefined();
  });
});
