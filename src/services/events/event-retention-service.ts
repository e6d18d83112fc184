/**
 * Event retention as a use case: events older than a number of days are deleted, with their
 * webhook deliveries, by the database clock. The worker (workers/event-retention.ts) decides when.
 */
import { pruneEvents, type Database } from '../../store/index.js';

const DAY_MS = 86_400_000;

/** What one sweep deleted. */
export interface RetentionSweep {
  readonly deleted: number;
  /** Events created before this moment were deleted. */
  readonly cutoff: Date;
}

/** Deletes events past their retention. */
export class EventRetentionService {
  constructor(private readonly db: Database) {}

  /** Deletes the events older than `retentionDays` days, in batches; idempotent across nodes. */
  async deleteExpired(retentionDays: number): Promise<RetentionSweep> {
    const cutoff = new Date(this.db.now().getTime() - retentionDays * DAY_MS);
    return { deleted: await pruneEvents(this.db, cutoff), cutoff };
  }
}
