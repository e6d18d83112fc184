import { describe, expect, it } from 'vitest';
import { DeltaStates, diffSnapshots } from './delta-sync.js';
import { GraphError } from './graph-errors.js';
import type { DeltaQuery } from './odata-query.js';

const query: DeltaQuery = {
  select: undefined,
  receivedAfter: undefined,
  descending: false,
  changeType: undefined,
  top: undefined,
  expandAttachments: false,
};

describe('diffSnapshots', () => {
  const before = new Map([
    ['a', ''],
    ['b', ''],
    ['c', '\\Seen'],
  ]);
  const after = new Map([
    ['a', '\\Seen'],
    ['c', '\\Seen'],
    ['d', ''],
  ]);

  it('reports everything as created on the first round', () => {
    expect(diffSnapshots(undefined, before, ['a', 'b', 'c'], undefined)).toEqual([
      { id: 'a', kind: 'created' },
      { id: 'b', kind: 'created' },
      { id: 'c', kind: 'created' },
    ]);
  });

  it('reports removals first, then creations and updates in folder order; unchanged messages not at all', () => {
    expect(diffSnapshots(before, after, ['a', 'c', 'd'], undefined)).toEqual([
      { id: 'b', kind: 'deleted' },
      { id: 'a', kind: 'updated' },
      { id: 'd', kind: 'created' },
    ]);
  });

  it('keeps one change type when asked', () => {
    expect(diffSnapshots(before, after, ['a', 'c', 'd'], 'deleted')).toEqual([{ id: 'b', kind: 'deleted' }]);
    expect(diffSnapshots(before, after, ['a', 'c', 'd'], 'updated')).toEqual([{ id: 'a', kind: 'updated' }]);
  });
});

describe('DeltaStates', () => {
  it('resumes rounds and sync states by token, for the same mailbox and folder only', () => {
    const states = new DeltaStates();
    const round = states.startRound({
      mailbox: 'm',
      folderId: 'f',
      query,
      current: new Map([['a', '']]),
      order: ['a'],
    });
    const skip = states.saveRound(round, 1);
    expect(states.resumeRound(skip, 'm', 'f')).toEqual({ round, offset: 1 });
    expect(() => states.resumeRound(skip, 'm', 'other')).toThrow(GraphError);
    const delta = states.saveSyncState(round);
    expect(states.syncState(delta, 'm', 'f').snapshot).toEqual(new Map([['a', '']]));
  });

  it('forgets the oldest tokens beyond its capacity (410 SyncStateNotFound afterwards)', () => {
    const states = new DeltaStates(2);
    const round = states.startRound({ mailbox: 'm', folderId: 'f', query, current: new Map(), order: [] });
    const first = states.saveSyncState(round);
    states.saveSyncState(round);
    states.saveSyncState(round);
    let status: number | undefined;
    try {
      states.syncState(first, 'm', 'f');
    } catch (error) {
      status = error instanceof GraphError ? error.status : undefined;
    }
    expect(status).toBe(410);
  });
});
