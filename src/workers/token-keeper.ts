import type { Logger } from '../log/index.js';
import type { RenewalOutcome, Resource, TokenUpkeepService } from '../services/identity/token-upkeep-service.js';

const DAY_MS = 86_400_000;

/**
 * Grants a keeper renews at once for a pace of `requestsPerSecond`: enough to keep the pace busy
 * while requests are on the wire (each lane has 5 intervals per renewal: 125 ms at 40/s — on a
 * loaded machine a renewal takes longer, and 4 lanes reached only 14/s of 40), few enough to
 * hold few database connections (on PostgreSQL a renewal holds its grant's row, and a connection).
 */
export function keeperConcurrency(requestsPerSecond: number): number {
  return Math.min(8, Math.max(2, Math.ceil(requestsPerSecond / 5)));
}

export interface TokenKeeperOptions {
  /** How often the keeper runs (from the end of one run to the start of the next). Default one minute. */
  intervalMs?: number;
  /** Access tokens of grants in use are renewed when they have less than this left. Default 10 minutes. */
  renewBeforeMs?: number;
  /** A grant not refreshed for this long is refreshed to stay clear of the 90-day inactivity limit. Default 14 days. */
  keepAliveAfterMs?: number;
  /**
   * Grants renewed at once. Their token requests are spaced by the node's pace
   * (POSTERN_TOKEN_REQUESTS_PER_SECOND), not by this: it only has to be enough to keep the pace
   * busy while requests are on the wire. Default 4; the worker role uses keeperConcurrency().
   */
  concurrency?: number;
  /** How often a long run logs how far it is. Default 10 seconds. */
  progressEveryMs?: number;
}

export interface KeeperReport {
  /** Tokens refreshed. */
  refreshed: number;
  /** Renewals found done by someone else once the grant was held, or left to a refresh under way. */
  skipped: number;
  failed: number;
  secretWarnings: number;
}

/** How far the current (or last) run is, in renewals (one grant's token for one resource). */
export interface KeeperProgress {
  readonly due: number;
  readonly refreshed: number;
  readonly skipped: number;
  readonly failed: number;
  readonly waiting: number;
}

/**
 * The token keeper (worker role): renews access tokens of grants in use before they expire, so that
 * IMAP sessions can be renewed before Exchange ends them; refreshes unused grants well inside the
 * 90-day inactivity limit; warns before client secrets expire; sweeps stale sign-ins and sessions.
 *
 * A run lists what is due, then renews it with a few grants at a time; the node's pace of token
 * requests spreads them, so 10,000 grants due at once take 10,000 / rate seconds and never more
 * than the rate in any second. Each renewal holds its grant first and looks again: a grant another
 * keeper (another node, an earlier run) renewed meanwhile, or is renewing now, is skipped — never
 * refreshed twice.
 */
export class TokenKeeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<KeeperReport> | undefined;
  private stopping = false;
  private current: { due: number; refreshed: number; skipped: number; failed: number } | undefined;

  constructor(
    private readonly upkeep: TokenUpkeepService,
    private readonly logger: Logger,
    private readonly options: TokenKeeperOptions = {},
  ) {}

  start(): void {
    this.stopping = false;
    const interval = this.options.intervalMs ?? 60_000;
    const tick = (): void => {
      this.running = this.runOnce()
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'token keeper run failed');
          return { refreshed: 0, skipped: 0, failed: 0, secretWarnings: 0 };
        })
        .finally(() => {
          this.running = undefined;
          if (this.timer !== undefined) this.timer = setTimeout(tick, interval).unref();
        });
    };
    this.timer = setTimeout(tick, 1000).unref();
  }

  /** Stops: a run under way finishes the renewals it has started and starts no more. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** The current or last run's counts; undefined before the first run. */
  progress(): KeeperProgress | undefined {
    const run = this.current;
    if (run === undefined) return undefined;
    return { ...run, waiting: run.due - run.refreshed - run.skipped - run.failed };
  }

  async runOnce(): Promise<KeeperReport> {
    const now = this.upkeep.now().getTime();
    const renewBeforeMs = this.options.renewBeforeMs ?? 10 * 60 * 1000;
    const idleSince = new Date(now - (this.options.keepAliveAfterMs ?? 14 * DAY_MS));
    const plan = await this.plan(new Date(now + renewBeforeMs), idleSince);
    const run = { due: 0, refreshed: 0, skipped: 0, failed: 0 };
    for (const resources of plan.values()) run.due += resources.length;
    this.current = run;
    const started = performance.now();
    if (run.due > 0) this.logger.info({ due: run.due, grants: plan.size }, 'token keeper: renewals due');
    const progressEvery = this.options.progressEveryMs ?? 10_000;
    let lastLog = started;

    const renew = async (grantId: number, resource: Resource): Promise<void> => {
      let outcome: RenewalOutcome;
      try {
        outcome = await this.upkeep.renew(grantId, resource, {
          minValidityMs: renewBeforeMs,
          refreshedBefore: idleSince,
        });
      } catch (error) {
        run.failed += 1;
        this.logger.warn({ grantId, err: error }, 'token keeper could not refresh a grant');
        return;
      }
      if (outcome === 'refreshed') run.refreshed += 1;
      else run.skipped += 1;
      if (performance.now() - lastLog >= progressEvery) {
        lastLog = performance.now();
        this.logger.info(this.progress(), 'token keeper: progress');
      }
    };
    // One grant's renewals one after another (its refresh token rotates); grants side by side.
    const grants = [...plan];
    let next = 0;
    const lane = async (): Promise<void> => {
      while (!this.stopping && next < grants.length) {
        const [grantId, resources] = grants[next] ?? [0, []];
        next += 1;
        for (const resource of resources) await renew(grantId, resource);
      }
    };
    const lanes = Math.max(1, Math.min(this.options.concurrency ?? 4, grants.length));
    await Promise.all(Array.from({ length: lanes }, lane));
    if (run.due > 0)
      this.logger.info(
        { ...this.progress(), seconds: Math.round(performance.now() - started) / 1000 },
        'token keeper: run finished',
      );

    const warnings = await this.upkeep.warnExpiringSecrets(now);
    for (const warning of warnings) this.logger.warn(warning, 'client secret expiring');
    await this.upkeep.sweepExpiredSignIns();
    return { refreshed: run.refreshed, skipped: run.skipped, failed: run.failed, secretWarnings: warnings.length };
  }

  /**
   * What is due, by grant: expiring tokens of grants an active account uses (the others are left
   * to expire), and an Exchange token for each grant idle too long.
   */
  private async plan(expiringBefore: Date, idleSince: Date): Promise<Map<number, Resource[]>> {
    const due = await this.upkeep.grantsDue({ expiringBefore, idleSince });
    const plan = new Map<number, Resource[]>();
    const add = (grantId: number, resource: Resource): void => {
      const resources = plan.get(grantId) ?? [];
      if (!resources.includes(resource)) resources.push(resource);
      plan.set(grantId, resources);
    };
    const inUse = new Map<number, boolean>();
    for (const item of due.expiring) {
      let used = inUse.get(item.grantId);
      if (used === undefined) {
        used = await this.upkeep.isGrantInUse(item.grantId);
        inUse.set(item.grantId, used);
      }
      if (used) add(item.grantId, item.resource);
    }
    for (const grantId of due.idle) add(grantId, 'exchange');
    return plan;
  }
}
