import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { NodeView } from '../../../services/cluster/cluster-service.js';
import type { Services } from '../../../services/index.js';

const nodeReply = z.object({
  id: z.string(),
  roles: z.array(z.string()),
  version: z.string(),
  host: z.string(),
  pid: z.number(),
  startedAt: z.string(),
  lastHeartbeatAt: z.string(),
  stoppedAt: z.string().nullable(),
  state: z.enum(['running', 'silent', 'stopped']),
  mailboxesHeld: z.number(),
  self: z.boolean(),
});
const nodesReply = z.object({ items: z.array(nodeReply) });

/** A node, field by field (an allowlist). */
export function presentNode(node: NodeView): z.infer<typeof nodeReply> {
  return {
    id: node.id,
    roles: [...node.roles],
    version: node.version,
    host: node.host,
    pid: node.pid,
    startedAt: node.startedAt,
    lastHeartbeatAt: node.heartbeatAt,
    stoppedAt: node.stoppedAt,
    state: node.state,
    mailboxesHeld: node.mailboxesHeld,
    self: node.self,
  };
}

/**
 * `GET /api/system/nodes` (admin): the nodes on this database — roles, version, start, last
 * heartbeat, mailboxes held — with those gone silent (no heartbeat for a lease's length) shown so.
 */
export async function nodeRoutes(app: FastifyInstance, deps: { services: Services }): Promise<void> {
  app
    .withTypeProvider<ZodTypeProvider>()
    .get(
      '/api/system/nodes',
      { schema: { tags: ['system'], summary: 'The nodes sharing this database', response: { 200: nodesReply } } },
      async () => ({ items: (await deps.services.cluster.listNodes()).map(presentNode) }),
    );
}
