/**
 * A message with a text part, an HTML part showing an inline image (`cid:`), and an attached PDF:
 * the three things the retention of originals treats differently (text kept, shown image kept,
 * attached file removed).
 */
import crypto from 'node:crypto';

/** Options of {@link buildMessageWithParts}. */
export interface PartsOptions {
  readonly subject: string;
  readonly text: string;
  readonly image: Buffer;
  readonly pdf: Buffer;
  readonly from?: string;
  readonly to?: string;
}

/** Base64 in lines of 76 characters (RFC 2045). */
function base64Lines(bytes: Buffer): string {
  return (bytes.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

/** The raw MIME: multipart/mixed of (alternative of text and related(HTML, image)) and the PDF. */
export function buildMessageWithParts(options: PartsOptions): Buffer {
  const tag = crypto.randomBytes(6).toString('hex');
  const lines = [
    `From: ${options.from ?? 'Ada Lovelace <ada@example.org>'}`,
    `To: ${options.to ?? 'support@contoso.com'}`,
    `Subject: ${options.subject}`,
    'Date: Wed, 15 Jan 2025 09:00:00 +0000',
    `Message-ID: <${tag}@example.org>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="mixed-${tag}"`,
    '',
    `--mixed-${tag}`,
    `Content-Type: multipart/alternative; boundary="alt-${tag}"`,
    '',
    `--alt-${tag}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    options.text,
    `--alt-${tag}`,
    `Content-Type: multipart/related; boundary="rel-${tag}"`,
    '',
    `--rel-${tag}`,
    'Content-Type: text/html; charset=utf-8',
    '',
    `<p>${options.text}</p><p><img src="cid:logo-${tag}@example.org" alt="logo"></p>`,
    `--rel-${tag}`,
    'Content-Type: image/png',
    'Content-Transfer-Encoding: base64',
    `Content-ID: <logo-${tag}@example.org>`,
    'Content-Disposition: inline; filename="logo.png"',
    '',
    base64Lines(options.image),
    `--rel-${tag}--`,
    `--alt-${tag}--`,
    `--mixed-${tag}`,
    'Content-Type: application/pdf; name="invoice.pdf"',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="invoice.pdf"',
    '',
    base64Lines(options.pdf),
    `--mixed-${tag}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}
