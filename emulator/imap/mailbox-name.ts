/**
 * Mailbox names on the wire: modified UTF-7, and the `INBOX` name Exchange lists its Inbox under.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-5.1.3
 */

/** Decodes modified UTF-7 (`&AOk-` → `é`, `&-` → `&`). Invalid sequences are kept as they are. */
export function decodeMailboxName(name: string): string {
  return name.replace(/&([A-Za-z0-9+,]*)-/g, (whole, encoded: string) => {
    if (encoded === '') return '&';
    const bytes = Buffer.from(encoded.replace(/,/g, '/'), 'base64');
    if (bytes.length % 2 !== 0) return whole;
    return bytes.swap16().toString('utf16le');
  });
}

/** Encodes a name in modified UTF-7. */
export function encodeMailboxName(name: string): string {
  let out = '';
  let run = '';
  const flush = (): void => {
    if (run === '') return;
    const bytes = Buffer.from(run, 'utf16le').swap16();
    out += `&${bytes
      .toString('base64')
      .replace(/(?<!=)=+$/, '')
      .replace(/\//g, ',')}-`;
    run = '';
  };
  for (const ch of name) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += ch === '&' ? '&-' : ch;
    } else {
      run += ch;
    }
  }
  flush();
  return out;
}

/** The store's folder path for a name a client sent (`INBOX` in any case is the Inbox). */
export function toFolderPath(wireName: string): string {
  const decoded = decodeMailboxName(wireName);
  return /^inbox$/i.test(decoded) ? 'Inbox' : decoded.replace(/^inbox\//i, 'Inbox/');
}

/** The wire name of a folder: Exchange lists its Inbox as `INBOX`. */
export function toWireName(folderPath: string): string {
  const name = /^inbox$/i.test(folderPath) ? 'INBOX' : folderPath;
  return encodeMailboxName(name);
}
