/**
 * Non-delivery reports as Exchange Online writes them: a submission is accepted (250) whatever its
 * recipients, and a recipient that cannot be reached comes back later as a message in the
 * sender's Inbox — from "Microsoft Outlook" <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@…>,
 * subject "Undeliverable: …", `multipart/report; report-type=delivery-status` with a readable part,
 * the machine-readable `message/delivery-status` (RFC 3464) and the original message, and
 * `In-Reply-To` / `References` naming the original's Message-ID.
 *
 * @see https://learn.microsoft.com/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/non-delivery-reports-in-exchange-online
 * @see https://learn.microsoft.com/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/fix-error-code-550-5-1-10-in-exchange-online
 * @see https://www.rfc-editor.org/rfc/rfc3464 (delivery status notifications)
 */
import { randomBytes } from 'node:crypto';
import type { MessageContent } from './stored-message.js';

/** Why one recipient was not reached. */
export interface FailedRecipient {
  readonly address: string;
  /** Enhanced status code, e.g. `5.1.10`. */
  readonly status: string;
  /** The `Diagnostic-Code` text after `smtp;`. */
  readonly diagnostic: string;
}

/** The local part Exchange Online sends NDRs from (the same in every tenant). */
const NDR_SENDER = 'MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e';
/** The mailbox server named in Reporting-MTA (emulator wording; Exchange names its own). */
const REPORTING_MTA = 'SY5P282MB1234.AUSP282.PROD.OUTLOOK.COM';

/** Exchange's own failure for an address of one of the tenant's domains that no recipient has. */
export function recipientNotFound(address: string): FailedRecipient {
  return {
    address,
    status: '5.1.10',
    diagnostic: `550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient ${address} not found by SMTP address lookup`,
  };
}

/** The NDR for `original`, sent by the tenant of `tenantDomain` to `to`, at `now`. */
export function buildNdr(options: {
  readonly original: MessageContent;
  readonly to: string;
  readonly tenantDomain: string;
  readonly failed: readonly FailedRecipient[];
  readonly now: number;
}): Buffer {
  const { original, failed } = options;
  const boundary = `_ndr_${randomBytes(12).toString('hex')}_`;
  const alternative = `_alt_${randomBytes(12).toString('hex')}_`;
  const date = new Date(options.now).toUTCString().replace('GMT', '+0000');
  const originalId = original.header('message-id')?.trim();
  const subject = oneLine(original.header('subject') ?? '');
  const list = failed.map((f) => f.address).join(', ');
  const text = [
    `Your message to ${list} couldn't be delivered.`,
    '',
    ...failed.map((f) => `${f.address}: ${f.diagnostic}`),
    '',
    `Diagnostic information for administrators: generating server ${REPORTING_MTA}`,
  ].join('\r\n');
  const html = `<html><body><p>Your message to ${escapeHtml(list)} couldn't be delivered.</p>${failed
    .map((f) => `<p><b>${escapeHtml(f.address)}</b><br>${escapeHtml(f.diagnostic)}</p>`)
    .join('')}</body></html>`;
  const status = [
    `Reporting-MTA: dns;${REPORTING_MTA}`,
    `Received-From-MTA: dns;${REPORTING_MTA}`,
    `Arrival-Date: ${date}`,
    '',
    ...failed.flatMap((f) => [
      `Final-Recipient: rfc822;${f.address}`,
      'Action: failed',
      `Status: ${f.status}`,
      `Diagnostic-Code: smtp;${f.diagnostic}`,
      `X-Display-Name: ${f.address}`,
      '',
    ]),
  ].join('\r\n');
  const header = [
    `From: Microsoft Outlook <${NDR_SENDER}@${options.tenantDomain}>`,
    `To: <${options.to}>`,
    `Date: ${date}`,
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    'Content-Language: en-US',
    `Message-ID: <${randomBytes(16).toString('hex')}@${REPORTING_MTA}>`,
    ...(originalId === undefined ? [] : [`In-Reply-To: ${originalId}`, `References: ${originalId}`]),
    `Subject: Undeliverable: ${subject}`,
    'Auto-Submitted: auto-replied',
    'X-MS-Exchange-Message-Is-Ndr:',
    'MIME-Version: 1.0',
  ];
  const parts = [
    `--${boundary}`,
    `Content-Type: multipart/alternative; boundary="${alternative}"`,
    '',
    `--${alternative}`,
    'Content-Type: text/plain; charset="us-ascii"',
    '',
    text,
    `--${alternative}`,
    'Content-Type: text/html; charset="us-ascii"',
    '',
    html,
    `--${alternative}--`,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    status,
    `--${boundary}`,
    'Content-Type: message/rfc822',
    '',
  ];
  return Buffer.concat([
    Buffer.from(`${header.join('\r\n')}\r\n\r\n${parts.join('\r\n')}\r\n`, 'utf8'),
    original.raw,
    Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1'),
  ]);
}

/** A header value on one line (folding and control characters replaced by spaces). */
function oneLine(value: string): string {
  let out = '';
  for (const char of value) out += char < ' ' ? ' ' : char;
  return out.trim();
}

function escapeHtml(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
