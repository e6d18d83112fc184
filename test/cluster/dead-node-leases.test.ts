/**
 * A node killed without a clean stop leaves its mailbox leases behind until they expire. A node
 * started on the same host sees that the killed node's pid is gone and lets its leases go at once
 * (recorded as stopped), so that a restart reads the mailboxes without waiting a lease's length.
 * A live pid, or a node on another host, keeps its leases.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterService, MAILBOX_ROLE } from '../../src/services/cluster/cluster-service.js';
import { listMailboxLeases, openDatabase, SecretBox, type Database } from '../../src/store/index.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import { insertAccount } from '../helpers/store-factories.js';
import { createPostgresDatabase, type Target } from '../helpers/store.js';

let target: Target;
let db: Database;
const box = new SecretBox(crypto.randomBytes(32));
// Leases long enough that nothing in this test expires by itself.
const settings = { ttlMs: 600_000, cap: 0 };

function node(id: string, host: string, pid: number): ClusterService {
  return new ClusterService(db, { id, version: 'test', host, pid }, settings);
}

/** The pid of a process that has ended (and been reaped). */
function deadPid(): number {
  const ended = spawnSync(process.execPath, ['-e', '0']);
  if (ended.pid === undefined) throw new Error('could not start a process');
  return ended.pid;
}

beforeAll(async () => {
  target = await createPostgresDatabase();
  db = await openDatabase(target.url);
  await migrateToLatest(db);
});
afterAll(async () => {
  await db?.close();
  await target?.remove();
});

async function holders(): Promise<Array<string | null>> {
  return (await listMailboxLeases(db)).map((lease) => lease.nodeId);
}

describe('leases of a node killed on this host', () => {
  it('are let go when a node starts on the same host, and kept for a live pid or another host', async () => {
    for (let i = 0; i < 6; i += 1) await insertAccount(db, box, { password: 'pw' });
    const host = 'postern-host-1';

    // Three nodes hold two mailboxes each: one on this host that will be killed, one live on this
    // host, one on another host (whose pid cannot be checked from here).
    const live = node('live', host, process.pid);
    const elsewhere = node('elsewhere', 'postern-host-2', deadPid());
    const killed = node('killed', host, deadPid());
    await live.register([MAILBOX_ROLE]);
    await elsewhere.register([MAILBOX_ROLE]);
    await killed.register([MAILBOX_ROLE]);
    for (const holder of [killed, live, elsewhere]) expect((await holder.leaseRound()).held.size).toBe(2);
    expect((await holders()).sort()).toEqual(['elsewhere', 'elsewhere', 'killed', 'killed', 'live', 'live']);

    // The node started again in the killed one's place.
    const restarted = node('restarted', host, process.pid);
    await restarted.register([MAILBOX_ROLE]);
    expect((await holders()).sort()).toEqual(['elsewhere', 'elsewhere', 'live', 'live', null, null]);
    const states = new Map((await restarted.listNodes()).map((view) => [view.id, view.state]));
    expect(states.get('killed')).toBe('stopped');
    expect(states.get('elsewhere')).toBe('running');
    expect(states.get('live')).toBe('running');

    // Its first round takes both mailboxes at once: the killed node is out of the shares.
    expect((await restarted.leaseRound()).held.size).toBe(2);
    expect((await holders()).sort()).toEqual(['elsewhere', 'elsewhere', 'live', 'live', 'restarted', 'restarted']);
  });
});
