/**
 * Event retention (worker role): events older than the configured number of days
 * (`POSTERN_EVENT_RETENTION_DAYS`, 90 by default) are deleted, in batches, once an hour; their
 * webhook deliveries go with them. Several nodes may sweep at once: deleting is idempotent.
 */
import type { Logger } from '../log/index.js';
import type { EventRetentionService } from '../services/events/event-retention-service.js';

/** Options of {@link EventRetention}. */
export interface EventRetentionOptions {
  /** Days an event is kept. */
  readonly retentionDays: number;
  /** How often the sweep runs. Default one hour. */
  readonly intervalMs?: number;
  /** Delay before the first sweep after start. Default one minute. */
  readonly firstDelayMs?: number;
}

/** Deletes events past their retention, periodically. */
export class EventRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly retention: EventRetentionService,
    private readonly logger: Logger,
    private readonly options: EventRetentionOptions,
  ) {}

  start(): void {
    const interval = this.options.intervalMs ?? 3_600_000;
    const tick = (): void => {
      this.running = this.runOnce()
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'event retention sweep failed');
          return 0;
        })
        .finally(() => {
          this.running = undefined;
          if (this.timer !== undefined) this.timer = setTimeout(tick, interval).unref();
        });
    };
    this.timer = setTimeout(tick, this.options.firstDelayMs ?? 60_000).unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Deletes what is past retention now; returns how many events. */
  async runOnce(): Promise<number> {
    const { deleted, cutoff } = await this.retention.deleteExpired(this.options.retentionDays);
    if (deleted > 0)
      this.logger.info(
        { deleted, before: cutoff.toISOString(), retentionDays: this.options.retentionDays },
        'old events deleted',
      );
    return deleted;
  }
}
