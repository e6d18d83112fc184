import { describe, expect, it } from 'vitest';
import { PosternError } from '../errors/index.js';
import { readConstraintViolation, readStorageFailure, storageErrorOf } from './sql-errors.js';

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

describe('readStorageFailure and storageErrorOf', () => {
  it.each([
    ['database or disk is full', 'SQLITE_FULL', 'disk-full', 'STORE_DISK_FULL'],
    ['disk I/O error: no space left on device', 'SQLITE_IOERR_WRITE', 'disk-full', 'STORE_DISK_FULL'],
    ['disk I/O error', 'SQLITE_IOERR_FSYNC', 'unavailable', 'STORE_UNAVAILABLE'],
    ['disk I/O error', 'SQLITE_IOERR_SHORT_READ', 'unavailable', 'STORE_UNAVAILABLE'],
    ['attempt to write a readonly database', 'SQLITE_READONLY', 'read-only', 'STORE_READ_ONLY'],
    ['attempt to write a readonly database', 'SQLITE_READONLY_DBMOVED', 'read-only', 'STORE_READ_ONLY'],
    ['database disk image is malformed', 'SQLITE_CORRUPT', 'corrupt', 'STORE_CORRUPT'],
    ['unable to open database file', 'SQLITE_CANTOPEN', 'unavailable', 'STORE_UNAVAILABLE'],
    ['could not extend file: No space left on device', '53100', 'disk-full', 'STORE_DISK_FULL'],
    ['cannot execute INSERT in a read-only transaction', '25006', 'read-only', 'STORE_READ_ONLY'],
    ['terminating connection due to administrator command', '57P01', 'unavailable', 'STORE_UNAVAILABLE'],
    ['connection failure', '08006', 'unavailable', 'STORE_UNAVAILABLE'],
    ['no space left on device, write', 'ENOSPC', 'disk-full', 'STORE_DISK_FULL'],
    ['read-only file system', 'EROFS', 'read-only', 'STORE_READ_ONLY'],
  ])('%s (%s) is %s → %s, with its remedy and the driver error as cause', (message, code, kind, catalogue) => {
    const error = driverError(message, { code });
    expect(readStorageFailure(error)).toBe(kind);
    const mapped = storageErrorOf(error);
    expect(mapped?.code).toBe(catalogue);
    expect(mapped?.remedy).toBeTruthy();
    expect(mapped?.cause).toBe(error);
  });

  it('leaves constraint violations, bugs and catalogue errors alone', () => {
    expect(
      storageErrorOf(driverError('UNIQUE constraint failed: lists.name', { code: 'SQLITE_CONSTRAINT_UNIQUE' })),
    ).toBeUndefined();
    expect(storageErrorOf(driverError('syntax error', { code: '42601' }))).toBeUndefined();
    expect(storageErrorOf(new Error('boom'))).toBeUndefined();
    expect(storageErrorOf(new PosternError('STORE_UNAVAILABLE'))).toBeUndefined();
  });
});
