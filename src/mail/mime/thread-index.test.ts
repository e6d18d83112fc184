import { describe, expect, it } from 'vitest';
import { childThreadIndex, newThreadIndex, parseThreadIndex, threadIndexFor } from './thread-index.js';

const zeros = (size: number): Uint8Array => new Uint8Array(size).fill(0xab);
const AT = new Date('2026-03-02T10:00:00.000Z');

describe('Thread-Index', () => {
  it('starts a conversation with 0x01, the 40 high bits of the FILETIME and a version-4 GUID', () => {
    const index = newThreadIndex(AT, zeros);
    expect(index).toHaveLength(22);
    expect(index[0]).toBe(0x01);
    const fileTime = BigInt(AT.getTime()) * 10_000n + 116_444_736_000_000_000n;
    expect(index.subarray(1, 6).toString('hex')).toBe((fileTime >> 24n).toString(16).padStart(10, '0'));
    expect((index[12] ?? 0) >> 4).toBe(4);
    expect((index[14] ?? 0) >> 6).toBe(2);
  });

  it('appends a 5-byte response level with the elapsed time to a reply', () => {
    const parent = newThreadIndex(AT, zeros);
    const child = childThreadIndex(parent, new Date(AT.getTime() + 3_600_000), () => new Uint8Array([7]));
    expect(child).toHaveLength(27);
    expect(child.subarray(0, 22).equals(parent)).toBe(true);
    const level = child.readUInt32BE(22);
    expect(level >>> 31).toBe(0);
    // One hour in 100 ns units, with the 18 low bits dropped (give or take the header's truncation).
    const expected = Number((3_600_000n * 10_000n) >> 18n);
    expect(Math.abs((level & 0x7fffffff) - expected)).toBeLessThanOrEqual(64);
    expect(child[26]).toBe(7);
  });

  it('uses the long delta code after about 1.7 years', () => {
    const parent = newThreadIndex(AT, zeros);
    const child = childThreadIndex(parent, new Date(AT.getTime() + 3 * 365 * 86_400_000), zeros);
    expect(child.readUInt32BE(22) >>> 31).toBe(1);
  });

  it('extends a parent index read from a header, and starts over on garbage', () => {
    const parent = newThreadIndex(AT, zeros).toString('base64');
    expect(parseThreadIndex(` ${parent}\r\n`)?.toString('base64')).toBe(parent);
    expect(threadIndexFor(parent, AT, zeros)).toHaveLength(27);
    for (const bad of [
      'not base64!',
      Buffer.alloc(23, 1).toString('base64'),
      Buffer.alloc(22, 2).toString('base64'),
      null,
    ]) {
      expect(parseThreadIndex(bad)).toBeUndefined();
      expect(threadIndexFor(bad, AT, zeros)).toHaveLength(22);
    }
  });
});
