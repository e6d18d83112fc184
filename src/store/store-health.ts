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

/** The store's write health, shared by a `Database` and every transaction bound from it. */
export class StoreHealth {
  private failure: { error: PosternError; since: number; last: number } | undefined;

  constructor(private readonly monotonicMs: () => number = () => performance.now()) {}

  /**
   * Records `error` when it is a storage failure and returns its catalogue error; returns
   * undefined (and records nothing) for any other error.
   */
  failed(error: unknown): PosternError | undefined {
    const storage = asStorageError(error);
    if (storage === undefined) return undefined;
    const now = this.monotonicMs();
    const since = this.failure !== undefined && now - this.failure.last < REPORT_FRESH_MS ? this.failure.since : now;
    this.failure = { error: storage, since, last: now };
    return storage;
  }

  /** A write succeeded: the store writes again. */
  succeeded(): void {
    this.failure = undefined;
  }

  /** The storage failure reported within the last minute and not followed by a success. */
  current(): StoreFailure | undefined {
    const failure = this.failure;
    if (failure === undefined) return undefined;
    const now = this.monotonicMs();
    if (now - failure.last >= REPORT_FRESH_MS) return undefined;
    return {
      code: failure.error.code,
      message: failure.error.message,
      remedy: failure.error.remedy ?? null,
      forMs: Math.max(0, Math.round(now - failure.since)),
    };
  }
}
