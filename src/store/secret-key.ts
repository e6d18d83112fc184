/**
 * Where the secret key comes from: `POSTERN_SECRET_KEY` (64 hex characters or base64 of 32
 * bytes), otherwise a key file, created on first start with 32 random bytes and mode 0600.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PosternError } from '../errors/index.js';

const KEY_BYTES = 32;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;
const EXPECTED = '32 bytes written as 64 hexadecimal characters or as base64 (44 characters)';

/** Where to look for the key. */
export interface SecretKeySource {
  /** The value of POSTERN_SECRET_KEY; empty or undefined means "use the key file". */
  readonly envValue?: string | undefined;
  /** The key file used when the environment gives no key. */
  readonly keyFile: string;
}

/** The key, where it came from, and anything the administrator should hear about. */
export interface LoadedSecretKey {
  readonly key: Buffer;
  readonly source: 'environment' | 'file' | 'created-file';
  /** Plain sentences for the log (for example: a key file whose mode was tightened). */
  readonly warnings: readonly string[];
}

/**
 * Loads the secret key: from the environment value when given, else from the key file, which is
 * created (with its directory) when missing. The file holds the key as 64 hex characters and a
 * newline, so that it can be copied into POSTERN_SECRET_KEY; 32 raw bytes are accepted too.
 * A key file readable by others is tightened to 0600 and reported in `warnings`.
 *
 * @throws PosternError SECRET_KEY_MALFORMED naming what was expected (never the value).
 */
export function loadSecretKey(source: SecretKeySource): LoadedSecretKey {
  const envValue = source.envValue?.trim() ?? '';
  if (envValue !== '')
    return { key: decodeKeyText(envValue, 'POSTERN_SECRET_KEY'), source: 'environment', warnings: [] };
  const created = createKeyFileIfMissing(source.keyFile);
  if (created !== undefined) return { key: created, source: 'created-file', warnings: [] };
  const warnings = tightenMode(source.keyFile);
  return { key: readKeyFile(source.keyFile), source: 'file', warnings };
}

/**
 * Decodes a key written as 64 hex characters or base64/base64url of 32 bytes.
 *
 * @param origin names the value in the error (`POSTERN_SECRET_KEY`, or the key file).
 */
export function decodeKeyText(text: string, origin: string): Buffer {
  const value = text.trim();
  if (HEX_KEY.test(value)) return Buffer.from(value, 'hex');
  if (BASE64_KEY.test(value)) {
    const key = Buffer.from(value, 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  throw new PosternError('SECRET_KEY_MALFORMED', {
    message: `${origin} is not a valid secret key: expected ${EXPECTED}, got ${value.length} characters.`,
    details: { origin, length: value.length },
  });
}

/**
 * Writes a new random key to `file` unless it exists; returns the key when it wrote one. The key
 * is written and synced under a name of this process's own, then linked to `file`: the link
 * appears whole or not at all and fails when `file` exists, so of two processes starting
 * together exactly one creates it, and the other never reads a file still being written.
 */
function createKeyFileIfMissing(file: string): Buffer | undefined {
  const directory = path.dirname(path.resolve(file));
  fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
  if (fs.existsSync(file)) return undefined;
  const key = crypto.randomBytes(KEY_BYTES);
  const draft = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  const fd = fs.openSync(draft, 'wx', 0o600);
  try {
    try {
      fs.writeSync(fd, `${key.toString('hex')}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(draft, file);
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return undefined;
      throw error;
    }
  } finally {
    fs.rmSync(draft, { force: true });
  }
  syncDirectory(directory);
  return key;
}

/** Makes a new name in `directory` durable (best effort: not every platform can open a directory). */
function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(directory, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows cannot fsync a directory; the file's own data is synced already.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function readKeyFile(file: string): Buffer {
  const bytes = fs.readFileSync(file);
  if (bytes.length === KEY_BYTES) return bytes;
  return decodeKeyText(bytes.toString('utf8'), `The key file ${file}`);
}

/** Makes the key file owner-only; reports what it did or could not do. */
function tightenMode(file: string): string[] {
  const mode = fs.statSync(file).mode & 0o777;
  if ((mode & 0o077) === 0) return [];
  const shown = mode.toString(8).padStart(4, '0');
  try {
    fs.chmodSync(file, 0o600);
    return [`The key file ${file} was readable by other users (mode ${shown}); its mode is now 0600.`];
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return [`The key file ${file} is readable by other users (mode ${shown}) and could not be made 0600: ${why}.`];
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
