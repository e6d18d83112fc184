import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PosternError } from '../../../errors/index.js';
import type { Services } from '../../../services/index.js';
import type { ApiTokenRecord } from '../../../store/index.js';
import { principalOf } from '../../plugins/auth.js';
import { idParam } from '../../schemas.js';

const tokenReply = z.object({
  id: z.number().int(),
  name: z.string(),
  userId: z.number().int(),
  prefix: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

function presentToken(token: ApiTokenRecord): z.infer<typeof tokenReply> {
  return {
    id: token.id,
    name: token.name,
    userId: token.userId,
    prefix: token.prefix,
    createdAt: token.createdAt,
    lastUsedAt: token.lastUsedAt,
    revokedAt: token.revokedAt,
  };
}

/** API tokens for integrators. The token itself is shown once, at creation. */
export async function tokenRoutes(app: FastifyInstance, deps: { services: Services }): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { tokens } = deps.services;

  routes.get(
    '/api/tokens',
    {
      config: { access: 'user' },
      schema: {
        tags: ['tokens'],
        summary: "List API tokens: your own, or everyone's for an administrator",
        response: { 200: z.object({ items: z.array(tokenReply) }) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const list = principal.role === 'admin' ? await tokens.listAll() : await tokens.listFor(principal.userId);
      return { items: list.map(presentToken) };
    },
  );

  routes.post(
    '/api/tokens',
    {
      config: { access: 'user' },
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token (for yourself; an administrator may name another user)',
        body: z.object({
          name: z.string().trim().min(1, 'is required').max(100),
          userId: z.number().int().positive().optional(),
        }),
        response: { 201: tokenReply.extend({ token: z.string() }) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const ownerId = request.body.userId ?? principal.userId;
      if (ownerId !== principal.userId && principal.role !== 'admin') {
        throw new PosternError('AUTH_FORBIDDEN', { message: 'Only administrators create tokens for other users.' });
      }
      const created = await tokens.create(ownerId, request.body.name);
      return reply.status(201).send({ ...presentToken(created.record), token: created.token });
    },
  );

  routes.delete(
    '/api/tokens/:id',
    {
      config: { access: 'user' },
      schema: { tags: ['tokens'], summary: 'Revoke an API token', params: idParam, response: { 204: z.null() } },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await tokens.revoke(request.params.id, principal.role === 'admin' ? undefined : principal.userId);
      return reply.status(204).send(null);
    },
  );
}
