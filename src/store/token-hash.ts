/**
 * Session ids, API tokens and OAuth states are stored only as their sha256: a copy of the
 * database does not let anyone sign in.
 */
import crypto from 'node:crypto';

/** Lower-case hex sha256 of a token. */
export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A random token of `bytes` bytes in base64url. */
export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64url');
}
