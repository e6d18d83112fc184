import { describe, expect, it } from 'vitest';
import { decideStart, planSteps, resetLastUid, uidSet } from './sync-plan.js';

const now = new Date('2025-01-15T09:00:00Z');

describe('decideStart', () => {
  it('resumes under the same UIDVALIDITY', () => {
    expect(decideStart({ uidValidity: 7, lastUid: 40, updatedAt: '' }, 7, { kind: 'all' }, now)).toEqual({
      kind: 'resume',
      lastUid: 40,
    });
  });
  it('starts a first sync within the window', () => {
    expect(decideStart(undefined, 7, { kind: 'days', days: 7 }, now)).toEqual({
      kind: 'reset',
      reason: 'first-sync',
      since: new Date('2025-01-08T09:00:00Z'),
      fromNow: false,
    });
    expect(decideStart(undefined, 7, { kind: 'all' }, now)).toEqual({
      kind: 'reset',
      reason: 'first-sync',
      since: null,
      fromNow: false,
    });
    expect(decideStart({ uidValidity: null, lastUid: 0, updatedAt: '' }, 7, { kind: 'new' }, now)).toEqual({
      kind: 'reset',
      reason: 'first-sync',
      since: null,
      fromNow: true,
    });
  });
  it('resyncs after a UIDVALIDITY change, for "new only" since the day before the checkpoint last moved', () => {
    const checkpoint = { uidValidity: 6, lastUid: 90, updatedAt: '2025-01-10T12:00:00.000Z' };
    expect(decideStart(checkpoint, 7, { kind: 'new' }, now)).toEqual({
      kind: 'reset',
      reason: 'uidvalidity-changed',
      since: new Date('2025-01-09T12:00:00Z'),
      fromNow: false,
    });
    expect(decideStart(checkpoint, 7, { kind: 'all' }, now)).toMatchObject({
      reason: 'uidvalidity-changed',
      since: null,
    });
  });
});

describe('resetLastUid', () => {
  const base = { kind: 'reset', reason: 'first-sync' } as const;
  it('starts from zero for everything, after UIDNEXT for new mail only, before the first match for a window', () => {
    expect(resetLastUid({ ...base, since: null, fromNow: false }, 50, undefined)).toBe(0);
    expect(resetLastUid({ ...base, since: null, fromNow: true }, 50, undefined)).toBe(49);
    expect(resetLastUid({ ...base, since: now, fromNow: false }, 50, [30, 12, 40])).toBe(11);
    expect(resetLastUid({ ...base, since: now, fromNow: false }, 50, [])).toBe(49);
  });
});

describe('planSteps', () => {
  const limits = { maxMessageBytes: 1000, batchCount: 3, batchBytes: 1500 };
  it('batches by count and bytes, oversize apart, in UID order, skipping UIDs at or below the checkpoint', () => {
    const steps = planSteps(
      [
        { uid: 9, size: 10 },
        { uid: 2, size: 10 },
        { uid: 3, size: 10 },
        { uid: 4, size: 10 },
        { uid: 5, size: 10 },
        { uid: 6, size: 5000 },
        { uid: 7, size: 900 },
        { uid: 8, size: 900 },
        { uid: 1, size: 10 },
      ],
      1,
      limits,
    );
    expect(steps).toEqual([
      { kind: 'fetch', uids: [2, 3, 4] },
      { kind: 'fetch', uids: [5] },
      { kind: 'oversize', candidate: { uid: 6, size: 5000 } },
      { kind: 'fetch', uids: [7] },
      { kind: 'fetch', uids: [8, 9] },
    ]);
  });
  it('plans nothing for nothing', () => {
    expect(planSteps([], 0, limits)).toEqual([]);
  });
});

describe('uidSet', () => {
  it('compresses runs', () => {
    expect(uidSet([9, 1, 2, 3, 7, 10, 3])).toBe('1:3,7,9:10');
    expect(uidSet([5])).toBe('5');
    expect(uidSet([])).toBe('');
  });
});
