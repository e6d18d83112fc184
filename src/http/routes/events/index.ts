import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LIMITS } from '../../../config/index.js';
import type { EventService } from '../../../services/events/event-service.js';
import type { EventRecord } from '../../../store/index.js';
import { principalOf } from '../../plugins/auth.js';

const TAGS = ['events'];
const SCOPES = ['provider', 'grant', 'account', 'message', 'system'] as const;
const LEVELS = ['info', 'warn', 'error'] as const;

/** A comma-separated list in a query string (`type=a,b`), or the parameter repeated. */
const commaList = z.union([z.string(), z.array(z.string())]).transform((value) =>
  (Array.isArray(value) ? value : [value])
    .flatMap((part) => part.split(','))
    .map((part) => part.trim())
    .filter((part) => part !== ''),
);

const eventsQuery = z.object({
  scope: z.enum(SCOPES).optional().describe('What the events are about.'),
  scopeId: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe('The provider, grant, account or message id (with scope).'),
  accountId: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe('Events about one email account: its own and those of its messages.'),
  type: commaList
    .pipe(
      z
        .array(z.string().regex(/^[a-z][a-z0-9_]*\.[a-z0-9_.]+$/, 'must be an event type such as message.received'))
        .max(50, 'at most 50 types'),
    )
    .optional()
    .describe('Event types, comma-separated.'),
  level: commaList
    .pipe(z.array(z.enum(LEVELS)).max(3))
    .optional()
    .describe('Levels, comma-separated: info, warn, error.'),
  since: z.iso
    .datetime({ offset: true, error: 'must be an ISO-8601 date-time such as 2026-01-31T00:00:00Z' })
    .optional()
    .describe('Only events at or after this time.'),
  before: z.coerce.number().int().positive().optional().describe('Cursor: the nextBefore of the previous page.'),
  limit: z.coerce.number().int().min(1).max(LIMITS.eventPageSizeMax).default(LIMITS.pageSizeDefault),
});

const eventReply = z.object({
  id: z.number().int(),
  type: z.string(),
  level: z.enum(LEVELS),
  scope: z.enum(SCOPES),
  scopeId: z.number().int().nullable(),
  message: z.string(),
  data: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.string(),
});

/** An event as the API shows it. */
function presentEvent(event: EventRecord): z.infer<typeof eventReply> {
  return {
    id: event.id,
    type: event.type,
    level: event.level,
    scope: event.scope,
    scopeId: event.scopeId,
    message: event.message,
    data: event.data,
    createdAt: event.createdAt,
  };
}

/** The event timeline: administrators see every event, agents those of their accounts. */
export async function eventRoutes(app: FastifyInstance, deps: { events: EventService }): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.get(
    '/api/events',
    {
      config: { access: 'user' },
      schema: {
        tags: TAGS,
        summary: 'The event timeline, newest first, with filters and an id cursor',
        description:
          'One timeline for providers, grants, accounts and messages: connected, disconnected with the reason, token refreshed, re-authentication required, secret expiring, message received, sent, failed, oversize skipped… Agents see only the events of the accounts assigned to them. Page with `before=<nextBefore>` until `nextBefore` is null.',
        querystring: eventsQuery,
        response: { 200: z.object({ items: z.array(eventReply), nextBefore: z.number().int().nullable() }) },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await deps.events.list(
        {
          ...(q.scope === undefined ? {} : { scope: q.scope }),
          ...(q.scopeId === undefined ? {} : { scopeId: q.scopeId }),
          ...(q.accountId === undefined ? {} : { accountId: q.accountId }),
          ...(q.type === undefined ? {} : { types: q.type }),
          ...(q.level === undefined ? {} : { levels: q.level }),
          ...(q.since === undefined ? {} : { since: new Date(q.since) }),
          ...(q.before === undefined ? {} : { before: q.before }),
          limit: q.limit,
        },
        principalOf(request),
      );
      return { items: page.items.map(presentEvent), nextBefore: page.nextBefore };
    },
  );
}
