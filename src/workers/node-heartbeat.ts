import { isPosternError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { ChangeFeed } from '../services/cluster/change-feed.js';
import type { ClusterService } from '../services/cluster/cluster-service.js';

/** Options of {@link NodeHeartbeat}. */
export interface NodeHeartbeatOptions {
  /** Every how often the heartbeat beats (ms). Default a third of a mailbox lease. */
  readonly intervalMs?: number;
}

/**
 * This node on the database, for every role: registers it (id, roles, version) with the nodes'
 * change feed listening, beats its heartbeat, and on a clean stop records the stop and tells the
 * other nodes, whose shares of the mailboxes change with it.
 */
export class NodeHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private roles: string[] = [];
  /** Roles added while the database did not answer: the next beat registers them. */
  private rolesPending = false;
  private beating: Promise<void> = Promise.resolve();

  constructor(
    private readonly cluster: ClusterService,
    private readonly feed: ChangeFeed,
    private readonly logger: Logger,
    private readonly options: NodeHeartbeatOptions = {},
  ) {}

  /**
   * Registers the node with these roles and starts beating. A later call adds roles: should the
   * database not answer then, the role still starts and the next beat records the roles; a refusal
   * (STORE_SQLITE_IN_USE) fails the call.
   */
  async start(roles: readonly string[]): Promise<void> {
    const before = this.roles;
    this.roles = [...new Set([...this.roles, ...roles])];
    if (this.timer === undefined) {
      await this.feed.start();
      try {
        await this.register();
      } catch (error) {
        await this.feed.stop();
        throw error;
      }
      const every = this.options.intervalMs ?? Math.floor(this.cluster.leaseSettings.ttlMs / 3);
      this.timer = setInterval(() => {
        this.beating = (this.rolesPending ? this.register() : this.cluster.heartbeat(this.roles)).catch(
          (error: unknown) => this.logger.warn({ err: error }, 'the node heartbeat could not be recorded'),
        );
      }, every);
      this.timer.unref();
      return;
    }
    this.rolesPending = true;
    try {
      await this.register();
    } catch (error) {
      if (isPosternError(error, 'STORE_SQLITE_IN_USE')) {
        // Refused, not unreachable: the role must not start; the next beat records the old roles.
        this.roles = before;
        throw error;
      }
      this.logger.warn(
        { err: error },
        "the node's new roles could not be recorded yet; the next heartbeat records them",
      );
    }
  }

  private async register(): Promise<void> {
    await this.cluster.register(this.roles);
    this.rolesPending = false;
    this.feed.publish({ kind: 'node', id: this.cluster.nodeId });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    try {
      await this.cluster.markStopped();
      this.feed.publish({ kind: 'node', id: this.cluster.nodeId });
    } catch (error) {
      this.logger.warn({ err: error }, 'the node stop could not be recorded');
    }
    await this.feed.stop();
  }
}
