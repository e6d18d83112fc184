/**
 * What the outbox dispatcher (workers/outbox-dispatcher.ts) does to the store, as use cases: find
 * the accounts with due mail, claim rows within an account's limits, renew and recover claims
 * (with the event that tells the message's timeline it is sent again), fail a message that can
 * never fit the daily limit, and prune old counters and idempotency keys. The dispatcher owns the
 * pacing, the leases' heartbeat and the hand-over to the delivery service.
 */
import type { PosternError } from '../../errors/index.js';
import {
  appendEvent,
  claimDueMessages,
  deleteExpiredIdempotencyKeys,
  listAccountsWithDueMail,
  markOutboxFailed,
  pruneRateCounters,
  releaseClaims,
  renewClaims,
  type AccountTransport,
  type ClaimRequest,
  type ClaimResult,
  type Database,
  type OutboxRecord,
  type SendingAccount,
} from '../../store/index.js';

export type { AccountTransport, ClaimResult, OutboxRecord, SendingAccount } from '../../store/index.js';

/** The outbox dispatcher's use cases. */
export class OutboxDispatchService {
  constructor(private readonly db: Database) {}

  /** The database clock (tests move it). */
  now(): Date {
    return this.db.now();
  }

  /**
   * The catalogue error when `error` is a storage failure (a full disk, a read-only or unreachable
   * database) — recorded in the store's health for `/health` — or undefined.
   */
  storageFailure(error: unknown): PosternError | undefined {
    return this.db.health.failed(error, 'outbox');
  }

  /**
   * Which claims a starting dispatcher queues again: all of them on SQLite (a single process knows
   * nothing else is sending), only expired ones on PostgreSQL (other nodes may be sending).
   */
  recoveryScopeAtStart(): 'all' | 'expired' {
    return this.db.engine === 'sqlite' ? 'all' : 'expired';
  }

  /**
   * Queues again claims left by a dead run (all, or expired ones and those of `deadNodes`), each
   * with its event; returns how many.
   */
  async recoverClaims(scope: 'all' | 'expired', deadNodes: readonly string[] = []): Promise<number> {
    const released = await releaseClaims(this.db, this.db.now(), scope, deadNodes);
    for (const row of released) {
      await appendEvent(this.db, {
        scope: 'message',
        scopeId: row.messageId,
        type: 'message.resent_after_interruption',
        level: 'warn',
        message:
          'Sending was interrupted (the process stopped or lost its claim); the message is sent again, and may reach its recipients twice if it had already left.',
        data: { outboxId: row.id, attempt: row.attempts },
      });
    }
    return released.length;
  }

  /** Active accounts of these transports with mail due at `now`, with their limits. */
  accountsWithDueMail(now: Date, transports: readonly AccountTransport[]): Promise<SendingAccount[]> {
    return listAccountsWithDueMail(this.db, now, transports);
  }

  /** Claims due rows of one account within its limits (counted in the database, across nodes). */
  claim(request: ClaimRequest): Promise<ClaimResult> {
    return claimDueMessages(this.db, request);
  }

  /** Extends the leases of these claimers' rows until `until`. */
  async renewClaims(claimers: readonly string[], until: Date): Promise<void> {
    await renewClaims(this.db, claimers, until);
  }

  /**
   * Fails a message with more recipients than its account may send to in a day, with its
   * `message.failed` event; false when it was no longer queued.
   */
  failOverDailyLimit(row: OutboxRecord, recipientsPerDay: number, now: Date): Promise<boolean> {
    const message = `The message has ${row.recipientCount} recipients, more than the ${recipientsPerDay} the account may send to in a day.`;
    return this.db.transaction(async (tx) => {
      const failed = await markOutboxFailed(tx, row.id, {
        claimer: null,
        now,
        error: {
          code: 'OUTBOX_OVER_DAILY_LIMIT',
          message,
          remedy: "Raise the account's recipients per day, or split the message, then retry it.",
        },
      });
      if (failed)
        await appendEvent(tx, {
          scope: 'message',
          scopeId: row.messageId,
          type: 'message.failed',
          level: 'error',
          message: `Not sent: ${message}`,
          data: { outboxId: row.id, code: 'OUTBOX_OVER_DAILY_LIMIT' },
        });
      return failed;
    });
  }

  /** Deletes rate counters and idempotency keys that can no longer matter at `now`. */
  async pruneExpired(now: Date): Promise<void> {
    await pruneRateCounters(this.db, now);
    await deleteExpiredIdempotencyKeys(this.db, now);
  }
}
