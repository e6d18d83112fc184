import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PosternError } from '../../../errors/index.js';
import type { StoreFailure } from '../../../store/index.js';

export interface SystemRouteDeps {
  /** Resolves when the database answers; throws otherwise. */
  ping(): Promise<void>;
  /** The storage failure writes met lately (a full disk, a read-only file), if any. */
  storeFailure?(): StoreFailure | undefined;
  version: string;
}

const healthReply = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  store: z.object({ code: z.string(), message: z.string(), remedy: z.string().nullable() }).optional(),
});
const readyReply = z.object({ status: z.literal('ok'), version: z.string() });

/**
 * Liveness, readiness and the OpenAPI document. `/health` answers 200 as long as the process
 * serves — a process that cannot write must not be restarted in a loop by its supervisor — and
 * says `degraded`, with the store's error and remedy, while the database does not answer or its
 * writes fail (a full disk, a read-only file system, PostgreSQL restarting).
 */
export async function systemRoutes(app: FastifyInstance, deps: SystemRouteDeps): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.get(
    '/health',
    {
      config: { access: 'public' },
      schema: { tags: ['system'], summary: 'Liveness, and whether the store works', response: { 200: healthReply } },
    },
    async () => {
      let failure: { code: string; message: string; remedy: string | null } | undefined;
      try {
        await deps.ping();
        failure = deps.storeFailure?.();
      } catch {
        // The catalogue's words only: the driver's message names the database's host, and this route is public.
        const unavailable = new PosternError('STORE_UNAVAILABLE');
        failure = { code: unavailable.code, message: unavailable.message, remedy: unavailable.remedy ?? null };
      }
      if (failure === undefined) return { status: 'ok' as const, version: deps.version };
      return {
        status: 'degraded' as const,
        version: deps.version,
        store: { code: failure.code, message: failure.message, remedy: failure.remedy },
      };
    },
  );
  routes.get(
    '/ready',
    {
      config: { access: 'public' },
      schema: { tags: ['system'], summary: 'Readiness: the database is reachable', response: { 200: readyReply } },
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
