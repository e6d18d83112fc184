import { describe, expect, it } from 'vitest';
import { isPosternError } from '../errors/index.js';
import { parseDatabaseUrl, redactDatabaseUrl, scrubPassword } from './database-url.js';

describe('parseDatabaseUrl', () => {
  it('reads SQLite paths in their usual spellings', () => {
    expect(parseDatabaseUrl('sqlite:/var/lib/postern/postern.db')).toEqual({
      engine: 'sqlite',
      filename: '/var/lib/postern/postern.db',
    });
    expect(parseDatabaseUrl('sqlite:///var/lib/postern.db')).toEqual({
      engine: 'sqlite',
      filename: '/var/lib/postern.db',
    });
    expect(parseDatabaseUrl('sqlite:data/postern.db')).toEqual({ engine: 'sqlite', filename: 'data/postern.db' });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ engine: 'sqlite', filename: ':memory:' });
  });

  it('reads PostgreSQL URLs', () => {
    expect(parseDatabaseUrl('postgres://u:p@db:5432/postern').engine).toBe('postgres');
    expect(parseDatabaseUrl('postgresql://db/postern').engine).toBe('postgres');
  });

  it('refuses other schemes with CONFIG_INVALID, without the password', () => {
    for (const url of ['mysql://u:hunter2@db/x', 'sqlite:', 'postgres://u:hunter2@[bad']) {
      let error: unknown;
      try {
        parseDatabaseUrl(url);
      } catch (e) {
        error = e;
      }
      expect(isPosternError(error, 'CONFIG_INVALID'), url).toBe(true);
      expect(isPosternError(error) && error.message, url).not.toContain('hunter2');
    }
  });
});

describe('redactDatabaseUrl', () => {
  it('hides the password and password-like parameters, keeps the user', () => {
    const redacted = redactDatabaseUrl('postgres://postern:hunter2@db:5432/postern?sslmode=require&password=x2');
    expect(redacted).toBe('postgres://postern:***@db:5432/postern?sslmode=require&password=***');
  });

  it('leaves SQLite paths alone', () => {
    expect(redactDatabaseUrl('sqlite:/data/postern.db')).toBe('sqlite:/data/postern.db');
  });

  it('scrubs a password out of driver messages, encoded or not', () => {
    const url = 'postgres://u:p%40ss@db/x';
    expect(scrubPassword('failed for p@ss and p%40ss', url)).toBe('failed for *** and ***');
  });
});
