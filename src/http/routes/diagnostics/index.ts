import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PosternError } from '../../../errors/index.js';
import type { Services } from '../../../services/index.js';

const checkReply = z.object({
  id: z.string(),
  title: z.string(),
  result: z.enum(['ok', 'warning', 'failed', 'skipped']),
  evidence: z.string(),
  remedy: z.string().optional(),
  code: z.string().optional(),
});

const diagnosisReply = z.object({
  at: z.string(),
  ok: z.boolean(),
  sections: z.array(z.object({ subject: z.string(), checks: z.array(checkReply) })),
});

/** The doctor over HTTP: `GET /api/diagnostics?account=KEY|id` or `?provider=name|id`. */
export async function diagnosticsRoutes(app: FastifyInstance, deps: { services: Services }): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.get(
    '/api/diagnostics',
    {
      schema: {
        tags: ['diagnostics'],
        summary: 'Run the troubleshooting checks for an account, a provider, or everything',
        // Strict: a misspelt parameter (`accountId`) must not silently diagnose everything.
        querystring: z
          .object({
            account: z.string().trim().min(1).optional(),
            provider: z.string().trim().min(1).optional(),
          })
          .strict(),
        response: { 200: diagnosisReply },
      },
    },
    async (request) => {
      const { account, provider } = request.query;
      if (account !== undefined && provider !== undefined) {
        throw new PosternError('VALIDATION_FAILED', {
          message: 'Name an account or a provider, not both.',
          details: { in: 'querystring', fields: [{ field: 'provider', problem: 'cannot be combined with account' }] },
        });
      }
      if (account !== undefined)
        return deps.services.doctor.diagnose({ accountId: await resolveAccount(deps.services, account) });
      if (provider !== undefined)
        return deps.services.doctor.diagnose({ providerId: await resolveProvider(deps.services, provider) });
      return deps.services.doctor.diagnose({});
    },
  );
}

async function resolveAccount(services: Services, ref: string): Promise<number> {
  if (/^\d+$/.test(ref)) return Number(ref);
  const match = (await services.accounts.list()).find((view) => view.account.key.toLowerCase() === ref.toLowerCase());
  if (match === undefined)
    throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no email account with key "${ref}".` });
  return match.account.id;
}

async function resolveProvider(services: Services, ref: string): Promise<number> {
  if (/^\d+$/.test(ref)) return Number(ref);
  const match = (await services.providers.list()).find(
    (view) => view.provider.name.toLowerCase() === ref.toLowerCase(),
  );
  if (match === undefined)
    throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no Cloud Provider "${ref}".` });
  return match.provider.id;
}
