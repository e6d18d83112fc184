/**
 * Retention of originals (worker role): once an hour, the raw MIME and attached files of messages
 * older than their account's "Keep originals for" are removed (RawRetentionService.sweep) and on
 * SQLite the space goes back to the file system. One node at a time sweeps, however many run the
 * worker role: each tick claims the `meta` row `sweep:raw-retention` (store/sweep-claims.ts) for a
 * lease of two intervals, renews it before every batch, and lets go of it on a clean stop; a node
 * that finds it held by a live node skips its turn, and takes over once the holder has been silent
 * for the lease. The log says how much went (messages, attachments, bytes), never what.
 */
import type { Logger } from '../log/index.js';
import type { OriginalsSweep, RawRetentionService } from '../services/retention/raw-retention-service.js';

/** Options of {@link RawRetention}. */
export interface RawRetentionOptions {
  /** How often the sweep runs. Default one hour. */
  readonly intervalMs?: number;
  /** Delay before the first sweep after start. Default one minute (tests: 0). */
  readonly firstDelayMs?: number;
  /** How long a claim lasts without renewal. Default two intervals. */
  readonly leaseMs?: number;
}

/** Sweeps expired originals, periodically, one node at a time. */
export class RawRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<OriginalsSweep | undefined> | undefined;
  /** Set by stop(): a sweep under way ends after its current batch instead of going through the backlog. */
  private stopping = false;

  constructor(
    private readonly retention: RawRetentionService,
    private readonly nodeId: string,
    private readonly logger: Logger,
    private readonly options: RawRetentionOptions = {},
  ) {}

  start(): void {
    this.stopping = false;
    const interval = this.options.intervalMs ?? 3_600_000;
    const tick = (): void => {
      this.running = this.runOnce()
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'retention of originals failed');
          return undefined;
        })
        .finally(() => {
          this.running = undefined;
          if (this.timer !== undefined) this.timer = setTimeout(tick, interval).unref();
        });
    };
    this.timer = setTimeout(tick, this.options.firstDelayMs ?? 60_000).unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.retention.release(this.nodeId).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'could not let go of the retention claim');
    });
  }

  /**
   * Sweeps now if this node holds (or takes) the claim; undefined when another node holds it.
   */
  async runOnce(): Promise<OriginalsSweep | undefined> {
    if (!(await this.claim())) {
      this.logger.debug('another node sweeps the originals');
      return undefined;
    }
    const started = Date.now();
    const sweep = await this.retention.sweep(async () => !this.stopping && (await this.claim()));
    const fields = {
      accounts: sweep.accounts,
      messages: sweep.messages,
      attachments: sweep.attachments,
      bytes: sweep.bytes,
      imagesLost: sweep.imagesLost,
      complete: sweep.complete,
      ms: Date.now() - started,
    };
    if (sweep.imagesLost > 0)
      this.logger.warn(fields, 'originals removed; some inline images no longer matched the raw MIME and went too');
    else if (sweep.messages > 0) this.logger.info(fields, 'originals removed');
    else this.logger.debug(fields, 'no original due for removal');
    return sweep;
  }

  private claim(): Promise<boolean> {
    return this.retention.claim(this.nodeId, this.options.leaseMs ?? 2 * (this.options.intervalMs ?? 3_600_000));
  }
}
