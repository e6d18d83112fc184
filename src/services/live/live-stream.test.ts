import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ClusterChange } from '../cluster/change-feed.js';
import { LiveStream, type LiveFrame } from './live-stream.js';

/** A change feed held in the hand. */
function feed(): { subscribe: LiveStreamFeed['subscribe']; emit: (change: ClusterChange) => void } {
  const events = new EventEmitter<{ change: [ClusterChange, boolean] }>();
  return {
    subscribe: (listener) => {
      events.on('change', listener);
      return () => events.off('change', listener);
    },
    emit: (change) => events.emit('change', change, true),
  };
}
type LiveStreamFeed = ConstructorParameters<typeof LiveStream>[0];

const message = (id: number, accountId = 1): ClusterChange => ({ kind: 'message', id, accountId, interactionId: 10 });
const admin = { userId: 1, role: 'admin' } as const;
const agent = { userId: 2, role: 'agent' } as const;

function setUp(capacity = 3, agentAccounts: number[] = [1]) {
  const changes = feed();
  const visible = { current: agentAccounts };
  const live = new LiveStream(changes, {
    capacity,
    bootId: 'boot',
    visibleAccountIds: async () => visible.current,
  });
  return { changes, live, visible };
}

const ids = (frames: readonly LiveFrame[]): string[] => frames.map((frame) => `${frame.id}:${frame.event.kind}`);

describe('LiveStream', () => {
  it('numbers events, and replays those after a known id', async () => {
    const { changes, live } = setUp();
    for (const id of [1, 2, 3]) changes.emit(message(id));
    const resumed = await live.subscribe(admin, 'boot-1', () => undefined);
    expect(ids(resumed.replay)).toEqual(['boot-2:message', 'boot-3:message']);
    expect(ids((await live.subscribe(admin, 'boot-3', () => undefined)).replay)).toEqual([]);
  });

  it('sends resync for an id older than the buffer, of another run, from the future, or malformed', async () => {
    const { changes, live } = setUp(3);
    for (const id of [1, 2, 3, 4, 5]) changes.emit(message(id));
    expect(ids((await live.subscribe(admin, 'boot-2', () => undefined)).replay)).toEqual([
      'boot-3:message',
      'boot-4:message',
      'boot-5:message',
    ]);
    for (const stale of ['boot-1', 'other-4', 'boot-9', 'boot-', 'boot-1e3', '', 'boot--1'])
      expect(ids((await live.subscribe(admin, stale, () => undefined)).replay), stale).toEqual(['boot-5:resync']);
  });

  it('gives an agent only the events of their accounts, live and in the replay', async () => {
    const { changes, live } = setUp(10, [1]);
    changes.emit(message(1, 2));
    changes.emit(message(2, 1));
    const got: LiveFrame[] = [];
    const subscription = await live.subscribe(agent, 'boot-0', (frame) => got.push(frame));
    expect(ids(subscription.replay)).toEqual(['boot-2:message']);
    changes.emit(message(3, 2));
    changes.emit(message(4, 1));
    expect(ids(got)).toEqual(['boot-4:message']);
    subscription.close();
    changes.emit(message(5, 1));
    expect(got).toHaveLength(1);
  });

  it('tells an agent to resync when their accounts change, and follows the new ones', async () => {
    const { changes, live, visible } = setUp(10, [1]);
    const got: LiveFrame[] = [];
    await live.subscribe(agent, undefined, (frame) => got.push(frame));
    visible.current = [1, 2];
    changes.emit({ kind: 'account', id: 2, op: 'changed' });
    await new Promise((resolve) => setImmediate(resolve));
    changes.emit(message(7, 2));
    expect(got.map((frame) => frame.event.kind)).toEqual(['resync', 'message']);
  });

  it('after the feed lost notes, tells everyone to resync, and resyncs an earlier id too', async () => {
    const { changes, live } = setUp(10);
    changes.emit(message(1));
    const got: LiveFrame[] = [];
    await live.subscribe(admin, undefined, (frame) => got.push(frame));
    changes.emit({ kind: 'resync' });
    expect(ids(got)).toEqual(['boot-2:resync']);
    expect(ids((await live.subscribe(admin, 'boot-1', () => undefined)).replay)).toEqual(['boot-2:resync']);
    expect(ids((await live.subscribe(admin, 'boot-2', () => undefined)).replay)).toEqual([]);
  });

  it('passes over changes that are not for the console', async () => {
    const { changes, live } = setUp();
    const got: LiveFrame[] = [];
    await live.subscribe(admin, undefined, (frame) => got.push(frame));
    changes.emit({ kind: 'leases' });
    changes.emit({ kind: 'grant', providerId: 1 });
    expect(got).toEqual([]);
  });
});
