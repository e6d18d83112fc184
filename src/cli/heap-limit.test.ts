import { describe, expect, it } from 'vitest';
import { defaultHeapMb, heapFlagValue, planHeapLimit } from './heap-limit.js';

const GB = 1024 ** 3;
const base = { execArgv: [], nodeOptions: undefined, memoryBytes: 24 * GB, restarted: false } as const;

describe('heap limit', () => {
  it('auto is a quarter of the memory, from 256 to 1024 MB', () => {
    expect(defaultHeapMb(512 * 1024 ** 2)).toBe(256);
    expect(defaultHeapMb(4 * GB)).toBe(1024);
    expect(defaultHeapMb(24 * GB)).toBe(1024);
    expect(defaultHeapMb(3 * GB)).toBe(768);
  });

  it('reads the last --max-old-space-size in its spellings', () => {
    expect(heapFlagValue(['--max-old-space-size=300'])).toBe(300);
    expect(heapFlagValue(['--max_old_space_size', '400', '--inspect'])).toBe(400);
    expect(heapFlagValue(['--max-old-space-size=300', '--max-old-space-size=500'])).toBe(500);
    expect(heapFlagValue(['--max-old-space-size=lots', '--max-semi-space-size=16'])).toBeUndefined();
  });

  it('starts again with the default when nothing sets it, and never from a child', () => {
    expect(planHeapLimit({ ...base, setting: 'auto' })).toEqual({ limitMb: 1024, source: 'default', restart: true });
    expect(planHeapLimit({ ...base, setting: 'auto', restarted: true })).toMatchObject({ restart: false });
  });

  it("honours the operator's NODE_OPTIONS or node option under auto", () => {
    const fromEnv = planHeapLimit({ ...base, setting: 'auto', nodeOptions: '--inspect --max-old-space-size=700' });
    expect(fromEnv).toEqual({ limitMb: 700, source: 'NODE_OPTIONS', restart: false });
    const fromArgv = planHeapLimit({ ...base, setting: 'auto', execArgv: ['--max-old-space-size=900'] });
    expect(fromArgv).toEqual({ limitMb: 900, source: 'node option', restart: false });
  });

  it('lets POSTERN_MAX_HEAP_MB win, starting again unless the process already has it', () => {
    const over = planHeapLimit({ ...base, setting: 300, nodeOptions: '--max-old-space-size=500' });
    expect(over).toEqual({ limitMb: 300, source: 'POSTERN_MAX_HEAP_MB', restart: true });
    const same = planHeapLimit({ ...base, setting: 300, nodeOptions: '--max-old-space-size=300' });
    expect(same.restart).toBe(false);
    const child = planHeapLimit({ ...base, setting: 300, execArgv: ['--max-old-space-size=300'], restarted: true });
    expect(child).toEqual({ limitMb: 300, source: 'POSTERN_MAX_HEAP_MB', restart: false });
  });
});
