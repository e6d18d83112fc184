/**
 * SASL XOAUTH2 initial responses: `base64("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")`.
 *
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth#sasl-xoauth2
 */

export interface XOAuth2Credentials {
  readonly user: string;
  readonly token: string;
}

/** Decodes a base64 XOAUTH2 response; undefined when it is not one. */
export function decodeXOAuth2(encoded: string): XOAuth2Credentials | undefined {
  const text = encoded.trim();
  if (text === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const decoded = Buffer.from(text, 'base64').toString('utf8');
  let user: string | undefined;
  let token: string | undefined;
  for (const field of decoded.split('\x01')) {
    if (field.startsWith('user=')) user = field.slice('user='.length).trim();
    else if (/^auth=/i.test(field)) {
      const match = /^auth=bearer\s+(\S+)\s*$/i.exec(field);
      if (match?.[1]) token = match[1];
    }
  }
  if (user === undefined || user === '' || token === undefined) return undefined;
  return { user, token };
}

/** Builds the base64 XOAUTH2 response (used by tests and the benchmark). */
export function encodeXOAuth2(user: string, token: string): string {
  return Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`, 'utf8').toString('base64');
}
