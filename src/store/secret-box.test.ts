import crypto from 'node:crypto';
import util from 'node:util';
import { describe, expect, it } from 'vitest';
import { isPosternError, type PosternError } from '../errors/index.js';
import { SecretBox, keyIdOf, sealedKeyId } from './secret-box.js';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 9);
const SECRET = 'refresh-token-0.AVQA-very-secret';

function thrown(fn: () => unknown): PosternError {
  try {
    fn();
  } catch (error) {
    if (isPosternError(error)) return error;
    throw error;
  }
  throw new Error('expected a PosternError');
}

describe('SecretBox', () => {
  it('round-trips a secret, with a fresh IV each time', () => {
    const box = new SecretBox(KEY);
    const first = box.seal(SECRET, 'grants.refresh_token');
    const second = box.seal(SECRET, 'grants.refresh_token');
    expect(first).not.toBe(second);
    expect(box.open(first, 'grants.refresh_token')).toBe(SECRET);
    expect(box.open(second, 'grants.refresh_token')).toBe(SECRET);
  });

  it('round-trips unicode and the empty string', () => {
    const box = new SecretBox(KEY);
    for (const text of ['', 'pässwörd ✓ 密码']) {
      expect(box.open(box.seal(text, 'email_accounts.password'), 'email_accounts.password')).toBe(text);
    }
  });

  it('writes v1.<keyId>.<iv>.<tag>.<ciphertext> with the key fingerprint', () => {
    const box = new SecretBox(KEY);
    const sealed = box.seal(SECRET, 'webhooks.secret');
    const parts = sealed.split('.');
    expect(parts).toHaveLength(5);
    expect(parts[0]).toBe('v1');
    expect(parts[1]).toBe(crypto.createHash('sha256').update(KEY).digest('hex').slice(0, 8));
    expect(box.keyId).toBe(keyIdOf(KEY));
    expect(sealedKeyId(sealed)).toBe(box.keyId);
    expect(Buffer.from(parts[2] ?? '', 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts[3] ?? '', 'base64url')).toHaveLength(16);
    expect(sealed).not.toContain(SECRET);
  });

  it('refuses a value written with another key: SECRET_KEY_INVALID, without the ciphertext', () => {
    const sealed = new SecretBox(KEY).seal(SECRET, 'grants.refresh_token');
    const error = thrown(() => new SecretBox(OTHER_KEY).open(sealed, 'grants.refresh_token'));
    expect(error.code).toBe('SECRET_KEY_INVALID');
    expect(error.message).not.toContain(sealed.split('.')[4]);
    expect(error.message).toContain(keyIdOf(KEY));
    expect(JSON.stringify(error)).not.toContain(SECRET);
  });

  it('refuses a value written with another key even when its key id is forged', () => {
    const sealed = new SecretBox(KEY).seal(SECRET, 'grants.refresh_token');
    const other = new SecretBox(OTHER_KEY);
    const forged = sealed.replace(`.${keyIdOf(KEY)}.`, `.${other.keyId}.`);
    expect(thrown(() => other.open(forged, 'grants.refresh_token')).code).toBe('SECRET_VALUE_CORRUPT');
  });

  it('detects a tampered ciphertext, tag or IV', () => {
    const box = new SecretBox(KEY);
    const sealed = box.seal(SECRET, 'grants.refresh_token');
    const parts = sealed.split('.');
    for (const index of [2, 3, 4]) {
      const bytes = Buffer.from(parts[index] ?? '', 'base64url');
      bytes[0] = (bytes[0] ?? 0) ^ 0x01;
      const tampered = parts.map((part, i) => (i === index ? bytes.toString('base64url') : part)).join('.');
      const error = thrown(() => box.open(tampered, 'grants.refresh_token'));
      expect(error.code, `part ${index}`).toBe('SECRET_VALUE_CORRUPT');
    }
  });

  it('binds a value to its column: a copy in another column does not open', () => {
    const box = new SecretBox(KEY);
    const sealed = box.seal(SECRET, 'grants.refresh_token');
    const error = thrown(() => box.open(sealed, 'grants.password'));
    expect(error.code).toBe('SECRET_VALUE_CORRUPT');
    expect(error.message).toContain('grants.password');
  });

  it('refuses values that are not sealed values', () => {
    const box = new SecretBox(KEY);
    for (const junk of ['', 'plain text', 'v2.abcdef01.a.b.c', 'v1.nothex!!.a.b.c', 'v1.abcdef01.a.b']) {
      expect(thrown(() => box.open(junk, 'webhooks.secret')).code, junk).toBe('SECRET_VALUE_CORRUPT');
    }
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(thrown(() => new SecretBox(Buffer.alloc(16))).code).toBe('SECRET_KEY_MALFORMED');
  });

  it('never shows its key when logged or serialised', () => {
    const box = new SecretBox(KEY);
    const hex = KEY.toString('hex');
    expect(JSON.stringify(box)).not.toContain(hex);
    expect(util.inspect(box, { showHidden: true, depth: 5 })).not.toContain('7, 7, 7');
    expect(util.inspect(box)).toContain(box.keyId);
  });
});
