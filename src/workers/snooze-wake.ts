/**
 * Snooze wake-up (worker role): every few seconds, the conversations whose snooze has ended are
 * put back in the Open list and the live stream tells the consoles (InteractionService.wakeDue).
 * Several nodes may sweep at once: each conversation wakes once.
 */
import type { Logger } from '../log/index.js';
import type { InteractionService } from '../services/inbox/interaction-service.js';

/** Options of {@link SnoozeWake}. */
export interface SnoozeWakeOptions {
  /** How often the sweep runs. Default 15 seconds. */
  readonly intervalMs?: number;
}

/** Ends due snoozes, periodically. */
export class SnoozeWake {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly interactions: InteractionService,
    private readonly logger: Logger,
    private readonly options: SnoozeWakeOptions = {},
  ) {}

  start(): void {
    const interval = this.options.intervalMs ?? 15_000;
    const tick = (): void => {
      this.running = this.interactions
        .wakeDue()
        .then((woken) => {
          if (woken > 0) this.logger.debug({ woken }, 'snoozed conversations back');
        })
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'snooze wake-up failed');
        })
        .finally(() => {
          this.running = undefined;
          if (this.timer !== undefined) this.timer = setTimeout(tick, interval).unref();
        });
    };
    this.timer = setTimeout(tick, interval).unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
