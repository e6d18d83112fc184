/**
 * The time source the Exchange half of the emulator reads: the emulator's controllable clock, so
 * that token expiry, rolling sending windows and internal dates follow it when a test moves it.
 */

/** Milliseconds since the epoch, as the emulator's clock says. */
export interface ExchangeClock {
  now(): number;
}

/** The machine's clock. */
export const systemClock: ExchangeClock = { now: () => Date.now() };
