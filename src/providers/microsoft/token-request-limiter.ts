/**
 * The pace of Postern's requests to the identity platform's token endpoint, per node: a token
 * bucket one token deep, filled at `perSecond`. A request goes when the bucket holds its token;
 * the next one waits `1000 / perSecond` ms after it. Requests are therefore evenly spaced, and no
 * 1-second window ever holds more than `perSecond` of them — a deeper bucket would let a burst of
 * its depth through on top of the rate, which is what Microsoft's throttling punishes.
 *
 * Waiting requests go by priority, then in arrival order: a person signing in (`interactive`)
 * before a token a mailbox or the outbox needs now (`demand`) before the token keeper's renewals
 * ahead of time (`upkeep`). A sign-in therefore waits at most one interval, however many renewals
 * are queued behind it.
 *
 * Microsoft publishes no fixed token-issuance limit; it answers a client that asks too often with
 * `429` + `Retry-After` (client credentials) or AADSTS50196.
 *
 * @see https://learn.microsoft.com/entra/msal/dotnet/advanced/client-and-server-throttling
 */

/** Who is waiting for a token request, most urgent first. */
export const TOKEN_REQUEST_PRIORITIES = ['interactive', 'demand', 'upkeep'] as const;
export type TokenRequestPriority = (typeof TOKEN_REQUEST_PRIORITIES)[number];

/** The limiter's time: a monotonic clock in milliseconds, and a wait. Tests inject a fake one. */
export interface LimiterClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock: `performance.now()` (never moved by the tests' wall clock) and timers. */
export const REAL_LIMITER_CLOCK: LimiterClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** What the limiter has done and holds, for metrics and the keeper's progress. */
export interface LimiterStats {
  readonly perSecond: number;
  /** Requests let through since the start. */
  readonly granted: number;
  /** Requests waiting now, by priority. */
  readonly waiting: Readonly<Record<TokenRequestPriority, number>>;
}

/** A per-node token bucket of depth one with three priority lanes. */
export class TokenRequestLimiter {
  readonly perSecond: number;
  private readonly intervalMs: number;
  private readonly clock: LimiterClock;
  private readonly lanes: Record<TokenRequestPriority, Array<() => void>> = { interactive: [], demand: [], upkeep: [] };
  /** The earliest time the next request may go. */
  private nextAt = Number.NEGATIVE_INFINITY;
  private granted = 0;
  private draining = false;

  constructor(options: { perSecond: number; clock?: LimiterClock }) {
    if (!(options.perSecond > 0) || !Number.isFinite(options.perSecond))
      throw new RangeError('perSecond must be a positive number');
    this.perSecond = options.perSecond;
    this.intervalMs = 1000 / options.perSecond;
    this.clock = options.clock ?? REAL_LIMITER_CLOCK;
  }

  /** Resolves when a request of this priority may be sent; the request must follow at once. */
  acquire(priority: TokenRequestPriority): Promise<void> {
    const granted = new Promise<void>((resolve) => this.lanes[priority].push(resolve));
    if (!this.draining) void this.drain();
    return granted;
  }

  stats(): LimiterStats {
    return {
      perSecond: this.perSecond,
      granted: this.granted,
      waiting: {
        interactive: this.lanes.interactive.length,
        demand: this.lanes.demand.length,
        upkeep: this.lanes.upkeep.length,
      },
    };
  }

  /** One loop at a time hands out the slots; the priority is decided at each slot, not at arrival. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (;;) {
        const lane = TOKEN_REQUEST_PRIORITIES.find((name) => this.lanes[name].length > 0);
        if (lane === undefined) return;
        const now = this.clock.now();
        if (now < this.nextAt) {
          await this.clock.sleep(this.nextAt - now);
          continue;
        }
        // From the time of this grant, not the planned slot: a late timer never packs two requests.
        this.nextAt = now + this.intervalMs;
        this.granted += 1;
        this.lanes[lane].shift()?.();
      }
    } finally {
      this.draining = false;
    }
  }
}
