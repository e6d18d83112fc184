/**
 * Attachment file names: what a sender wrote is hostile input. It is made safe to store, to show
 * and to offer for download: no path, no control or reserved characters, no Windows device name,
 * a bounded length with the extension kept, and a name derived from the media type when none
 * survives. The download header carries both an ASCII fallback and the UTF-8 name.
 *
 * @see https://www.rfc-editor.org/rfc/rfc2183#section-2.3 (the filename parameter: only the name, never a path)
 * @see https://www.rfc-editor.org/rfc/rfc6266#section-4.3 (Content-Disposition in HTTP, filename*)
 * @see https://www.rfc-editor.org/rfc/rfc8187 (filename* encoding)
 */

const MAX_NAME_LENGTH = 180;
const WINDOWS_DEVICES = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

const EXTENSIONS: Readonly<Record<string, string>> = {
  'message/rfc822': 'eml',
  'message/global': 'eml',
  'message/delivery-status': 'txt',
  'message/global-delivery-status': 'txt',
  'message/disposition-notification': 'txt',
  'text/rfc822-headers': 'txt',
  'text/plain': 'txt',
  'text/html': 'html',
  'text/calendar': 'ics',
  'text/csv': 'csv',
  'application/pdf': 'pdf',
  'application/ms-tnef': 'dat',
  'application/vnd.ms-tnef': 'dat',
  'application/zip': 'zip',
  'application/json': 'json',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/bmp': 'bmp',
  'image/svg+xml': 'svg',
};

/**
 * A safe file name for an attachment. `index` (0-based) numbers names made up from scratch.
 */
export function safeFilename(name: string | null | undefined, index: number, contentType: string): string {
  const cleaned = cleanName(name ?? '');
  if (cleaned !== '') return cleaned;
  const extension = EXTENSIONS[contentType.toLowerCase()] ?? 'bin';
  return `attachment-${index + 1}.${extension}`;
}

/**
 * The `Content-Disposition` value that offers a stored attachment for download:
 * `attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6266#appendix-D (both parameters, for old and new clients)
 */
export function contentDisposition(filename: string, disposition: 'attachment' | 'inline' = 'attachment'): string {
  const safe = cleanName(filename) || 'download';
  const ascii = safe
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '_')
    .replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(safe).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

function cleanName(name: string): string {
  // A path's last segment only: senders (and attackers) write "..\\..\\evil.exe" or "/etc/passwd".
  const base = name.split(/[\\/]/).pop() ?? '';
  let cleaned = base
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    // Bidirectional overrides disguise extensions ("invoice\u202Efdp.exe").
    .replace(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[. ]+|(?<![. ])[. ]+$/g, '');
  if (cleaned === '' || /^\.+$/.test(cleaned)) return '';
  if (WINDOWS_DEVICES.test(cleaned)) cleaned = `_${cleaned}`;
  return truncateKeepingExtension(cleaned);
}

function truncateKeepingExtension(name: string): string {
  const chars = [...name];
  if (chars.length <= MAX_NAME_LENGTH) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= 12 ? name.slice(dot) : '';
  const stem = [...name.slice(0, extension === '' ? name.length : dot)].slice(
    0,
    MAX_NAME_LENGTH - [...extension].length,
  );
  return `${stem.join('').trimEnd()}${extension}`;
}
