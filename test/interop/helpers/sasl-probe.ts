/**
 * One IMAP AUTHENTICATE over TLS, by hand, so that the mechanism is the test's choice (imapflow
 * picks OAUTHBEARER whenever a server offers it; Postern's SMTP client uses XOAUTH2).
 *
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth#sasl-xoauth2
 * @see https://www.rfc-editor.org/rfc/rfc7628#section-3.1 (OAUTHBEARER)
 */
import tls from 'node:tls';

export type OAuthMechanism = 'XOAUTH2' | 'OAUTHBEARER';

/** The initial client response of the mechanism for `user` and `token`, base64. */
export function initialResponse(mechanism: OAuthMechanism, user: string, token: string): string {
  const text =
    mechanism === 'XOAUTH2'
      ? `user=${user}\x01auth=Bearer ${token}\x01\x01`
      : `n,a=${user},\x01host=127.0.0.1\x01port=993\x01auth=Bearer ${token}\x01\x01`;
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * Signs in with the mechanism and returns the tagged answer (`A1 OK ...` or `A1 NO ...`). A
 * server's error challenge (`+ <base64 JSON>`) is answered with the empty response the mechanisms
 * prescribe, and its JSON is returned too.
 */
export async function authenticate(
  port: number,
  ca: string,
  mechanism: OAuthMechanism,
  user: string,
  token: string,
): Promise<{ tagged: string; challenge: string | null }> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca: [ca], servername: 'localhost' });
  socket.setEncoding('utf8');
  let buffer = '';
  let challenge: string | null = null;
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to AUTHENTICATE: ${buffer}`)), 20_000);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      let greeted = false;
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\r\n');
        while (end >= 0) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!greeted && line.startsWith('* OK')) {
            greeted = true;
            socket.write(`A1 AUTHENTICATE ${mechanism} ${initialResponse(mechanism, user, token)}\r\n`);
          } else if (line.startsWith('+')) {
            challenge = Buffer.from(line.slice(1).trim(), 'base64').toString('utf8');
            socket.write('\r\n');
          } else if (line.startsWith('A1 ')) {
            clearTimeout(timer);
            resolve({ tagged: line, challenge });
          }
          end = buffer.indexOf('\r\n');
        }
      });
    });
  } finally {
    socket.destroy();
  }
}
