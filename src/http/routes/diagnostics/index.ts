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

// Strict: a misspelt parameter (`accountId`) must not silently diagnose everything.
const targetQuery = z
  .object({
    account: z.string().trim().min(1).optional(),
    provider: z.string().trim().min(1).optional(),
  })
  .strict();

/**
 * The doctor over HTTP: `GET /api/diagnostics?account=KEY|id` or `?provider=name|id` only looks;
 * `POST` with `{ "sendTest": true }` also submits the Send As test message of shared mailboxes.
 */
export async function diagnosticsRoutes(app: FastifyInstance, deps: { services: Services }): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.get(
    '/api/diagnostics',
    {
      schema: {
        tags: ['diagnostics'],
        summary: 'Run the troubleshooting checks for an account, a provider, or everything (sends nothing)',
        querystring: targetQuery,
        response: { 200: diagnosisReply },
      },
    },
    async (request) => diagnose(deps.services, request.query, false),
  );
  routes.post(
    '/api/diagnostics',
    {
      schema: {
        tags: ['diagnostics'],
        summary:
          "Run the checks; with sendTest, a shared mailbox's Send As is tested by submitting a message to its delegate",
        querystring: targetQuery,
        body: z.object({ sendTest: z.boolean().default(false) }).strict(),
        response: { 200: diagnosisReply },
      },
    },
    async (request) => diagnose(deps.services, request.query, request.body.sendTest),
  );
}

async function diagnose(
  services: Services,
  query: z.infer<typeof targetQuery>,
  sendTest: boolean,
): Promise<z.infer<typeof diagnosisReply>> {
  const { account, provider } = query;
  if (account !== undefined && provider !== undefined) {
    throw new PosternError('VALIDATION_FAILED', {
      message: 'Name an account or a provider, not both.',
      details: { in: 'querystring', fields: [{ field: 'provider', problem: 'cannot be combined with account' }] },
    });
  }
  const options = { sendTest };
  if (account !== undefined)
    return services.doctor.diagnose({ accountId: await resolveAccount(services, account) }, options);
  if (provider !== undefined)
    return services.doctor.diagnose({ providerId: await resolveProvider(services, provider) }, options);
  return services.doctor.diagnose({}, options);
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
