/**
 * SASL PLAIN messages: `base64(authzid NUL authcid NUL passwd)`, as IMAP `AUTHENTICATE PLAIN`
 * carries them (SMTP's are decoded by smtp-server).
 *
 * @see https://www.rfc-editor.org/rfc/rfc4616#section-2
 */
import type { PasswordCredentials } from './access.js';

/** Decodes a base64 PLAIN message; undefined when it is not one (the authcid must not be empty). */
export function decodeSaslPlain(encoded: string): PasswordCredentials | undefined {
  const text = encoded.trim();
  if (text === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const fields = Buffer.from(text, 'base64').toString('utf8').split('\0');
  if (fields.length !== 3) return undefined;
  const [authzid = '', user = '', password = ''] = fields;
  if (user === '') return undefined;
  return { user, password, authzid };
}

/** Builds the base64 PLAIN message (used by tests). */
export function encodeSaslPlain(user: string, password: string, authzid = ''): string {
  return Buffer.from(`${authzid}\0${user}\0${password}`, 'utf8').toString('base64');
}
