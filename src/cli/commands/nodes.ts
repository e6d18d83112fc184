import type { Command } from 'commander';
import type { NodeView } from '../../services/cluster/cluster-service.js';
import { withRuntime } from '../with-runtime.js';

/** One line per node: id, state, roles, version, start, last heartbeat, mailboxes held. */
export function describeNode(node: NodeView): string {
  const state = node.state === 'running' ? 'running' : node.state === 'silent' ? 'SILENT' : 'stopped';
  return `${node.id}  ${state}  roles ${node.roles.join(',')}  v${node.version}  ${node.host} pid ${node.pid}  started ${node.startedAt}  last heartbeat ${node.heartbeatAt}  mailboxes ${node.mailboxesHeld}`;
}

/** `postern nodes`: the nodes sharing this database, as `GET /api/system/nodes` shows them. */
export function registerNodesCommand(program: Command): void {
  program
    .command('nodes')
    .description('List the nodes on this database: roles, version, started, last heartbeat, mailboxes held')
    .action(() =>
      withRuntime(async (runtime) => {
        const nodes = await runtime.services.cluster.listNodes();
        if (nodes.length === 0) process.stdout.write('No node has started on this database yet.\n');
        for (const node of nodes) process.stdout.write(`${describeNode(node)}\n`);
        const silent = nodes.filter((node) => node.state === 'silent').length;
        if (silent > 0)
          process.stdout.write(
            `${silent} node(s) silent: no heartbeat for ${runtime.config.mailboxLeaseSeconds} s (stopped without a clean shutdown, or cut off from the database); their mailboxes go to the others.\n`,
          );
      }),
    );
}
