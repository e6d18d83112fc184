/**
 * Throttling of the emulated Graph mail API, and the faults a test scripts for it:
 *
 * - Outlook's MailboxConcurrency limit: at most 4 requests of one app on one mailbox in flight;
 *   the next one is answered `429` with `Retry-After` and `ApplicationThrottled` "Application is
 *   over its MailboxConcurrency limit." at once.
 * - Faults on the emulator's FaultInjector under the target `graph`, consumed one per call by the
 *   next authenticated calls: `http-503` (503, or 429 ApplicationThrottled with `status: 429`),
 *   `temporarily_unavailable` (503), `http-500`, `delay` (the call is held, counting toward the
 *   concurrency limit, then served), `drop` (the connection is closed without a reply).
 *
 * @see ../../../shared/reference/microsoft-protocols.md §7 ("Graph: … 4 concurrent requests per app … 429 + Retry-After")
 * @see https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits
 */
import type { Fault, FaultInjector } from '../control/faults.js';
import { graphErrors, type GraphError } from './graph-errors.js';

/** The FaultInjector target of the Graph API. */
export const GRAPH_FAULT_TARGET = 'graph';

/** Limits a test may tune. */
export interface GraphLimits {
  /** Concurrent requests per app and mailbox (Outlook: 4). */
  concurrency: number;
  /** `Retry-After` of the concurrency 429, in seconds. */
  retryAfterSeconds: number;
}

/** Outlook's documented limit; Retry-After of 1 s (Graph does not document the value). */
export const DEFAULT_GRAPH_LIMITS: Readonly<GraphLimits> = { concurrency: 4, retryAfterSeconds: 1 };

/** Requests in flight per app and mailbox. */
export class MailboxConcurrency {
  private readonly inFlight = new Map<string, number>();

  constructor(readonly limits: GraphLimits = { ...DEFAULT_GRAPH_LIMITS }) {}

  /** Takes a slot for `appId` on `mailbox`; returns the release function, or undefined when over the limit. */
  acquire(appId: string, mailbox: string): (() => void) | undefined {
    const key = `${appId.toLowerCase()}|${mailbox.toLowerCase()}`;
    const current = this.inFlight.get(key) ?? 0;
    if (current >= this.limits.concurrency) return undefined;
    this.inFlight.set(key, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.inFlight.get(key) ?? 1) - 1;
      if (now <= 0) this.inFlight.delete(key);
      else this.inFlight.set(key, now);
    };
  }

  /** Requests in flight, by `appId|mailbox`. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.inFlight);
  }
}

/** What a consumed fault makes of a call. */
export type FaultEffect =
  | { readonly kind: 'none' }
  | { readonly kind: 'error'; readonly error: GraphError; readonly fault: string }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'drop' };

/** Consumes the next `graph` fault, if any, and says what to do with the call. */
export function takeGraphFault(faults: FaultInjector): FaultEffect {
  const fault = faults.take(GRAPH_FAULT_TARGET);
  return fault === undefined ? { kind: 'none' } : effectOf(fault);
}

/** The effect of one fault on a Graph call. */
function effectOf(fault: Fault): FaultEffect {
  switch (fault.kind) {
    case 'delay':
      return { kind: 'delay', ms: fault.delayMs };
    case 'drop':
      return { kind: 'drop' };
    case 'http-500':
      return { kind: 'error', error: graphErrors.internal(), fault: fault.kind };
    case 'http-503':
    case 'temporarily_unavailable':
      if (fault.status === 429)
        return {
          kind: 'error',
          error: graphErrors.throttled(fault.retryAfterSeconds ?? DEFAULT_GRAPH_LIMITS.retryAfterSeconds),
          fault: 'http-429',
        };
      return { kind: 'error', error: graphErrors.unavailable(fault.retryAfterSeconds), fault: fault.kind };
  }
}
