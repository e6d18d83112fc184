import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPosternError } from '../errors/index.js';
import { decodeKeyText, loadSecretKey } from './secret-key.js';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-key-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('loadSecretKey from the environment', () => {
  const key = crypto.randomBytes(32);

  it('accepts 64 hex characters', () => {
    const loaded = loadSecretKey({ envValue: key.toString('hex'), keyFile: path.join(dir, 'unused.key') });
    expect(loaded.source).toBe('environment');
    expect(loaded.key.equals(key)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'unused.key'))).toBe(false);
  });

  it('accepts base64 and base64url of 32 bytes, with or without padding', () => {
    for (const text of [key.toString('base64'), key.toString('base64url'), key.toString('base64').replace(/=$/, '')]) {
      expect(decodeKeyText(text, 'POSTERN_SECRET_KEY').equals(key)).toBe(true);
    }
  });

  it('refuses anything else with SECRET_KEY_MALFORMED, saying what it expected and not the value', () => {
    for (const bad of [
      'hunter2-zebra',
      'ab'.repeat(31),
      crypto.randomBytes(16).toString('base64'),
      `${'g'.repeat(64)}`,
    ]) {
      const error = errorOf(() => loadSecretKey({ envValue: bad, keyFile: path.join(dir, 'k') }));
      expect(isPosternError(error, 'SECRET_KEY_MALFORMED'), bad).toBe(true);
      expect(isPosternError(error) && error.message).toContain('64 hexadecimal characters');
      expect(isPosternError(error) && error.message).not.toContain(bad);
    }
  });
});

describe('loadSecretKey from a key file', () => {
  it('creates a missing key file (and its directory) with 32 random bytes and mode 0600', () => {
    const keyFile = path.join(dir, 'nested', 'data', 'secret.key');
    const created = loadSecretKey({ envValue: '', keyFile });
    expect(created.source).toBe('created-file');
    expect(created.key).toHaveLength(32);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(keyFile)).mode & 0o077).toBe(0);
    const again = loadSecretKey({ keyFile });
    expect(again.source).toBe('file');
    expect(again.key.equals(created.key)).toBe(true);
    expect(again.warnings).toEqual([]);
  });

  it('puts the key file in place whole (written under a private name, then linked), leaving nothing else', () => {
    const keyFile = path.join(dir, 'secret.key');
    const created = loadSecretKey({ keyFile });
    expect(fs.readdirSync(dir)).toEqual(['secret.key']);
    expect(fs.statSync(keyFile).nlink).toBe(1);
    // Another process that finds the file in place reads that key, never one of its own.
    expect(loadSecretKey({ keyFile }).key.equals(created.key)).toBe(true);
  });

  it('writes the key as hex, so that it can be moved into POSTERN_SECRET_KEY', () => {
    const keyFile = path.join(dir, 'secret.key');
    const created = loadSecretKey({ keyFile });
    expect(fs.readFileSync(keyFile, 'utf8')).toBe(`${created.key.toString('hex')}\n`);
  });

  it('reads a key file holding 32 raw bytes', () => {
    const keyFile = path.join(dir, 'raw.key');
    const key = crypto.randomBytes(32);
    fs.writeFileSync(keyFile, key, { mode: 0o600 });
    expect(loadSecretKey({ keyFile }).key.equals(key)).toBe(true);
  });

  it('tightens a key file readable by others and says so', () => {
    const keyFile = path.join(dir, 'open.key');
    fs.writeFileSync(keyFile, `${crypto.randomBytes(32).toString('hex')}\n`);
    fs.chmodSync(keyFile, 0o644);
    const loaded = loadSecretKey({ keyFile });
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(loaded.warnings).toHaveLength(1);
    expect(loaded.warnings[0]).toContain('0644');
  });

  it('refuses a malformed key file, naming the file', () => {
    const keyFile = path.join(dir, 'bad.key');
    fs.writeFileSync(keyFile, 'not a key\n', { mode: 0o600 });
    const error = errorOf(() => loadSecretKey({ keyFile }));
    expect(isPosternError(error, 'SECRET_KEY_MALFORMED')).toBe(true);
    expect(isPosternError(error) && error.message).toContain(keyFile);
  });

  it('prefers the environment over an existing key file', () => {
    const keyFile = path.join(dir, 'secret.key');
    loadSecretKey({ keyFile });
    const envKey = crypto.randomBytes(32);
    expect(loadSecretKey({ envValue: envKey.toString('hex'), keyFile }).key.equals(envKey)).toBe(true);
  });
});
