import type { Logger } from '../log/index.js';
import type { Resource, TokenUpkeepService } from '../services/identity/token-upkeep-service.js';

const DAY_MS = 86_400_000;

export interface TokenKeeperOptions {
  /** How often the keeper runs. Default one minute. */
  intervalMs?: number;
  /** Access tokens of grants in use are renewed when they have less than this left. Default 10 minutes. */
  renewBeforeMs?: number;
  /** A grant not refreshed for this long is refreshed to stay clear of the 90-day inactivity limit. Default 14 days. */
  keepAliveAfterMs?: number;
}

export interface KeeperReport {
  refreshed: number;
  failed: number;
  secretWarnings: number;
}

/**
 * The token keeper (worker role): renews access tokens of grants in use before they expire, so that
 * IMAP sessions can be renewed before Exchange ends them; refreshes unused grants well inside the
 * 90-day inactivity limit; warns before client secrets expire; sweeps stale sign-ins and sessions.
 */
export class TokenKeeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<KeeperReport> | undefined;

  constructor(
    private readonly upkeep: TokenUpkeepService,
    private readonly logger: Logger,
    private readonly options: TokenKeeperOptions = {},
  ) {}

  start(): void {
    const interval = this.options.intervalMs ?? 60_000;
    const tick = (): void => {
      this.running = this.runOnce()
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'token keeper run failed');
          return { refreshed: 0, failed: 0, secretWarnings: 0 };
        })
        .finally(() => {
          this.running = undefined;
          if (this.timer !== undefined) this.timer = setTimeout(tick, interval).unref();
        });
    };
    this.timer = setTimeout(tick, 1000).unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async runOnce(): Promise<KeeperReport> {
    const now = this.upkeep.now().getTime();
    const due = await this.upkeep.grantsDue({
      expiringBefore: new Date(now + (this.options.renewBeforeMs ?? 10 * 60 * 1000)),
      idleSince: new Date(now - (this.options.keepAliveAfterMs ?? 14 * DAY_MS)),
    });
    let refreshed = 0;
    let failed = 0;
    const done = new Set<string>();
    const refresh = async (grantId: number, resource: Resource): Promise<void> => {
      const key = `${grantId}:${resource}`;
      if (done.has(key)) return;
      done.add(key);
      try {
        await this.upkeep.refresh(grantId, resource);
        refreshed += 1;
      } catch (error) {
        failed += 1;
        this.logger.warn({ grantId, err: error }, 'token keeper could not refresh a grant');
      }
    };
    // Expiring tokens are renewed only for grants an active account uses.
    for (const item of due.expiring) {
      if (await this.upkeep.isGrantInUse(item.grantId)) await refresh(item.grantId, item.resource);
    }
    for (const grantId of due.idle) await refresh(grantId, 'exchange');
    const warnings = await this.upkeep.warnExpiringSecrets(now);
    for (const warning of warnings) this.logger.warn(warning, 'client secret expiring');
    await this.upkeep.sweepExpiredSignIns();
    return { refreshed, failed, secretWarnings: warnings.length };
  }
}
