/**
 * A node renews its mailbox leases on its own timer, whatever its queue of account changes is
 * busy with. Seen with 1,000 mailboxes per node on a loaded machine: the renewal waited in the
 * queue behind mailbox starts, the node took itself for cut off from the database, stopped every
 * mailbox, restarted them — and fell behind again, over and over.
 *
 * The workers run against stand-ins of the cluster service and of the mailbox sync service (the
 * modules below the one under test); the lease's length is shortened to 600 ms.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterChange } from '../../src/services/cluster/change-feed.js';
import type { ClusterService, LeaseRound } from '../../src/services/cluster/cluster-service.js';
import type {
  EmailAccountRecord,
  MailboxSyncService,
  MailboxSyncSession,
} from '../../src/services/accounts/mailbox-sync-service.js';
import { MailboxWorkers } from '../../src/workers/mailbox-workers.js';
import { until } from '../helpers/until.js';

const TTL_MS = 600;

function account(id: number): EmailAccountRecord {
  return {
    id,
    key: `A${id}`,
    active: true,
    providerId: 1,
    effective: { inbound: { via: null } },
  } as unknown as EmailAccountRecord;
}

/** The accounts, their sessions, and (once `slow.on`) a reconcile of account 2 that takes `slowMs`. */
function mailboxes(slowMs: number) {
  const stops: number[] = [];
  const starts: number[] = [];
  const slow = { on: false };
  const service = {
    changes: { on: () => undefined, off: () => undefined },
    listAccounts: async () => [account(1), account(2)],
    findAccount: async (id: number) => {
      if (id === 2 && slow.on) await new Promise((resolve) => setTimeout(resolve, slowMs));
      return account(id);
    },
    markDisabled: async () => undefined,
    recordStatus: async () => undefined,
    recordOversize: async () => undefined,
    recordWithheld: async () => undefined,
    recordStartFailure: async () => undefined,
    openSync: async (record: EmailAccountRecord): Promise<MailboxSyncSession> => ({
      start: () => void starts.push(record.id),
      stop: async () => void stops.push(record.id),
    }),
  };
  return { service: service as unknown as MailboxSyncService, stops, starts, slow };
}

/** A cluster in which this node holds account 1's lease (epoch 1) for as long as `holds` says. */
function cluster(state: { holds: boolean; renewals: number }) {
  const held = (): Map<number, number> => new Map(state.holds ? [[1, 1]] : []);
  return {
    leaseSettings: { ttlMs: TTL_MS, cap: 0 },
    leaseRound: async (): Promise<LeaseRound> => ({ held: held(), surplus: [] }),
    renewLeases: async () => {
      state.renewals += 1;
      return held();
    },
    release: async () => 0,
    withdrawFromMailboxes: async () => undefined,
    fence: () => async () => undefined,
  } as unknown as Pick<
    ClusterService,
    'leaseRound' | 'renewLeases' | 'release' | 'fence' | 'leaseSettings' | 'withdrawFromMailboxes'
  >;
}

let running: MailboxWorkers | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** Starts the workers with these leases; `tell` delivers a change as the nodes' feed would. */
async function startWorkers(
  service: MailboxSyncService,
  leases: Pick<
    ClusterService,
    'leaseRound' | 'renewLeases' | 'release' | 'fence' | 'leaseSettings' | 'withdrawFromMailboxes'
  >,
): Promise<{ workers: MailboxWorkers; tell: (change: ClusterChange) => void }> {
  let listener: ((change: ClusterChange, local: boolean) => void) | undefined;
  const workers = new MailboxWorkers(service, pino({ level: 'silent' }), {
    leases,
    feed: {
      subscribe: (fn: (change: ClusterChange, local: boolean) => void) => {
        listener = fn;
        return () => undefined;
      },
      publish: () => undefined,
    },
    reconcileIntervalMs: 3_600_000,
  });
  running = workers;
  await workers.start();
  return { workers, tell: (change) => listener?.(change, false) };
}

describe('mailbox lease renewal', () => {
  it('goes on while the queue is busy for longer than a lease: no mailbox is stopped', async () => {
    const { service, stops, starts, slow } = mailboxes(4 * TTL_MS);
    const state = { holds: true, renewals: 0 };
    const { workers, tell } = await startWorkers(service, cluster(state));
    expect(starts).toEqual([1]);
    // A change that makes the queue look at every account; account 2 takes four leases' time.
    slow.on = true;
    tell({ kind: 'resync' });
    const renewalsBefore = state.renewals;
    await new Promise((resolve) => setTimeout(resolve, 3 * TTL_MS));
    expect(state.renewals).toBeGreaterThan(renewalsBefore);
    expect(stops).toEqual([]);
    expect(workers.running()).toEqual([1]);
  });

  it('stops a mailbox at once when its lease turns out lost, without waiting for the queue', async () => {
    const { service, stops, slow } = mailboxes(8 * TTL_MS);
    const state = { holds: true, renewals: 0 };
    const { workers, tell } = await startWorkers(service, cluster(state));
    slow.on = true;
    tell({ kind: 'resync' });
    // Another node took the mailbox (this node was slow); the queue is stuck on account 2.
    state.holds = false;
    await until('the mailbox whose lease was lost stopped', () => (stops.includes(1) ? true : undefined), 10 * TTL_MS);
    expect(workers.running()).toEqual([]);
  });

  it('stops its mailboxes before the lease can expire once the database stops answering, whenever it last answered', async () => {
    const ttlMs = 6000;
    const { service, stops } = mailboxes(0);
    // Renewals and rounds answer until `cut`; then they never answer (the database is unreachable).
    const link = { cut: false, lastAnsweredSentAt: 0, waiting: [] as Array<() => void> };
    const answer = <T>(value: () => T): Promise<T> => {
      if (link.cut)
        return new Promise<T>((_, reject) => link.waiting.push(() => reject(new Error('the database is unreachable'))));
      link.lastAnsweredSentAt = performance.now();
      return Promise.resolve(value());
    };
    const held = (): Map<number, number> => new Map([[1, 1]]);
    const leases = {
      leaseSettings: { ttlMs, cap: 0 },
      leaseRound: () => answer((): LeaseRound => ({ held: held(), surplus: [] })),
      renewLeases: () => answer(held),
      release: async () => 0,
      withdrawFromMailboxes: async () => undefined,
      fence: () => async () => undefined,
    } as unknown as Pick<
      ClusterService,
      'leaseRound' | 'renewLeases' | 'release' | 'fence' | 'leaseSettings' | 'withdrawFromMailboxes'
    >;
    const { tell } = await startWorkers(service, leases);
    // Halfway between two renewals (every 2 s), a lease round answers; then the database is gone.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    tell({ kind: 'leases' });
    await until(
      'the lease round answered',
      () => (performance.now() - link.lastAnsweredSentAt < 200 ? true : undefined),
      2000,
    );
    link.cut = true;
    try {
      await until('the mailbox stopped', () => (stops.includes(1) ? true : undefined), ttlMs);
      const stoppedAfter = performance.now() - link.lastAnsweredSentAt;
      // Two thirds of a lease (4 s) plus one check (0.3 s) at most; checked only with each renewal,
      // it had been 5 s here, a second before another node may claim the mailbox.
      expect(stoppedAfter).toBeGreaterThanOrEqual((ttlMs * 2) / 3);
      expect(stoppedAfter).toBeLessThan(ttlMs * 0.8);
    } finally {
      // The calls still waiting fail at last (as a query timeout would), so that the node can stop.
      link.cut = false;
      for (const fail of link.waiting) fail();
    }
  }, 20_000);

  it('runs a lease round asked for while what the workers reported is still being recorded', async () => {
    // Seen in bench:cluster: a node that had just started 500 mailboxes had 1,665 status records
    // to write, and a lease round asked for behind them (another node stopping) waited 9 s.
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const recorded: string[] = [];
    const service = {
      ...(mailboxes(0).service as object),
      recordStatus: async (_account: EmailAccountRecord, change: { status: string }) => {
        await gate;
        recorded.push(change.status);
      },
      openSync: async (_record: EmailAccountRecord, options: { onStatus: (change: { status: string }) => void }) => ({
        start: () => {
          for (let i = 0; i < 50; i += 1) options.onStatus({ status: 'connecting' });
        },
        stop: async () => undefined,
      }),
    } as unknown as MailboxSyncService;
    const state = { holds: true, renewals: 0 };
    let rounds = 0;
    const leases = {
      ...cluster(state),
      leaseRound: async (): Promise<LeaseRound> => {
        rounds += 1;
        return { held: new Map([[1, 1]]), surplus: [] };
      },
    } as unknown as Parameters<typeof startWorkers>[1];
    try {
      const { tell } = await startWorkers(service, leases);
      const before = rounds;
      tell({ kind: 'leases' });
      await until('the lease round ran', () => (rounds > before ? true : undefined), 5_000);
      expect(recorded).toEqual([]);
    } finally {
      release();
    }
    await until('the reports recorded, in order', () => (recorded.length === 50 ? true : undefined), 5_000);
  });
});
