/**
 * What the process last learned about its store's ability to write: the storage failure a write
 * reported (a full disk, a read-only file system, PostgreSQL gone away), until a write succeeds
 * again. A `select 1` cannot tell a full disk — reads keep working — so the writers that meet the
 * failure report it here (the sync store, the outbox) and `/health` reads it.
 *
 * A report is believed for a minute: the workers that meet the failure retry well within that and
 * report it again, while a failure nobody meets any more (space came back while nothing wrote)
 * does not keep the process degraded for ever. Durations use a monotonic clock, so a jump of the
 * wall clock neither hides a failure nor keeps one.
 */
import { performance } from 'node:perf_hooks';
import type { PosternError } from '../errors/index.js';
import { asStorageError } from './sql-errors.js';

/** A storage failure as `/health` and the accounts show it. */
export interface StoreFailure {
  readonly code: string;
  readonly message: string;
  readonly remedy: string | null;
  /** How long ago it was first reported, without a success since (milliseconds). */
  readonly forMs: number;
}

/** How long a report is believed without being made again. */
const REPORT_FRESH_MS = 60_000;

/**
 * The store's write health, shared by a `Database` and every transaction bound from it. Each
 * writer reports under its own name (`ingest`, `outbox`, `requests`): a small write that still
 * fits (a token's "last used", rewritten in place) must not clear the failure that a message's
 * insert meets, so only the writer that met a failure clears it.
 */
export class StoreHealth {
  private readonly failures = new Map<string, { error: PosternError; since: number; last: number }>();

  constructor(private readonly monotonicMs: () => number = () => performance.now()) {}

  /**
   * Records `error` for `writer` when it is a storage failure and returns its catalogue error;
   * returns undefined (and records nothing) for any other error.
   */
  failed(error: unknown, writer = 'store'): PosternError | undefined {
    const storage = asStorageError(error);
    if (storage === undefined) return undefined;
    const now = this.monotonicMs();
    const before = this.failures.get(writer);
    const since = before !== undefined && now - before.last < REPORT_FRESH_MS ? before.since : now;
    this.failures.set(writer, { error: storage, since, last: now });
    return storage;
  }

  /** A write of `writer` succeeded: it writes again. */
  succeeded(writer = 'store'): void {
    this.failures.delete(writer);
  }

  /** The oldest storage failure reported within the last minute and not followed by its writer's success. */
  current(): StoreFailure | undefined {
    const now = this.monotonicMs();
    let oldest: { error: PosternError; since: number; last: number } | undefined;
    for (const failure of this.failures.values()) {
      if (now - failure.last >= REPORT_FRESH_MS) continue;
      if (oldest === undefined || failure.since < oldest.since) oldest = failure;
    }
    if (oldest === undefined) return undefined;
    return {
      code: oldest.error.code,
      message: oldest.error.message,
      remedy: oldest.error.remedy ?? null,
      forMs: Math.max(0, Math.round(now - oldest.since)),
    };
  }
}
