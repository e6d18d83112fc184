/**
 * Mail flow of the emulated tenant: a message addressed to emulated mailboxes lands in their Inbox;
 * everything addressed elsewhere goes to the outside-world sink, which the control API reads.
 * Submissions (SMTP, later Graph) are also recorded in the sent log, with a copy in the sender's
 * Sent Items as Exchange keeps for SMTP AUTH submissions.
 *
 * @see https://learn.microsoft.com/exchange/troubleshoot/send-emails/smtp-submission-improvements
 */
import { randomUUID } from 'node:crypto';
import type { ExchangeClock } from './exchange-clock.js';
import type { MailStore } from './mail-store.js';
import { buildNdr, recipientNotFound, type FailedRecipient } from './ndr.js';
import { MessageContent } from './stored-message.js';

/** A message that left the emulated tenant. */
export interface SinkMessage {
  readonly id: string;
  readonly receivedAt: number;
  readonly envelopeFrom: string;
  /** The outside recipients of this copy. */
  readonly recipients: readonly string[];
  readonly content: MessageContent;
}

/** One accepted submission. */
export interface SentRecord {
  readonly id: string;
  readonly via: 'smtp' | 'graph';
  /** The mailbox that authenticated (whose Sent Items hold the copy). */
  readonly mailbox: string;
  readonly envelopeFrom: string;
  readonly recipients: readonly string[];
  readonly content: MessageContent;
  readonly acceptedAt: number;
  deliveredAt: number | null;
  /** UID of the copy in the sender's Sent Items. */
  sentItemsUid: number | null;
}

export interface DeliveryReport {
  readonly delivered: ReadonlyArray<{ readonly mailbox: string; readonly uid: number }>;
  readonly external: readonly string[];
}

export interface MailRouterOptions {
  readonly store: MailStore;
  readonly clock: ExchangeClock;
  /** The primary address of the emulated mailbox an address reaches, if any. */
  readonly resolveMailbox: (address: string) => string | undefined;
  /**
   * The initial domain of the emulated tenant that owns the address's domain, if any: an address
   * of a tenant's domain that no recipient has is answered with a non-delivery report.
   */
  readonly tenantDomainOf?: (address: string) => string | undefined;
  /** Bounds the sink and the sent log (oldest dropped first). */
  readonly retain?: number;
}

export class MailRouter {
  private readonly sinkMessages: SinkMessage[] = [];
  private readonly sentRecords: SentRecord[] = [];
  private readonly retain: number;
  /** Outside addresses that bounce (lower-case), with the remote server's answer. */
  private readonly undeliverable = new Map<string, { status: string; diagnostic: string }>();

  constructor(private readonly options: MailRouterOptions) {
    this.retain = options.retain ?? 10_000;
  }

  /**
   * Delivers a message to each recipient: emulated mailboxes get it in their Inbox (without any
   * Bcc header), the other recipients share one sink entry.
   */
  deliver(message: {
    envelopeFrom: string;
    recipients: readonly string[];
    raw: Buffer | MessageContent;
  }): DeliveryReport {
    const content = message.raw instanceof MessageContent ? message.raw : new MessageContent(message.raw);
    const delivered: Array<{ mailbox: string; uid: number }> = [];
    const external: string[] = [];
    const seen = new Set<string>();
    let withoutBcc: MessageContent | undefined;
    for (const recipient of message.recipients) {
      const mailbox = this.options.resolveMailbox(recipient);
      if (mailbox === undefined) {
        if (!external.includes(recipient.toLowerCase())) external.push(recipient.toLowerCase());
        continue;
      }
      if (seen.has(mailbox)) continue;
      seen.add(mailbox);
      withoutBcc ??= stripBcc(content);
      const inbox = this.options.store.mailbox(mailbox).wellKnown('inbox');
      const stored = this.options.store.append(mailbox, inbox, withoutBcc);
      delivered.push({ mailbox, uid: stored.uid });
    }
    if (external.length > 0) {
      this.sinkMessages.push({
        id: randomUUID(),
        receivedAt: this.options.clock.now(),
        envelopeFrom: message.envelopeFrom,
        recipients: external,
        content: withoutBcc ?? stripBcc(content),
      });
      trim(this.sinkMessages, this.retain);
    }
    return { delivered, external };
  }

  /** Records an accepted submission and stores the sender's Sent Items copy. */
  recordSubmission(submission: {
    via: 'smtp' | 'graph';
    mailbox: string;
    envelopeFrom: string;
    recipients: readonly string[];
    raw: Buffer;
  }): SentRecord {
    const content = new MessageContent(submission.raw);
    const sentItems = this.options.store.mailbox(submission.mailbox).wellKnown('sentitems');
    const copy = this.options.store.append(submission.mailbox, sentItems, content, { flags: ['\\Seen'] });
    const record: SentRecord = {
      id: randomUUID(),
      via: submission.via,
      mailbox: submission.mailbox,
      envelopeFrom: submission.envelopeFrom,
      recipients: [...submission.recipients],
      content,
      acceptedAt: this.options.clock.now(),
      deliveredAt: null,
      sentItemsUid: copy.uid,
    };
    this.sentRecords.push(record);
    trim(this.sentRecords, this.retain);
    return record;
  }

  /**
   * Delivers a recorded submission to its recipients (now, or when the rate limit allows). The
   * recipients that cannot be reached — an address of a tenant's domain that no recipient has,
   * or an outside address set to bounce — come back as one non-delivery report in the sender's
   * Inbox, as Exchange Online does after it accepted the submission.
   */
  release(record: SentRecord): DeliveryReport {
    const failed: FailedRecipient[] = [];
    const reachable: string[] = [];
    for (const recipient of record.recipients) {
      const failure = this.failureOf(recipient);
      if (failure === undefined) reachable.push(recipient);
      else if (!failed.some((f) => f.address === failure.address)) failed.push(failure);
    }
    const report = this.deliver({ envelopeFrom: record.envelopeFrom, recipients: reachable, raw: record.content });
    record.deliveredAt = this.options.clock.now();
    if (failed.length > 0) this.returnToSender(record, failed);
    return report;
  }

  /** Makes an outside address bounce (`5.1.1` by default) until {@link clearUndeliverable}. */
  setUndeliverable(address: string, failure: { status?: string; diagnostic?: string } = {}): void {
    const status = failure.status ?? '5.1.1';
    this.undeliverable.set(address.toLowerCase(), {
      status,
      diagnostic:
        failure.diagnostic ??
        `550 ${status} <${address.toLowerCase()}>: Recipient address rejected: User unknown in virtual mailbox table`,
    });
  }

  clearUndeliverable(): void {
    this.undeliverable.clear();
  }

  private failureOf(recipient: string): FailedRecipient | undefined {
    const address = recipient.toLowerCase();
    const bounce = this.undeliverable.get(address);
    if (bounce !== undefined) return { address, ...bounce };
    if (this.options.resolveMailbox(address) !== undefined) return undefined;
    return this.options.tenantDomainOf?.(address) === undefined ? undefined : recipientNotFound(address);
  }

  private returnToSender(record: SentRecord, failed: readonly FailedRecipient[]): void {
    const sender = this.options.resolveMailbox(record.envelopeFrom) ?? this.options.resolveMailbox(record.mailbox);
    if (sender === undefined) return;
    const raw = buildNdr({
      original: record.content,
      to: record.envelopeFrom,
      tenantDomain: this.options.tenantDomainOf?.(sender) ?? sender.slice(sender.indexOf('@') + 1),
      failed,
      now: this.options.clock.now(),
    });
    const inbox = this.options.store.mailbox(sender).wellKnown('inbox');
    this.options.store.append(sender, inbox, new MessageContent(raw));
  }

  get sink(): readonly SinkMessage[] {
    return this.sinkMessages;
  }

  get sent(): readonly SentRecord[] {
    return this.sentRecords;
  }

  clearSink(): void {
    this.sinkMessages.length = 0;
  }

  clearSent(): void {
    this.sentRecords.length = 0;
  }
}

/** Removes Bcc header fields (with their continuation lines) from a message's header. */
function stripBcc(content: MessageContent): MessageContent {
  const structure = content.structure;
  if (!structure.headers.some((field) => field.key === 'bcc')) return content;
  const header = content.raw.toString('latin1', 0, structure.bodyStart);
  const lines = header.split(/(?<=\n)/);
  const kept: string[] = [];
  let dropping = false;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && dropping) continue;
    dropping = /^bcc\s*:/i.test(line);
    if (!dropping) kept.push(line);
  }
  return new MessageContent(
    Buffer.concat([Buffer.from(kept.join(''), 'latin1'), content.raw.subarray(structure.bodyStart)]),
  );
}

function trim<T>(list: T[], max: number): void {
  if (list.length > max) list.splice(0, list.length - max);
}
