import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { Config } from '../../config/index.js';
import { SecretBox, rotateSecretKey, type Database } from '../../store/index.js';

export interface RotationResult {
  total: number;
  keyId: string;
  keyFile?: string;
  backupFile?: string;
  /** The new key, when it lives in the environment and the administrator must set it. */
  printedKey?: string;
}

/**
 * Rotation of the key that encrypts secrets at rest. With a key file, the new key is written to
 * `<file>.new` before the database changes, and moved into place after the commit, so that a
 * crash at any point leaves a key that opens the data (see `completePendingRotation`).
 */
export class SecretService {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
    private readonly config: Config,
  ) {}

  async rotate(): Promise<RotationResult> {
    const key = randomBytes(32);
    const next = new SecretBox(key);
    const fromEnv = this.config.secretKey !== undefined;
    const file = this.config.secretKeyFile;
    if (!fromEnv) writePrivate(`${file}.new`, `${key.toString('hex')}\n`);
    const columns = await rotateSecretKey(this.db, this.box, next);
    const total = columns.reduce((sum, column) => sum + column.count, 0);
    if (fromEnv) return { total, keyId: next.keyId, printedKey: key.toString('hex') };
    const backupFile = `${file}.${this.box.keyId}.old`;
    fs.renameSync(file, backupFile);
    fs.renameSync(`${file}.new`, file);
    return { total, keyId: next.keyId, keyFile: file, backupFile };
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
