/**
 * Encryption of secrets at rest (client secrets, refresh and access tokens, passwords, webhook
 * secrets) with AES-256-GCM. A sealed value is one text:
 *
 *     v1.<keyId>.<iv>.<tag>.<ciphertext>      (iv, tag, ciphertext in base64url)
 *
 * `keyId` is the first 8 hex digits of sha256(key): it tells "wrong key" apart from "damaged
 * value" without revealing the key. The associated data binds the value to its column
 * (`grants.refresh_token`), so a ciphertext copied into another column does not decrypt.
 *
 * @see https://nvlpubs.nist.gov/nistpubs/Legacy/SP/nistspecialpublication800-38d.pdf (GCM, 96-bit IV)
 */
import crypto from 'node:crypto';
import { PosternError } from '../errors/index.js';
import type { SecretContext } from './encrypted-columns.js';
import type { Sealed } from './schema.js';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

/** The fingerprint of a key: first 8 hex digits of its sha256. */
export function keyIdOf(key: Uint8Array): string {
  return crypto.createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** Seals and opens secrets with one 32-byte key. The key is held privately and never printed. */
export class SecretBox {
  readonly keyId: string;
  readonly #key: Buffer;

  /** @throws PosternError SECRET_KEY_MALFORMED when the key is not 32 bytes. */
  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) {
      throw new PosternError('SECRET_KEY_MALFORMED', {
        message: `The secret key must be ${KEY_BYTES} bytes; it is ${key.length}.`,
      });
    }
    this.#key = Buffer.from(key);
    this.keyId = keyIdOf(this.#key);
  }

  /** Encrypts `plaintext` for the column named by `context`. */
  seal(plaintext: string, context: SecretContext): Sealed {
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv(ALGORITHM, this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(this.associatedData(this.keyId, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.keyId, b64(iv), b64(tag), b64(ciphertext)].join('.');
  }

  /**
   * Decrypts a value sealed for `context`.
   *
   * @throws PosternError SECRET_KEY_INVALID when it was sealed with another key;
   *   SECRET_VALUE_CORRUPT when it is damaged, not a sealed value, or sealed for another column.
   */
  open(sealed: Sealed, context: SecretContext): string {
    const parts = parseSealed(sealed, context);
    if (parts.keyId !== this.keyId) {
      throw new PosternError('SECRET_KEY_INVALID', {
        message: `A secret in ${context} was encrypted with key ${parts.keyId}, but the configured key is ${this.keyId}.`,
        details: { context, storedKeyId: parts.keyId, configuredKeyId: this.keyId },
      });
    }
    try {
      const decipher = crypto.createDecipheriv(ALGORITHM, this.#key, parts.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(this.associatedData(parts.keyId, context));
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw corrupt(context, 'it fails authentication');
    }
  }

  /** `seal` for nullable columns. */
  sealOrNull(plaintext: string | null | undefined, context: SecretContext): Sealed | null {
    return plaintext === null || plaintext === undefined ? null : this.seal(plaintext, context);
  }

  /** `open` for nullable columns. */
  openOrNull(sealed: Sealed | null, context: SecretContext): string | null {
    return sealed === null ? null : this.open(sealed, context);
  }

  /** Never shows the key, whatever logs or inspects the box. */
  toJSON(): { keyId: string } {
    return { keyId: this.keyId };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SecretBox { keyId: '${this.keyId}' }`;
  }

  private associatedData(keyId: string, context: SecretContext): Buffer {
    return Buffer.from(`postern:${VERSION}:${keyId}:${context}`, 'utf8');
  }
}

/** The key id of a sealed value, or undefined when it is not one. */
export function sealedKeyId(sealed: string): string | undefined {
  const [version, keyId] = sealed.split('.');
  return version === VERSION && keyId !== undefined && /^[0-9a-f]{8}$/.test(keyId) ? keyId : undefined;
}

interface SealedParts {
  keyId: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

function parseSealed(sealed: string, context: SecretContext): SealedParts {
  const parts = sealed.split('.');
  const [version, keyId, iv, tag, ciphertext] = parts;
  if (parts.length !== 5 || version !== VERSION || keyId === undefined || sealedKeyId(sealed) === undefined) {
    throw corrupt(context, 'it is not a Postern v1 sealed value');
  }
  const decoded = { keyId, iv: unb64(iv), tag: unb64(tag), ciphertext: unb64(ciphertext) };
  if (decoded.iv.length !== IV_BYTES || decoded.tag.length !== TAG_BYTES) {
    throw corrupt(context, 'its IV or tag has the wrong length');
  }
  return decoded;
}

function corrupt(context: SecretContext, why: string): PosternError {
  return new PosternError('SECRET_VALUE_CORRUPT', {
    message: `A secret in ${context} cannot be decrypted: ${why}.`,
    details: { context },
  });
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64url');
}

function unb64(text: string | undefined): Buffer {
  return text === undefined || !/^[A-Za-z0-9_-]*$/.test(text) ? Buffer.alloc(0) : Buffer.from(text, 'base64url');
}
