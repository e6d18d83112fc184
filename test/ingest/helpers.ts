/**
 * Factories for ingest suites: an email account with a default list, and small RFC 5322
 * messages.
 */
import { createEmailAccount, createList, type Database, type EmailAccountRecord } from '../../src/store/index.js';

let serial = 0;

/** An account (key A1, A2…) with its own default list, unless `defaultList: false`. */
export async function buildAccount(
  db: Database,
  options: { defaultList?: boolean; emailAddress?: string; maxMessageBytes?: number } = {},
): Promise<EmailAccountRecord> {
  serial += 1;
  const emailAddress = options.emailAddress ?? `support${serial}@contoso.com`;
  const list =
    options.defaultList === false
      ? null
      : await createList(db, { name: `Customers ${serial}-${Math.random().toString(36).slice(2, 8)}` });
  return createEmailAccount(db, {
    name: `Support ${serial}`,
    key: `A${serial}`,
    emailAddress,
    username: emailAddress,
    defaultListId: list?.id ?? null,
    ...(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes }),
  });
}

/** Options of {@link buildMessage}. */
export interface MessageOptions {
  from?: string;
  to?: string;
  subject?: string;
  messageId?: string | null;
  inReplyTo?: string;
  references?: string;
  date?: string;
  body?: string;
  headers?: Record<string, string>;
}

/** A small message; `messageId: null` leaves the header out. */
export function buildMessage(options: MessageOptions = {}): Buffer {
  serial += 1;
  const lines = [
    `From: ${options.from ?? 'Ada Lovelace <ada@example.org>'}`,
    `To: ${options.to ?? 'support@contoso.com'}`,
    `Subject: ${options.subject ?? 'Order 42'}`,
    `Date: ${options.date ?? 'Wed, 15 Jan 2025 09:00:00 +0000'}`,
    ...(options.messageId === null
      ? []
      : [`Message-ID: ${options.messageId ?? `<m${serial}.${Math.random().toString(36).slice(2)}@example.org>`}`]),
    ...(options.inReplyTo === undefined ? [] : [`In-Reply-To: ${options.inReplyTo}`]),
    ...(options.references === undefined ? [] : [`References: ${options.references}`]),
    ...Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    options.body ?? 'Where is my order?',
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}
