import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../config/index.js';
import { SecretBox, rotateSecretKey, verifySealedColumns, type Database } from '../../store/index.js';

/** Options of a rotation. */
export interface RotationOptions {
  /** Keep the previous key file as `<file>.<keyId>.old` (by default it is removed once verified). */
  readonly keepOldKey?: boolean;
}

export interface RotationResult {
  total: number;
  /** How many stored values were opened with the new key after the commit. */
  verified: number;
  keyId: string;
  keyFile?: string;
  /** Where the previous key was kept (only with `keepOldKey`); absent when it was removed. */
  backupFile?: string;
  /** The new key, when it lives in the environment and the administrator must set it. */
  printedKey?: string;
}

/**
 * Rotation of the key that encrypts secrets at rest. With a key file, the new key is written to
 * `<file>.new` before the database changes; after the commit every stored value is opened with
 * the new key, and only then does `<file>.new` replace the key file — the previous key is gone,
 * unless `keepOldKey` asks to keep it as `<file>.<keyId>.old`. A crash at any point leaves a key
 * that opens the data (see `pendingKeyFile`); a failed verification leaves both files in place.
 */
export class SecretService {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
    private readonly config: Config,
  ) {}

  async rotate(options: RotationOptions = {}): Promise<RotationResult> {
    const key = randomBytes(32);
    const next = new SecretBox(key);
    const fromEnv = this.config.secretKey !== undefined;
    const file = this.config.secretKeyFile;
    if (!fromEnv) writePrivate(`${file}.new`, `${key.toString('hex')}\n`);
    const columns = await rotateSecretKey(this.db, this.box, next);
    const total = columns.reduce((sum, column) => sum + column.count, 0);
    const verified = await verifySealedColumns(this.db, next);
    if (fromEnv) return { total, verified, keyId: next.keyId, printedKey: key.toString('hex') };
    if (options.keepOldKey === true) {
      const backupFile = `${file}.${this.box.keyId}.old`;
      fs.renameSync(file, backupFile);
      fs.renameSync(`${file}.new`, file);
      syncDirectory(file);
      return { total, verified, keyId: next.keyId, keyFile: file, backupFile };
    }
    // One atomic step: the new key replaces the old one, which no file holds any more.
    fs.renameSync(`${file}.new`, file);
    syncDirectory(file);
    return { total, verified, keyId: next.keyId, keyFile: file };
  }
}

/**
 * Finishes a rotation interrupted between the database commit and the key file move: when
 * `<file>.new` exists, the caller tries it if the current key no longer opens the data.
 */
export function pendingKeyFile(keyFile: string): string | undefined {
  const candidate = `${keyFile}.new`;
  return fs.existsSync(candidate) ? candidate : undefined;
}

function writePrivate(file: string, content: string): void {
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Makes the renames in the key file's directory durable. */
function syncDirectory(file: string): void {
  const fd = fs.openSync(path.dirname(path.resolve(file)), 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
