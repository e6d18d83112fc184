/**
 * Encryption of secrets at rest (client secrets, refresh and access tokens, passwords, webhook
 * secrets) with AES-256-GCM. A sealed value is one text:
 *
 *     v2.<keyId>.<iv>.<tag>.<ciphertext>      (iv, tag, ciphertext in base64url)
 *
 * `keyId` is the first 8 hex digits of sha256(key): it tells "wrong key" apart from "damaged
 * value" without revealing the key. The associated data `postern:v2:<keyId>:<context>:<row>`
 * binds the value to its column (`grants.refresh_token`) and to its row's primary key, so a
 * ciphertext copied into another column, or into the same column of another row, does not decrypt.
 *
 * Values of the older v1 format were bound to their column only. {@link SecretBox.open} refuses
 * them; {@link SecretBox.openV1} reads them for the one-time upgrade (sealed-upgrade.ts) and for
 * the key check alone.
 *
 * @see https://nvlpubs.nist.gov/nistpubs/Legacy/SP/nistspecialpublication800-38d.pdf (GCM, 96-bit IV)
 */
import crypto from 'node:crypto';
import { PosternError } from '../errors/index.js';
import { ENCRYPTED_COLUMNS, type SecretContext } from './encrypted-columns.js';
import type { Sealed } from './schema.js';

const VERSION = 'v2';
const V1 = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

/** The primary key of the row a value is sealed for. */
export type RowKey = number | string;

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

  /** Encrypts `plaintext` for the column named by `context`, in the row whose primary key is `row`. */
  seal(plaintext: string, context: SecretContext, row: RowKey): Sealed {
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv(ALGORITHM, this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(VERSION, this.keyId, context, row));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.keyId, b64(iv), b64(tag), b64(ciphertext)].join('.');
  }

  /**
   * Decrypts a value sealed for `context` in the row `row`.
   *
   * @throws PosternError SECRET_KEY_INVALID when it was sealed with another key;
   *   SECRET_VALUE_CORRUPT when it is damaged, not a v2 sealed value (a v1 value is refused), or
   *   sealed for another column or another row.
   */
  open(sealed: Sealed, context: SecretContext, row: RowKey): string {
    return this.decrypt(parseSealed(sealed, VERSION, context, row), context, row);
  }

  /**
   * Decrypts a value of the v1 format (bound to its column only). For the one-time upgrade to v2
   * and the key check; never for a value a service uses.
   *
   * @throws PosternError as {@link open}.
   */
  openV1(sealed: Sealed, context: SecretContext, row: RowKey): string {
    return this.decrypt(parseSealed(sealed, V1, context, row), context, row);
  }

  /** `seal` for nullable columns. */
  sealOrNull(plaintext: string | null | undefined, context: SecretContext, row: RowKey): Sealed | null {
    return plaintext === null || plaintext === undefined ? null : this.seal(plaintext, context, row);
  }

  /** `open` for nullable columns. */
  openOrNull(sealed: Sealed | null, context: SecretContext, row: RowKey): string | null {
    return sealed === null ? null : this.open(sealed, context, row);
  }

  /** Never shows the key, whatever logs or inspects the box. */
  toJSON(): { keyId: string } {
    return { keyId: this.keyId };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SecretBox { keyId: '${this.keyId}' }`;
  }

  private decrypt(parts: SealedParts, context: SecretContext, row: RowKey): string {
    if (parts.keyId !== this.keyId) {
      throw new PosternError('SECRET_KEY_INVALID', {
        message: `A secret in ${context} (row ${row}) was encrypted with key ${parts.keyId}, but the configured key is ${this.keyId}.`,
        details: { ...where(context, row), storedKeyId: parts.keyId, configuredKeyId: this.keyId },
      });
    }
    try {
      const decipher = crypto.createDecipheriv(ALGORITHM, this.#key, parts.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(associatedData(parts.version, parts.keyId, context, row));
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw corrupt(context, row, 'it fails authentication (damaged, or copied from another row or column)');
    }
  }
}

/** The format (`v1`, `v2`) and key id of a sealed value, or undefined when it is not one. */
export function sealedFormat(sealed: string): { version: 'v1' | 'v2'; keyId: string } | undefined {
  const [version, keyId] = sealed.split('.', 2);
  if (version !== V1 && version !== VERSION) return undefined;
  return keyId !== undefined && /^[0-9a-f]{8}$/.test(keyId) ? { version, keyId } : undefined;
}

/** The key id of a sealed value (either format), or undefined when it is not one. */
export function sealedKeyId(sealed: string): string | undefined {
  return sealedFormat(sealed)?.keyId;
}

function associatedData(version: string, keyId: string, context: SecretContext, row: RowKey): Buffer {
  // v1 bound the column only; v2 adds the row's primary key.
  const text = version === V1 ? `postern:v1:${keyId}:${context}` : `postern:v2:${keyId}:${context}:${row}`;
  return Buffer.from(text, 'utf8');
}

interface SealedParts {
  version: string;
  keyId: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

function parseSealed(sealed: string, expected: string, context: SecretContext, row: RowKey): SealedParts {
  const parts = sealed.split('.');
  const [, , iv, tag, ciphertext] = parts;
  const format = sealedFormat(sealed);
  if (format?.version === V1 && expected === VERSION) {
    throw corrupt(
      context,
      row,
      'it is in the v1 format, which is not bound to its row; v1 values are upgraded once, at the first start of this version, and refused afterwards',
    );
  }
  if (parts.length !== 5 || format?.version !== expected) {
    throw corrupt(context, row, `it is not a Postern ${expected} sealed value`);
  }
  const decoded = {
    version: format.version,
    keyId: format.keyId,
    iv: unb64(iv),
    tag: unb64(tag),
    ciphertext: unb64(ciphertext),
  };
  if (decoded.iv.length !== IV_BYTES || decoded.tag.length !== TAG_BYTES) {
    throw corrupt(context, row, 'its IV or tag has the wrong length');
  }
  return decoded;
}

/** The table, column and row of a context, for error details (never the value). */
function where(context: SecretContext, row: RowKey): Record<string, unknown> {
  const spec = ENCRYPTED_COLUMNS.find((column) => column.context === context);
  return spec === undefined ? { context, row } : { context, table: spec.table, column: spec.column, row };
}

function corrupt(context: SecretContext, row: RowKey, why: string): PosternError {
  return new PosternError('SECRET_VALUE_CORRUPT', {
    message: `A secret in ${context} (row ${row}) cannot be decrypted: ${why}.`,
    details: where(context, row),
  });
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64url');
}

function unb64(text: string | undefined): Buffer {
  return text === undefined || !/^[A-Za-z0-9_-]*$/.test(text) ? Buffer.alloc(0) : Buffer.from(text, 'base64url');
}
