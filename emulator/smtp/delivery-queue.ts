/**
 * Accepted submissions waiting for their delivery time (the 30-messages-a-minute carry-over), on
 * the emulator's clock. Due messages are released on a short real-time tick and whenever the
 * control API asks (after moving the clock, or before listing what was sent).
 *
 * @see https://learn.microsoft.com/exchange/troubleshoot/send-emails/smtp-submission-improvements
 */
import type { ExchangeClock } from '../exchange/exchange-clock.js';
import type { MailRouter, SentRecord } from '../exchange/mail-router.js';

export class DeliveryQueue {
  private pending: Array<{ at: number; record: SentRecord }> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly router: MailRouter,
    private readonly clock: ExchangeClock,
  ) {}

  /** Delivers now if due, or keeps the message until `at`. */
  enqueue(record: SentRecord, at: number): void {
    if (at <= this.clock.now()) {
      this.router.release(record);
      return;
    }
    this.pending.push({ at, record });
    this.pending.sort((a, b) => a.at - b.at);
  }

  /** Releases every message whose time has come; returns how many. */
  flushDue(): number {
    const now = this.clock.now();
    let released = 0;
    for (let head = this.pending[0]; head !== undefined && head.at <= now; head = this.pending[0]) {
      this.pending.shift();
      this.router.release(head.record);
      released += 1;
    }
    return released;
  }

  get size(): number {
    return this.pending.length;
  }

  /** When each waiting message is due, by sent-record id. */
  dueTimes(): ReadonlyMap<string, number> {
    return new Map(this.pending.map(({ at, record }) => [record.id, at]));
  }

  start(tickMs = 250): void {
    this.stop();
    this.timer = setInterval(() => this.flushDue(), tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  clear(): void {
    this.pending = [];
  }
}
