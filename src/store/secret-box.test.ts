import crypto from 'node:crypto';
import util from 'node:util';
import { describe, expect, it } from 'vitest';
import { isPosternError, type PosternError } from '../errors/index.js';
import { SecretBox, keyIdOf, sealedFormat, sealedKeyId } from './secret-box.js';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 9);
const SECRET = 'refresh-token-0.AVQA-very-secret';

/** A value in the v1 format of earlier releases: bound to its column only. */
function sealV1(key: Buffer, plaintext: string, context: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(`postern:v1:${keyIdOf(key)}:${context}`, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [
    'v1',
    keyIdOf(key),
    iv.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
    ciphertext.toString('base64url'),
  ].join('.');
}

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
    const first = box.seal(SECRET, 'grants.refresh_token', 1);
    const second = box.seal(SECRET, 'grants.refresh_token', 1);
    expect(first).not.toBe(second);
    expect(box.open(first, 'grants.refresh_token', 1)).toBe(SECRET);
    expect(box.open(second, 'grants.refresh_token', 1)).toBe(SECRET);
  });

  it('round-trips unicode and the empty string', () => {
    const box = new SecretBox(KEY);
    for (const text of ['', 'pässwörd ✓ 密码']) {
      expect(box.open(box.seal(text, 'email_accounts.password', 1), 'email_accounts.password', 1)).toBe(text);
    }
  });

  it('writes v2.<keyId>.<iv>.<tag>.<ciphertext> with the key fingerprint', () => {
    const box = new SecretBox(KEY);
    const sealed = box.seal(SECRET, 'webhooks.secret', 1);
    const parts = sealed.split('.');
    expect(parts).toHaveLength(5);
    expect(parts[0]).toBe('v2');
    expect(parts[1]).toBe(crypto.createHash('sha256').update(KEY).digest('hex').slice(0, 8));
    expect(box.keyId).toBe(keyIdOf(KEY));
    expect(sealedKeyId(sealed)).toBe(box.keyId);
    expect(Buffer.from(parts[2] ?? '', 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts[3] ?? '', 'base64url')).toHaveLength(16);
    expect(sealed).not.toContain(SECRET);
  });

  it('refuses a value written with another key: SECRET_KEY_INVALID, without the ciphertext', () => {
    const sealed = new SecretBox(KEY).seal(SECRET, 'grants.refresh_token', 1);
    const error = thrown(() => new SecretBox(OTHER_KEY).open(sealed, 'grants.refresh_token', 1));
    expect(error.code).toBe('SECRET_KEY_INVALID');
    expect(error.message).not.toContain(sealed.split('.')[4]);
    expect(error.message).toContain(keyIdOf(KEY));
    expect(JSON.stringify(error)).not.toContain(SECRET);
  });

  it('refuses a value written with another key even when its key id is forged', () => {
    const sealed = new SecretBox(KEY).seal(SECRET, 'grants.refresh_token', 1);
    const other = new SecretBox(OTHER_KEY);
    const forged = sealed.replace(`.${keyIdOf(KEY)}.`, `.${other.keyId}.`);
    expect(thrown(() => other.open(forged, 'grants.refresh_token', 1)).code).toBe('SECRET_VALUE_CORRUPT');
  });

  it('detects a tampered ciphertext, tag or IV', () => {
    const box = new SecretBox(KEY);
    const sealed = box.seal(SECRET, 'grants.refresh_token', 1);
    const parts = sealed.split('.');
    for (const index of [2, 3, 4]) {
      const bytes = Buffer.from(parts[index] ?? '', 'base64url');
      bytes[0] = (bytes[0] ?? 0) ^ 0x01;
      const tampered = parts.map((part, i) => (i === index ? bytes.toString('base64url') : part)).join('.');
      const error = thrown(() => box.open(tampered, 'grants.refresh_token', 1));
      expect(error.code, `part ${index}`).toBe('SECRET_VALUE_CORRUPT');
    }
  });

  it('binds a value to its column: a copy in another column does not open', () => {
    const box = new SecretBox(KEY);
    const sealed = box.seal(SECRET, 'grants.refresh_token', 1);
    const error = thrown(() => box.open(sealed, 'grants.password', 1));
    expect(error.code).toBe('SECRET_VALUE_CORRUPT');
    expect(error.message).toContain('grants.password');
  });

  it('refuses values that are not sealed values', () => {
    const box = new SecretBox(KEY);
    for (const junk of ['', 'plain text', 'v3.abcdef01.a.b.c', 'v2.nothex!!.a.b.c', 'v2.abcdef01.a.b']) {
      expect(thrown(() => box.open(junk, 'webhooks.secret', 1)).code, junk).toBe('SECRET_VALUE_CORRUPT');
    }
  });

  it('binds a value to its row: a copy in the same column of another row does not open, naming the row', () => {
    const box = new SecretBox(KEY);
    const sealed = box.seal(SECRET, 'grants.refresh_token', 7);
    expect(box.open(sealed, 'grants.refresh_token', 7)).toBe(SECRET);
    const error = thrown(() => box.open(sealed, 'grants.refresh_token', 8));
    expect(error.code).toBe('SECRET_VALUE_CORRUPT');
    expect(error.message).toContain('grants.refresh_token (row 8)');
    expect(error.details).toEqual({
      context: 'grants.refresh_token',
      table: 'grants',
      column: 'refresh_token_enc',
      row: 8,
    });
    expect(JSON.stringify(error)).not.toContain(SECRET);
    // A text key is not confused with a numeric one that prints the same way after a prefix.
    expect(thrown(() => box.open(box.seal(SECRET, 'webhooks.secret', 1), 'webhooks.secret', 11)).code).toBe(
      'SECRET_VALUE_CORRUPT',
    );
  });

  it('refuses a v1 value in open, and reads it only through openV1', () => {
    const box = new SecretBox(KEY);
    const v1 = sealV1(KEY, SECRET, 'grants.refresh_token');
    expect(sealedFormat(v1)).toEqual({ version: 'v1', keyId: box.keyId });
    const error = thrown(() => box.open(v1, 'grants.refresh_token', 1));
    expect(error.code).toBe('SECRET_VALUE_CORRUPT');
    expect(error.message).toContain('v1 format');
    expect(box.openV1(v1, 'grants.refresh_token', 1)).toBe(SECRET);
    expect(thrown(() => box.openV1(v1, 'grants.password', 1)).code).toBe('SECRET_VALUE_CORRUPT');
    expect(thrown(() => box.openV1(box.seal(SECRET, 'grants.refresh_token', 1), 'grants.refresh_token', 1)).code).toBe(
      'SECRET_VALUE_CORRUPT',
    );
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
