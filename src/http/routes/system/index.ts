import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PosternError } from '../../../errors/index.js';

export interface SystemRouteDeps {
  /** Resolves when the database answers; throws otherwise. */
  ping(): Promise<void>;
  version: string;
}

const healthReply = z.object({ status: z.literal('ok'), version: z.string() });

/** Liveness, readiness and the OpenAPI document. */
export async function systemRoutes(app: FastifyInstance, deps: SystemRouteDeps): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.get(
    '/health',
    { config: { access: 'public' }, schema: { tags: ['system'], summary: 'Liveness', response: { 200: healthReply } } },
    async () => ({ status: 'ok' as const, version: deps.version }),
  );
  routes.get(
    '/ready',
    {
      config: { access: 'public' },
      schema: { tags: ['system'], summary: 'Readiness: the database is reachable', response: { 200: healthReply } },
    },
    async () => {
      try {
        await deps.ping();
      } catch (error) {
        throw new PosternError('STORE_UNAVAILABLE', { cause: error });
      }
      return { status: 'ok' as const, version: deps.version };
    },
  );
  routes.get('/api/docs', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
}
