/**
 * The emulator's controllable clock: real time plus an offset that the control API moves
 * forward, so that a 90-day refresh-token expiry is tested in seconds. Everything in the
 * emulator (token issue and expiry, code lifetimes, device-code polling, secret expiry,
 * Exchange's session checks) reads time from one Clock instance, never from `Date.now()`.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/refresh-tokens (90-day inactivity window)
 */
import { EventEmitter } from 'node:events';

/** Emitted after every change of the offset; `deltaMs` is how far the clock jumped. */
export interface ClockChange {
  readonly offsetMs: number;
  readonly deltaMs: number;
  readonly now: Date;
}

interface ClockEvents {
  change: [ClockChange];
}

/** A source of real time; injectable so that unit tests can freeze it. */
export type TimeSource = () => number;

/**
 * Real time (from `source`, `Date.now` by default) plus an offset. The offset only ever moves
 * by explicit calls, which emit `change` so that long-lived sessions (IMAP IDLE) can re-check
 * their token expiry at once instead of waiting for a real timer.
 */
export class Clock extends EventEmitter<ClockEvents> {
  #offsetMs: number;
  readonly #source: TimeSource;

  constructor(options: { offsetMs?: number; source?: TimeSource } = {}) {
    super();
    this.#offsetMs = options.offsetMs ?? 0;
    this.#source = options.source ?? Date.now;
  }

  /** Milliseconds since the epoch, as the emulator sees them. */
  nowMs(): number {
    return this.#source() + this.#offsetMs;
  }

  /** Whole seconds since the epoch (the unit of JWT `iat`/`exp`). */
  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** The emulator's current time. */
  now(): Date {
    return new Date(this.nowMs());
  }

  /** How far ahead of real time the emulator is, in milliseconds. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Moves the clock forward (or back, with a negative value) by `ms`. */
  advance(ms: number): ClockChange {
    return this.#setOffset(this.#offsetMs + ms);
  }

  /** Sets the emulator's time to `at` (the offset becomes `at − real now`). */
  set(at: Date): ClockChange {
    return this.#setOffset(at.getTime() - this.#source());
  }

  /** Back to real time. */
  reset(): ClockChange {
    return this.#setOffset(0);
  }

  /** Subscribes to jumps; returns the unsubscribe function. */
  onChange(listener: (change: ClockChange) => void): () => void {
    this.on('change', listener);
    return () => this.off('change', listener);
  }

  #setOffset(offsetMs: number): ClockChange {
    if (!Number.isFinite(offsetMs)) throw new RangeError('clock offset must be a finite number');
    const deltaMs = offsetMs - this.#offsetMs;
    this.#offsetMs = offsetMs;
    const change: ClockChange = { offsetMs, deltaMs, now: this.now() };
    this.emit('change', change);
    return change;
  }
}

/** Milliseconds in one day; handy for `clock.advance(91 * DAY_MS)`. */
export const DAY_MS = 86_400_000;
