/**
 * Issue 17, points 1 and 2, on the real PostgreSQL: mailbox leases shared by two nodes (claims,
 * even shares, release, takeover of an expired lease), the fencing epoch — a node whose lease was
 * taken commits nothing more for the mailbox, and a commit under way holds the takeover back
 * until it ends — and the change feed carrying a note from one node to the other.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeFeed, type ClusterChange } from '../../src/services/cluster/change-feed.js';
import { ClusterService, MAILBOX_ROLE } from '../../src/services/cluster/cluster-service.js';
import { createSyncStore } from '../../src/services/inbound/mailbox-sync-store.js';
import {
  advanceCheckpoint,
  expireMailboxLease,
  getCheckpoint,
  getEmailAccount,
  listMailboxLeases,
  openDatabase,
  SecretBox,
  type Database,
} from '../../src/store/index.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import { createLogger } from '../../src/log/index.js';
import { insertAccount } from '../helpers/store-factories.js';
import { createPostgresDatabase, type Target } from '../helpers/store.js';
import { until } from '../helpers/until.js';

let target: Target;
let db: Database;
const box = new SecretBox(crypto.randomBytes(32));
const settings = { ttlMs: 60_000, cap: 0 };

function node(id: string): ClusterService {
  return new ClusterService(db, { id, version: 'test', host: 'localhost', pid: process.pid }, settings);
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

/** The node holding each account, by account id. */
async function holders(): Promise<Map<number, string | null>> {
  return new Map((await listMailboxLeases(db)).map((lease) => [lease.accountId, lease.nodeId]));
}

describe('mailbox leases on PostgreSQL', () => {
  let accounts: number[];
  const a = (): ClusterService => node('node-a');
  const b = (): ClusterService => node('node-b');

  it('gives each node at most its even share, and the rest once the other node is gone', async () => {
    accounts = [];
    for (let i = 0; i < 5; i += 1) accounts.push(await insertAccount(db, box, { password: 'pw' }));
    await a().register([MAILBOX_ROLE]);
    // Alone, A takes everything.
    expect([...(await a().leaseRound()).held.keys()]).toEqual(accounts);
    await b().register([MAILBOX_ROLE]);
    // B's share is ceil(5 / 2) = 3, but every lease is held: B gets nothing yet, A is told to give back 2.
    expect((await b().leaseRound()).held.size).toBe(0);
    const roundA = await a().leaseRound();
    expect(roundA.surplus).toHaveLength(2);
    await a().release(roundA.surplus);
    const roundB = await b().leaseRound();
    expect([...roundB.held.keys()].sort((x, y) => x - y)).toEqual([...roundA.surplus]);
    const byNode = [...(await holders()).values()];
    expect(byNode.filter((id) => id === 'node-a')).toHaveLength(3);
    expect(byNode.filter((id) => id === 'node-b')).toHaveLength(2);
    // Every claim raised the epoch: the two moved accounts are at epoch 2.
    for (const [id, epoch] of roundB.held) expect({ id, epoch }).toEqual({ id, epoch: 2 });

    // A stops cleanly: releases everything; B's share is now all five and it takes them.
    await a().release();
    await a().markStopped();
    const after = await b().leaseRound();
    expect([...after.held.keys()].sort((x, y) => x - y)).toEqual(accounts);
    expect([...(await holders()).values()].every((id) => id === 'node-b')).toBe(true);
    const nodes = await b().listNodes();
    expect(nodes.find((n) => n.id === 'node-a')).toMatchObject({ state: 'stopped', mailboxesHeld: 0 });
    expect(nodes.find((n) => n.id === 'node-b')).toMatchObject({ state: 'running', mailboxesHeld: 5, self: true });
  });

  it('honours the per-node cap', async () => {
    const capped = new ClusterService(
      db,
      { id: 'node-c', version: 'test', host: 'localhost', pid: 1 },
      { ...settings, cap: 1 },
    );
    await capped.register([MAILBOX_ROLE]);
    await b().release();
    expect((await capped.leaseRound()).held.size).toBe(1);
    await capped.release();
    await capped.markStopped();
  });

  it('fences: a node whose lease was taken stores nothing, and a commit under way holds the takeover back', async () => {
    await a().register([MAILBOX_ROLE]);
    await b().release();
    await b().markStopped();
    const accountId = accounts[0] ?? 0;
    const held = (await a().leaseRound()).held;
    const epochA = held.get(accountId);
    if (epochA === undefined) throw new Error('A holds no lease on the first account');
    const account = await getEmailAccount(db, accountId);
    if (account === undefined) throw new Error('no account');
    const storeA = createSyncStore(db, account, { fence: a().fence(accountId, epochA) });
    await storeA.resetCheckpoint('INBOX', 7, 0);
    await storeA.advanceCheckpoint('INBOX', 7, 10);

    // A goes silent (its lease expires) and its next commit is delayed; B comes and tries to take over.
    await expireMailboxLease(db, accountId);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const slowCommit = db.transaction(async (tx) => {
      await a().fence(accountId, epochA)(tx);
      await advanceCheckpoint(tx, accountId, 'INBOX', 7, 11);
      entered();
      await gate;
    });
    await inside;
    await b().register([MAILBOX_ROLE]);
    // The lease row is locked by A's transaction: B skips it instead of taking it under A's commit.
    expect((await b().leaseRound()).held.has(accountId)).toBe(false);
    release();
    await slowCommit;
    expect((await getCheckpoint(db, accountId, 'INBOX'))?.lastUid).toBe(11);

    // Now B takes it, with a higher epoch, and A's late writes are refused and change nothing.
    const taken = (await b().leaseRound()).held.get(accountId);
    expect(taken).toBe(epochA + 1);
    await expect(storeA.advanceCheckpoint('INBOX', 7, 20)).rejects.toMatchObject({ code: 'MAILBOX_LEASE_LOST' });
    const raw = Buffer.from(
      'From: carla@customer.example\r\nTo: support@contoso.example\r\nSubject: Late\r\nMessage-ID: <late@customer.example>\r\n\r\nLate write.\r\n',
    );
    await expect(storeA.ingest({ folder: 'INBOX', uidvalidity: 7, uid: 21, raw, isJunk: false })).rejects.toMatchObject(
      { code: 'MAILBOX_LEASE_LOST' },
    );
    expect((await getCheckpoint(db, accountId, 'INBOX'))?.lastUid).toBe(11);
    const stored = await db.kysely.selectFrom('messages').select('id').where('account_id', '=', accountId).execute();
    expect(stored).toHaveLength(0);

    // B, the holder, writes.
    const storeB = createSyncStore(db, account, { fence: b().fence(accountId, taken ?? 0) });
    await storeB.advanceCheckpoint('INBOX', 7, 12);
    expect((await getCheckpoint(db, accountId, 'INBOX'))?.lastUid).toBe(12);
  });
});

describe('the change feed', () => {
  it("carries one node's change to the other, and not back to its sender twice", async () => {
    const log = createLogger({ level: 'silent', console: false });
    const feedA = new ChangeFeed(db, 'feed-a', log.logger, { listenUrl: target.url });
    const feedB = new ChangeFeed(db, 'feed-b', log.logger, { listenUrl: target.url });
    await feedA.start();
    await feedB.start();
    const seenByA: Array<[ClusterChange, boolean]> = [];
    const seenByB: Array<[ClusterChange, boolean]> = [];
    feedA.subscribe((change, local) => seenByA.push([change, local]));
    feedB.subscribe((change, local) => seenByB.push([change, local]));
    try {
      feedA.publish({ kind: 'account', id: 42, op: 'changed' });
      await until('the note on B', () => (seenByB.length > 0 ? true : undefined), 5000);
      expect(seenByB).toEqual([[{ kind: 'account', id: 42, op: 'changed' }, false]]);
      // B answers, so that A's own note has had every chance to come back to A.
      feedB.publish({ kind: 'provider', id: 7 });
      await until('the answer on A', () => (seenByA.length > 1 ? true : undefined), 5000);
      expect(seenByA).toEqual([
        [{ kind: 'account', id: 42, op: 'changed' }, true],
        [{ kind: 'provider', id: 7 }, false],
      ]);
    } finally {
      await feedA.stop();
      await feedB.stop();
      log.close();
    }
  });
});
