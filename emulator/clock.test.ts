import { describe, expect, it } from 'vitest';
import { Clock, DAY_MS, type ClockChange } from './clock.js';

describe('Clock', () => {
  it('is real time plus an offset that only explicit calls move', () => {
    let real = Date.UTC(2025, 0, 1);
    const clock = new Clock({ source: () => real });
    expect(clock.now().toISOString()).toBe('2025-01-01T00:00:00.000Z');
    real += 1500;
    expect(clock.nowSeconds()).toBe(Date.UTC(2025, 0, 1) / 1000 + 1);
    clock.advance(91 * DAY_MS);
    expect(clock.now().toISOString()).toBe('2025-04-02T00:00:01.500Z');
    clock.set(new Date('2030-06-01T00:00:00Z'));
    expect(clock.now().toISOString()).toBe('2030-06-01T00:00:00.000Z');
    clock.reset();
    expect(clock.nowMs()).toBe(real);
  });

  it('emits each jump with its delta, and stops after unsubscribe', () => {
    const clock = new Clock({ source: () => 0 });
    const seen: ClockChange[] = [];
    const off = clock.onChange((c) => seen.push(c));
    clock.advance(DAY_MS);
    clock.advance(-1000);
    off();
    clock.advance(5);
    expect(seen.map((c) => [c.deltaMs, c.offsetMs])).toEqual([
      [DAY_MS, DAY_MS],
      [-1000, DAY_MS - 1000],
    ]);
  });

  it('refuses a non-finite offset', () => {
    expect(() => new Clock().advance(Number.NaN)).toThrow(RangeError);
  });
});
