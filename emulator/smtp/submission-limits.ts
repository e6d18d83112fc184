/**
 * Exchange Online's limits on SMTP AUTH submission, per mailbox, on the emulator's clock:
 * - at most 3 concurrent submissions (`432 4.3.2 … sender thread limit exceeded` beyond);
 * - 10,000 recipients in any rolling 24 hours (`554 5.2.0 … SubmissionQuotaExceededException`);
 * - 30 messages a minute: the excess is accepted and its delivery delayed, "successively carried
 *   over to the following minutes" — never rejected.
 *
 * @see https://learn.microsoft.com/exchange/troubleshoot/send-emails/smtp-submission-improvements
 * @see https://learn.microsoft.com/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits#sending-limits
 */
import type { ExchangeClock } from '../exchange/exchange-clock.js';

export interface SubmissionLimitOptions {
  readonly concurrentSubmissions?: number;
  readonly recipientsPerDay?: number;
  readonly messagesPerMinute?: number;
}

const DAY = 86_400_000;
const MINUTE = 60_000;

export class SubmissionLimits {
  readonly concurrentSubmissions: number;
  readonly recipientsPerDay: number;
  readonly messagesPerMinute: number;
  private readonly active = new Map<string, number>();
  private readonly recipientLog = new Map<string, Array<{ at: number; count: number }>>();
  private readonly deliverySlots = new Map<string, number[]>();

  constructor(
    private readonly clock: ExchangeClock,
    options: SubmissionLimitOptions = {},
  ) {
    this.concurrentSubmissions = options.concurrentSubmissions ?? 3;
    this.recipientsPerDay = options.recipientsPerDay ?? 10_000;
    this.messagesPerMinute = options.messagesPerMinute ?? 30;
  }

  /** Claims a submission slot; false when the mailbox already has its concurrent maximum. */
  beginSubmission(mailbox: string): boolean {
    const current = this.active.get(mailbox) ?? 0;
    if (current >= this.concurrentSubmissions) return false;
    this.active.set(mailbox, current + 1);
    return true;
  }

  endSubmission(mailbox: string): void {
    const current = this.active.get(mailbox) ?? 0;
    if (current <= 1) this.active.delete(mailbox);
    else this.active.set(mailbox, current - 1);
  }

  activeSubmissions(mailbox: string): number {
    return this.active.get(mailbox) ?? 0;
  }

  /** Recipients counted against the mailbox in the last 24 hours. */
  recipientsUsed(mailbox: string): number {
    const cutoff = this.clock.now() - DAY;
    const log = (this.recipientLog.get(mailbox) ?? []).filter((entry) => entry.at > cutoff);
    this.recipientLog.set(mailbox, log);
    return log.reduce((sum, entry) => sum + entry.count, 0);
  }

  /** Counts a submission's recipients if they fit the rolling day; false (nothing counted) otherwise. */
  takeRecipients(mailbox: string, count: number): boolean {
    if (this.recipientsUsed(mailbox) + count > this.recipientsPerDay) return false;
    const log = this.recipientLog.get(mailbox) ?? [];
    log.push({ at: this.clock.now(), count });
    this.recipientLog.set(mailbox, log);
    return true;
  }

  /**
   * The time an accepted message may be delivered: now, unless the mailbox's last 30 deliveries
   * fall within a minute, in which case one minute after the 30th-last (first in, first out).
   */
  scheduleDelivery(mailbox: string): number {
    const slots = this.deliverySlots.get(mailbox) ?? [];
    let at = Math.max(this.clock.now(), slots[slots.length - 1] ?? 0);
    const windowStart =
      slots.length >= this.messagesPerMinute ? slots[slots.length - this.messagesPerMinute] : undefined;
    if (windowStart !== undefined) at = Math.max(at, windowStart + MINUTE);
    slots.push(at);
    if (slots.length > this.messagesPerMinute) slots.splice(0, slots.length - this.messagesPerMinute);
    this.deliverySlots.set(mailbox, slots);
    return at;
  }

  reset(): void {
    this.active.clear();
    this.recipientLog.clear();
    this.deliverySlots.clear();
  }
}
