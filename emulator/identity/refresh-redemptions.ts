/**
 * How often each refresh-token chain was redeemed: a chain starts at a sign-in (authorization
 * code, password, device code) and every refresh token rotated from it carries the chain's id.
 * A client that refreshes one grant twice — two nodes holding the same stored refresh token, or a
 * second renewal of a grant just renewed — shows as a chain redeemed more than once. Counts of
 * the most recent `capacity` chains are kept (the oldest forgotten first).
 */

/** What `GET /_emulator/refresh-redemptions` answers. */
export interface RedemptionSummary {
  /** Chains redeemed at least once since the last reset. */
  chains: number;
  /** Successful `refresh_token` redemptions counted. */
  redemptions: number;
  /** Chains redeemed more than once. */
  repeatedChains: number;
  /** Redemptions beyond the first of their chain. */
  extraRedemptions: number;
  /** The most redemptions of one chain. */
  maxPerChain: number;
}

/** A bounded counter of redemptions per chain. */
export class RefreshRedemptions {
  #counts = new Map<string, number>();
  readonly capacity: number;

  constructor(capacity = 100_000) {
    this.capacity = capacity;
  }

  /** Counts one successful redemption of a token of `chain`. */
  record(chain: string): void {
    this.#counts.set(chain, (this.#counts.get(chain) ?? 0) + 1);
    if (this.#counts.size > this.capacity) {
      const oldest = this.#counts.keys().next();
      if (oldest.done !== true) this.#counts.delete(oldest.value);
    }
  }

  summary(): RedemptionSummary {
    let redemptions = 0;
    let repeatedChains = 0;
    let maxPerChain = 0;
    for (const count of this.#counts.values()) {
      redemptions += count;
      if (count > 1) repeatedChains += 1;
      maxPerChain = Math.max(maxPerChain, count);
    }
    const chains = this.#counts.size;
    return { chains, redemptions, repeatedChains, extraRedemptions: redemptions - chains, maxPerChain };
  }

  /** Forgets every count; returns how many chains were known. */
  clear(): number {
    const known = this.#counts.size;
    this.#counts = new Map();
    return known;
  }
}
