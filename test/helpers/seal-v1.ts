/**
 * The v1 sealed format of earlier releases (`v1.<keyId>.<iv>.<tag>.<ciphertext>`, associated data
 * `postern:v1:<keyId>:<context>`: bound to the column, not the row), written the way those
 * releases wrote it, so that tests can build a database as an older Postern left it.
 */
import crypto from 'node:crypto';
import { keyIdOf } from '../../src/store/secret-box.js';

/** Seals `plaintext` for `context` in the v1 format with the raw 32-byte `key`. */
export function sealV1(key: Uint8Array, plaintext: string, context: string): string {
  const keyId = keyIdOf(key);
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(`postern:v1:${keyId}:${context}`, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', keyId, iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}
