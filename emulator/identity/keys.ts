/**
 * The identity platform's keys: RS256 token-signing keys published in the JWKS (rotatable; the
 * previous keys stay published so tokens they signed keep validating, as Microsoft's JWKS lists
 * several keys), and the symmetric key that seals refresh tokens. Persisted in the data
 * directory (mode 0600) so tokens survive a restart of the emulator.
 *
 * JWTs are signed and verified synchronously with `node:crypto` so that the Exchange half can
 * introspect a token inside a protocol handler without awaiting.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/signing-key-rollover
 * @see https://www.rfc-editor.org/rfc/rfc7515 (JWS compact serialisation)
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';

/** One RSA signing key. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly createdAt: Date;
}

/** A public JWK as Microsoft publishes it. */
export interface PublicJwk {
  kty: 'RSA';
  use: 'sig';
  kid: string;
  x5t: string;
  n: string;
  e: string;
  alg: 'RS256';
  issuer?: string;
}

/** A decoded, signature-checked JWT. */
export interface VerifiedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

const KEYS_FILE = 'identity-keys.json';
const MAX_PUBLISHED = 3;

const keyFileSchema = z.object({
  signingKeys: z
    .array(z.object({ kid: z.string().min(1), createdAt: z.iso.datetime(), privateKeyPem: z.string().min(1) }))
    .min(1),
  sealingKey: z.string().min(40),
});

const generateRsa = promisify(generateKeyPair);

function signingKeyOf(privateKey: KeyObject, publicKey: KeyObject, now: Date): SigningKey {
  const kid = createHash('sha1')
    .update(publicKey.export({ format: 'der', type: 'spki' }))
    .digest('base64url');
  return { kid, privateKey, publicKey, createdAt: now };
}

function newSigningKey(now: Date): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return signingKeyOf(privateKey, publicKey, now);
}

/** Like {@link newSigningKey}, generated off the main thread. */
async function newSigningKeyAsync(now: Date): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: 2048 });
  return signingKeyOf(privateKey, publicKey, now);
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeSegment(segment: string): Record<string, unknown> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? { ...parsed } : null;
  } catch {
    return null;
  }
}

/** Decodes a compact JWT without checking anything (null when it is not one). */
function decodeJwt(token: string): VerifiedJwt | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[2] === undefined || parts[2].length === 0) return null;
  const header = decodeSegment(parts[0] ?? '');
  const payload = decodeSegment(parts[1] ?? '');
  return header === null || payload === null ? null : { header, payload };
}

/** The token-signing key set plus the refresh-token sealing key. */
export class IdentityKeys {
  #keys: SigningKey[];
  readonly #file: string | null;
  readonly sealingKey: Buffer;

  private constructor(keys: SigningKey[], sealingKey: Buffer, file: string | null) {
    this.#keys = keys;
    this.sealingKey = sealingKey;
    this.#file = file;
  }

  /** Fresh keys held in memory only. */
  static generate(now: Date = new Date()): IdentityKeys {
    return new IdentityKeys([newSigningKey(now)], randomBytes(32), null);
  }

  /** Loads the keys from `dataDir`, creating and saving them on first start. */
  static async loadOrCreate(dataDir: string, now: Date = new Date()): Promise<IdentityKeys> {
    const file = path.join(dataDir, KEYS_FILE);
    let text: string | null = null;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'ENOENT')) throw error;
    }
    if (text !== null) {
      const parsed = keyFileSchema.parse(JSON.parse(text));
      const keys = parsed.signingKeys.map((k) => {
        const privateKey = createPrivateKey(k.privateKeyPem);
        return { kid: k.kid, privateKey, publicKey: createPublicKey(privateKey), createdAt: new Date(k.createdAt) };
      });
      return new IdentityKeys(keys, Buffer.from(parsed.sealingKey, 'base64'), file);
    }
    await mkdir(dataDir, { recursive: true });
    const created = new IdentityKeys([await newSigningKeyAsync(now)], randomBytes(32), file);
    await created.save();
    return created;
  }

  /** The key new tokens are signed with. */
  get active(): SigningKey {
    const key = this.#keys[0];
    if (key === undefined) throw new Error('no signing key');
    return key;
  }

  /** Every published key, newest first. */
  get all(): readonly SigningKey[] {
    return this.#keys;
  }

  /**
   * Rolls the signing key over: a new key signs from now on; the previous ones stay published
   * (up to three in all) unless `retainPrevious` is false.
   */
  async rotate(options: { retainPrevious?: boolean; now?: Date } = {}): Promise<SigningKey> {
    const key = await newSigningKeyAsync(options.now ?? new Date());
    this.#keys = options.retainPrevious === false ? [key] : [key, ...this.#keys].slice(0, MAX_PUBLISHED);
    await this.save();
    return key;
  }

  /** The JWKS document; `issuer` is added per key as Microsoft's tenant JWKS does. */
  jwks(issuer?: string): { keys: PublicJwk[] } {
    return {
      keys: this.#keys.map((k) => {
        const jwk = k.publicKey.export({ format: 'jwk' });
        return {
          kty: 'RSA' as const,
          use: 'sig' as const,
          kid: k.kid,
          x5t: k.kid,
          n: String(jwk.n),
          e: String(jwk.e),
          alg: 'RS256' as const,
          ...(issuer === undefined ? {} : { issuer }),
        };
      }),
    };
  }

  /** Signs a JWT with the active key (RS256); `extraHeader` adds header fields. */
  signJwt(payload: Record<string, unknown>, extraHeader: Record<string, unknown> = {}): string {
    const key = this.active;
    const header = { typ: 'JWT', alg: 'RS256', x5t: key.kid, kid: key.kid, ...extraHeader };
    const input = `${encodeSegment(header)}.${encodeSegment(payload)}`;
    const signature = sign('sha256', Buffer.from(input), key.privateKey).toString('base64url');
    return `${input}.${signature}`;
  }

  /**
   * Checks a JWT's RS256 signature against the published keys, synchronously. Says only whether
   * it is well-formed and signed by this emulator; claims are the caller's business.
   */
  verifyJwt(token: string): { ok: true; jwt: VerifiedJwt } | { ok: false; reason: 'malformed' | 'signature' } {
    const decoded = decodeJwt(token);
    if (decoded === null) return { ok: false, reason: 'malformed' };
    if (decoded.header.alg !== 'RS256') return { ok: false, reason: 'signature' };
    const key = this.#keys.find((k) => k.kid === decoded.header.kid);
    if (key === undefined) return { ok: false, reason: 'signature' };
    const [h, p, s] = token.split('.');
    const valid = verify('sha256', Buffer.from(`${h}.${p}`), key.publicKey, Buffer.from(s ?? '', 'base64url'));
    return valid ? { ok: true, jwt: decoded } : { ok: false, reason: 'signature' };
  }

  /** Writes the keys to the data directory (no-op for in-memory keys). */
  async save(): Promise<void> {
    if (this.#file === null) return;
    const body = {
      signingKeys: this.#keys.map((k) => ({
        kid: k.kid,
        createdAt: k.createdAt.toISOString(),
        privateKeyPem: String(k.privateKey.export({ format: 'pem', type: 'pkcs8' })),
      })),
      sealingKey: this.sealingKey.toString('base64'),
    };
    await writeFile(this.#file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  }
}
