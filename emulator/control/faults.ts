/**
 * Fault injection: scripted failures for the next N requests of a target, consumed in order.
 * Identity targets: `token`, `devicecode`, `authorize`, `discovery`, `jwks`. The Exchange half
 * adds its own targets (`imap`, `smtp`, `graph`...) on the same injector; the kinds are generic.
 *
 * Tests should leave no fault unconsumed (`GET /_emulator/faults` lists what is pending), as
 * panva's suites fail on pending interceptors.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/** What a fault does. */
const FAULT_KINDS = ['http-500', 'http-503', 'temporarily_unavailable', 'delay', 'drop'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A fault as posted to the control API. */
const faultSpecSchema = z.object({
  target: z.string().regex(/^[a-z][a-z0-9.-]*$/),
  kind: z.enum(FAULT_KINDS),
  /** How many of the next requests it applies to. */
  count: z.number().int().positive().max(10_000).default(1),
  /** `delay`: how long to hold the request before handling it normally. */
  delayMs: z.number().int().nonnegative().max(120_000).default(0),
  /** `http-503`: the Retry-After header value, in seconds. */
  retryAfterSeconds: z.number().int().nonnegative().optional(),
  /** Override of the HTTP status (e.g. 400 or 503 for `temporarily_unavailable`). */
  status: z.number().int().min(400).max(599).optional(),
});
export type FaultSpec = z.infer<typeof faultSpecSchema>;

/** A registered fault with what remains of it. */
export interface Fault extends FaultSpec {
  id: string;
  remaining: number;
}

/** The queue of scripted faults, per target. */
export class FaultInjector {
  #faults: Fault[] = [];

  /** Queues a fault (validated). */
  add(input: unknown): Fault {
    const spec = faultSpecSchema.parse(input);
    const fault: Fault = { ...spec, id: randomUUID(), remaining: spec.count };
    this.#faults.push(fault);
    return fault;
  }

  /** Consumes one application of the oldest pending fault for `target`, if any. */
  take(target: string): Fault | undefined {
    const fault = this.#faults.find((f) => f.target === target && f.remaining > 0);
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.#faults = this.#faults.filter((f) => f !== fault);
    return { ...fault };
  }

  /** Pending faults. */
  list(): Fault[] {
    return this.#faults.map((f) => ({ ...f }));
  }

  /** Drops pending faults (of one target, or all); returns how many. */
  clear(target?: string): number {
    const before = this.#faults.length;
    this.#faults = target === undefined ? [] : this.#faults.filter((f) => f.target !== target);
    return before - this.#faults.length;
  }
}
