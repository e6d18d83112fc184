/**
 * Reading a non-delivery report: the recipients of a `message/delivery-status` part (RFC 3464) —
 * who failed, with which enhanced status code and the remote server's words — and the Message-ID
 * of the message it reports on (from the attached original or its headers).
 *
 * Linear in the input and bounded: only the first {@link MAX_REPORT_BYTES} of a part are read, at
 * most {@link MAX_RECIPIENTS} recipients are kept and every value is cut to {@link MAX_VALUE}.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3464#section-2 (fields of a delivery status notification)
 * @see https://www.rfc-editor.org/rfc/rfc3463 (enhanced status codes)
 */
import { normalizeMessageId } from '../../domain/message-id.js';
import { readHeaderFields, splitHeader } from './raw-headers.js';

/** One recipient of a report. */
export interface ReportedRecipient {
  readonly address: string;
  /** `failed`, `delayed`, `delivered`, `relayed` or `expanded` (lower-case). */
  readonly action: string;
  /** Enhanced status code, e.g. `5.1.10`; null when the report gives none. */
  readonly status: string | null;
  /** The `Diagnostic-Code` without its type (`smtp;`), e.g. `550 5.1.10 RESOLVER.ADR.RecipientNotFound; …`. */
  readonly diagnostic: string | null;
}

export const MAX_REPORT_BYTES = 64 * 1024;
export const MAX_RECIPIENTS = 100;
export const MAX_VALUE = 500;

/** The recipients a `message/delivery-status` part reports on. */
export function readDeliveryStatus(content: Buffer): ReportedRecipient[] {
  const text = content.subarray(0, MAX_REPORT_BYTES).toString('utf8');
  const recipients: ReportedRecipient[] = [];
  // Groups of fields separated by empty lines: the first is about the message, the others each
  // about one recipient.
  let start = 0;
  let first = true;
  while (start < text.length && recipients.length < MAX_RECIPIENTS) {
    const end = nextBlankLine(text, start);
    const group = text.slice(start, end.at);
    if (group.trim().length > 0) {
      if (!first) {
        const recipient = recipientOf(readHeaderFields(Buffer.from(group, 'utf8')));
        if (recipient !== undefined) recipients.push(recipient);
      }
      first = false;
    }
    start = end.next;
  }
  return recipients;
}

/** Where the group starting at `from` ends (an empty line) and where the next one starts. */
function nextBlankLine(text: string, from: number): { at: number; next: number } {
  let lineStart = from;
  while (lineStart < text.length) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const line = text.slice(lineStart, lineEnd);
    if (line === '' || line === '\r') return { at: lineStart, next: lineEnd + 1 };
    if (newline === -1) break;
    lineStart = newline + 1;
  }
  return { at: text.length, next: text.length };
}

function recipientOf(fields: ReadonlyMap<string, readonly string[]>): ReportedRecipient | undefined {
  const final = fields.get('final-recipient')?.[0] ?? fields.get('original-recipient')?.[0];
  if (final === undefined) return undefined;
  const address = cut(unbracket(afterType(final)));
  if (address.length === 0) return undefined;
  const status = fields.get('status')?.[0]?.trim() ?? '';
  const diagnostic = fields.get('diagnostic-code')?.[0];
  return {
    address,
    action: cut(fields.get('action')?.[0]?.trim().toLowerCase() ?? 'failed'),
    status: isStatusCode(status.split(' ')[0] ?? '') ? (status.split(' ')[0] ?? null) : null,
    diagnostic: diagnostic === undefined ? null : cut(afterType(diagnostic)),
  };
}

/** `rfc822;a@b` → `a@b`, `smtp; 550 …` → `550 …`. */
function afterType(value: string): string {
  const semicolon = value.indexOf(';');
  return (semicolon === -1 ? value : value.slice(semicolon + 1)).trim();
}

function unbracket(value: string): string {
  return value.startsWith('<') && value.endsWith('>') ? value.slice(1, -1).trim() : value;
}

/** `class.subject.detail`: 2, 4 or 5, then one to three digits twice. */
function isStatusCode(value: string): boolean {
  const parts = value.split('.');
  return (
    parts.length === 3 &&
    (parts[0] === '2' || parts[0] === '4' || parts[0] === '5') &&
    parts.slice(1).every((part) => part.length >= 1 && part.length <= 3 && [...part].every((c) => c >= '0' && c <= '9'))
  );
}

function cut(value: string): string {
  return value.length > MAX_VALUE ? value.slice(0, MAX_VALUE) : value;
}

/**
 * The Message-ID of the message a report is about: the report's own `In-Reply-To` (Exchange
 * Online and most servers set it), else the Message-ID in the attached original message or its
 * headers (`message/rfc822`, `text/rfc822-headers`).
 */
export function reportedMessageId(
  inReplyTo: readonly string[],
  attachments: ReadonlyArray<{ readonly contentType: string; readonly content: Buffer }>,
): string | undefined {
  if (inReplyTo[0] !== undefined) return inReplyTo[0];
  for (const attachment of attachments) {
    if (attachment.contentType !== 'message/rfc822' && attachment.contentType !== 'text/rfc822-headers') continue;
    const { header } = splitHeader(attachment.content.subarray(0, MAX_REPORT_BYTES));
    const id = normalizeMessageId(readHeaderFields(header).get('message-id')?.[0]);
    if (id !== undefined) return id;
  }
  return undefined;
}
