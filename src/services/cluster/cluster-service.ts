/**
 * Several nodes on one database (PostgreSQL): who this node is, the nodes that share the work,
 * and the mailbox leases that give each mailbox to exactly one node. The workers decide when
 * (workers/mailbox-workers.ts, workers/node-heartbeat.ts); this service decides how many and
 * which: a node holds at most its even share — ceil(active accounts / live worker nodes) — and at
 * most the configured cap, and gives back what is over its share when nodes join.
 */
import { PosternError } from '../../errors/index.js';
import {
  beatNodeHeartbeat,
  claimMailboxLeases,
  countActiveAccounts,
  deleteNode,
  deleteNodesSilentSince,
  ensureMailboxLeaseRows,
  holdsMailboxLease,
  listNodes,
  markNodeStopped,
  nodeIdsInRegistrationOrder,
  registerNode,
  releaseMailboxLeases,
  renewMailboxLeases,
  withdrawNodeRole,
  type Database,
  type NodeIdentity,
  type NodeRecord,
} from '../../store/index.js';

/** The role whose nodes share the mailboxes. */
export const MAILBOX_ROLE = 'mailboxSync';

/** Nodes silent this long are forgotten by the next node that starts. */
const FORGET_AFTER_MS = 7 * 24 * 3600 * 1000;

/** Whether a process of this host still runs (a pid of another user's process counts as running). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** How many leases' length a node must be silent before others send its unfinished submissions again. */
export const OUTBOX_TAKEOVER_SILENCE_LEASES = 3;

/** A node as the API and the CLI show it. */
export interface NodeView extends NodeRecord {
  /** `running`, `silent` (no heartbeat for a lease's length: dead, or cut off), or `stopped` (cleanly). */
  readonly state: 'running' | 'silent' | 'stopped';
  /** This process. */
  readonly self: boolean;
}

/** The outcome of a lease round: what this node holds now, and what it should give back. */
export interface LeaseRound {
  /** Account id → the fencing epoch of its lease. */
  readonly held: ReadonlyMap<number, number>;
  /** Held accounts over this node's share: stop their workers, then release them. */
  readonly surplus: readonly number[];
}

/** Settings of the leases. */
export interface LeaseSettings {
  /** How long a lease lasts without renewal (ms); also how long a node may be silent before it counts as gone. */
  readonly ttlMs: number;
  /** The most mailboxes this node holds; 0: its even share only. */
  readonly cap: number;
}

/** This node's place among the nodes. */
export class ClusterService {
  constructor(
    private readonly db: Database,
    /** Who this node is (its roles are filled in as they start). */
    private readonly identity: Omit<NodeIdentity, 'roles'>,
    private readonly settings: LeaseSettings,
  ) {}

  get nodeId(): string {
    return this.identity.id;
  }

  get leaseSettings(): LeaseSettings {
    return this.settings;
  }

  /**
   * Records this node as started with these roles, and forgets nodes silent for a week. On SQLite
   * the mailboxes have no leases: the worker role runs in one process only.
   * @throws PosternError STORE_SQLITE_IN_USE when another live process runs it there.
   */
  async register(roles: readonly string[]): Promise<void> {
    await registerNode(this.db, { ...this.identity, roles });
    if (roles.includes(MAILBOX_ROLE)) {
      if (this.db.engine === 'sqlite') await this.soleWorker();
      else await this.releaseDeadNeighbours();
    }
    await deleteNodesSilentSince(this.db, new Date(this.db.now().getTime() - FORGET_AFTER_MS));
  }

  /**
   * A node killed without a clean stop on this host (its pid gone: `kill -9`, a crash, the
   * machine's OOM killer) is recorded as stopped and its mailbox leases are let go, so that a
   * node started again in its place reads them at once instead of waiting a lease's length for
   * them to expire (its id is new at every start). Only this host's processes can be checked;
   * the others' leases expire as before. A pid reused by another process keeps the leases held
   * (the safe side); should a pid be gone while the node lives on (another container under the
   * same host name), the fencing epoch still keeps its writes out once a lease is taken.
   */
  private async releaseDeadNeighbours(): Promise<void> {
    for (const node of await this.listNodes()) {
      if (node.self || node.state === 'stopped' || node.host !== this.identity.host || processAlive(node.pid)) continue;
      await markNodeStopped(this.db, node.id);
      await releaseMailboxLeases(this.db, node.id);
    }
  }

  /**
   * Other Postern processes that may be using the database now: running (their heartbeat fresh)
   * and, on this host, with their pid alive. What must not run beside them (`postern vacuum` on
   * SQLite) asks this first.
   */
  async othersRunning(): Promise<NodeView[]> {
    return (await this.listNodes()).filter(
      (node) => !node.self && node.state === 'running' && (node.host !== this.identity.host || processAlive(node.pid)),
    );
  }

  /**
   * Of the live processes running the worker role on SQLite, the one registered first keeps it.
   * Each registers, then looks: of two starting at once the later registration gives way (the
   * earlier may not see it yet, the later always sees the earlier); a process killed without a
   * clean stop on this host (its pid gone) no longer counts.
   */
  private async soleWorker(): Promise<void> {
    const workers = new Map<string, NodeView>();
    for (const node of await this.listNodes()) {
      if (node.state !== 'running' || !node.roles.includes(MAILBOX_ROLE)) continue;
      if (!node.self && node.host === this.identity.host && !processAlive(node.pid)) {
        await markNodeStopped(this.db, node.id);
        continue;
      }
      workers.set(node.id, node);
    }
    const firstId = (await nodeIdsInRegistrationOrder(this.db)).find((id) => workers.has(id));
    const first = firstId === undefined ? undefined : workers.get(firstId);
    if (first === undefined || first.self) return;
    await deleteNode(this.db, this.identity.id);
    throw new PosternError('STORE_SQLITE_IN_USE', {
      message: `Another Postern process already runs the worker role on this SQLite database: pid ${first.pid} on ${first.host}, started ${first.startedAt}. Two would read the same mailboxes.`,
      details: { host: first.host, pid: first.pid, startedAt: first.startedAt, nodeId: first.id },
    });
  }

  /** Beats the heartbeat; registers again when the row was removed meanwhile. */
  async heartbeat(roles: readonly string[]): Promise<void> {
    if (!(await beatNodeHeartbeat(this.db, this.identity.id))) await registerNode(this.db, { ...this.identity, roles });
  }

  /**
   * The nodes whose unfinished outbox submissions another node may send again: those stopped, and
   * those silent for {@link OUTBOX_TAKEOVER_SILENCE_LEASES} leases' length. A node only a lease
   * late may be alive but stalled (a loaded machine, a long pause): its submission still
   * finishes, and taking it over at once sent replies twice on a loaded machine. Mailboxes are
   * taken over after one lease (their fencing keeps a stalled node's writes out); an SMTP
   * submission has no such fence, so it waits longer.
   */
  async outboxDeadNodeIds(): Promise<string[]> {
    const silentBefore = this.db.now().getTime() - OUTBOX_TAKEOVER_SILENCE_LEASES * this.settings.ttlMs;
    return (await this.listNodes())
      .filter(
        (node) =>
          !node.self &&
          (node.state === 'stopped' || (node.state === 'silent' && Date.parse(node.heartbeatAt) < silentBefore)),
      )
      .map((node) => node.id);
  }

  /** Records a clean stop. */
  async markStopped(): Promise<void> {
    await markNodeStopped(this.db, this.identity.id);
  }

  /** Every known node with its state. */
  async listNodes(): Promise<NodeView[]> {
    const silentBefore = this.db.now().getTime() - this.settings.ttlMs;
    return (await listNodes(this.db)).map((node) => ({
      ...node,
      state: node.stoppedAt !== null ? 'stopped' : Date.parse(node.heartbeatAt) < silentBefore ? 'silent' : 'running',
      self: node.id === this.identity.id,
    }));
  }

  /**
   * Renews this node's leases, claims free or expired ones up to its share, and names those over
   * its share. One round every third of a lease, and whenever the feed says the shares changed.
   */
  async leaseRound(): Promise<LeaseRound> {
    const now = this.db.now();
    const until = new Date(now.getTime() + this.settings.ttlMs);
    await ensureMailboxLeaseRows(this.db);
    const renewed = await renewMailboxLeases(this.db, this.identity.id, until);
    const share = await this.share(now);
    const claimed =
      renewed.length < share ? await claimMailboxLeases(this.db, this.identity.id, until, share - renewed.length) : [];
    const held = new Map([...renewed, ...claimed].map((lease) => [lease.accountId, lease.epoch]));
    const surplus = [...held.keys()].sort((a, b) => a - b).slice(share);
    return { held, surplus };
  }

  /**
   * Renews this node's leases and nothing else (no claims, no shares): what a node does on its own
   * timer, whatever else it is busy with. Returns the leases it still holds (account id → epoch).
   */
  async renewLeases(): Promise<Map<number, number>> {
    const until = new Date(this.db.now().getTime() + this.settings.ttlMs);
    const renewed = await renewMailboxLeases(this.db, this.identity.id, until);
    return new Map(renewed.map((lease) => [lease.accountId, lease.epoch]));
  }

  /**
   * This node takes no more mailboxes (its mailbox workers are stopping): recorded before its
   * leases are released, so that the other nodes' next round counts it out of the shares and
   * claims the released mailboxes at once, instead of after its stop is recorded.
   */
  async withdrawFromMailboxes(): Promise<void> {
    await withdrawNodeRole(this.db, this.identity.id, MAILBOX_ROLE);
  }

  /** Lets go of these leases (or all of this node's). */
  release(accountIds?: readonly number[]): Promise<number> {
    return releaseMailboxLeases(this.db, this.identity.id, accountIds);
  }

  /**
   * The check every write for the mailbox makes in its own transaction: this node still holds
   * the account's lease at `epoch`.
   * @throws PosternError MAILBOX_LEASE_LOST otherwise.
   */
  fence(accountId: number, epoch: number): (tx: Database) => Promise<void> {
    return async (tx) => {
      if (await holdsMailboxLease(tx, accountId, this.identity.id, epoch)) return;
      throw new PosternError('MAILBOX_LEASE_LOST', { details: { accountId, nodeId: this.identity.id, epoch } });
    };
  }

  /** This node's share: ceil(active accounts / live mailbox nodes), within the cap. */
  private async share(now: Date): Promise<number> {
    const silentBefore = now.getTime() - this.settings.ttlMs;
    const live = (await listNodes(this.db)).filter(
      (node) =>
        node.id === this.identity.id ||
        (node.stoppedAt === null && node.roles.includes(MAILBOX_ROLE) && Date.parse(node.heartbeatAt) >= silentBefore),
    ).length;
    const fair = Math.ceil((await countActiveAccounts(this.db)) / Math.max(1, live));
    return this.settings.cap > 0 ? Math.min(this.settings.cap, fair) : fair;
  }
}
