/**
 * Scheduled times and a wall clock set back. A retry or a hold is stored as a wall-clock time
 * (every node of a cluster reads it), and its time has come when the clock reaches it. A clock
 * set back by hours (an NTP correction, a virtual machine restored) would then hold every pending
 * retry for as many hours. Postern never schedules anything further ahead than its policies'
 * longest delay, so a time further ahead than that — plus a margin for the nodes' clocks to
 * differ — can only mean that the clock went back since it was written: it is due now. A
 * backward jump therefore delays a scheduled attempt by at most the policy's longest delay plus
 * the margin, whatever its size; no state, no detection, the same on SQLite and PostgreSQL
 * (docs/ARCHITECTURE.md, "Host faults").
 */

/**
 * How far beyond its longest delay a scheduled time may lie before it is taken for a clock set
 * back: room for nodes whose clocks differ by a few minutes (each writes with its own).
 */
export const CLOCK_SET_BACK_MARGIN_MS = 5 * 60_000;

/**
 * The time beyond which a scheduled time means the clock went back since it was written, for a
 * schedule whose delays never exceed `longestDelayMs`.
 */
export function setBackBound(now: Date, longestDelayMs: number): Date {
  return new Date(now.getTime() + longestDelayMs + CLOCK_SET_BACK_MARGIN_MS);
}

/**
 * True when a time scheduled at most `longestDelayMs` ahead is due at `now`: its time has come, or
 * it lies beyond {@link setBackBound} (the clock went back).
 */
export function isScheduledDue(at: Date, now: Date, longestDelayMs: number): boolean {
  return at.getTime() <= now.getTime() || at.getTime() > setBackBound(now, longestDelayMs).getTime();
}
