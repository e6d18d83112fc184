import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../../services/index.js';
import type { ListRecord } from '../../../store/index.js';
import { principalOf } from '../../plugins/auth.js';
import { idParam, pageOf, pageQuery } from '../../schemas.js';

const listReply = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string().nullable(),
  contactCount: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const listBody = z.object({
  name: z.string().trim().min(1, 'is required').max(200, 'must be at most 200 characters'),
  description: z.string().trim().max(2000).nullable().optional(),
});

function presentList(list: ListRecord): z.infer<typeof listReply> {
  return {
    id: list.id,
    name: list.name,
    description: list.description,
    contactCount: list.contactCount,
    createdAt: list.createdAt,
    updatedAt: list.updatedAt,
  };
}

/** Contact lists: agents read those of their accounts (404 for any other), administrators change them. */
export async function listRoutes(app: FastifyInstance, deps: { services: Services }): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { lists } = deps.services;

  routes.get(
    '/api/lists',
    {
      config: { access: 'user' },
      schema: {
        tags: ['lists'],
        summary: 'List contact lists',
        querystring: pageQuery.extend({ q: z.string().trim().max(200).optional() }),
        response: { 200: pageOf(listReply) },
      },
    },
    async (request) => {
      const page = await lists.list(principalOf(request), request.query);
      return { ...page, items: page.items.map(presentList) };
    },
  );
  routes.post(
    '/api/lists',
    { schema: { tags: ['lists'], summary: 'Create a contact list', body: listBody, response: { 201: listReply } } },
    async (request, reply) => reply.status(201).send(presentList(await lists.create(request.body))),
  );
  routes.get(
    '/api/lists/:id',
    {
      config: { access: 'user' },
      schema: { tags: ['lists'], summary: 'Get a contact list', params: idParam, response: { 200: listReply } },
    },
    async (request) => presentList(await lists.get(principalOf(request), request.params.id)),
  );
  routes.patch(
    '/api/lists/:id',
    {
      schema: {
        tags: ['lists'],
        summary: 'Rename or describe a contact list',
        params: idParam,
        body: listBody.partial(),
        response: { 200: listReply },
      },
    },
    async (request) => presentList(await lists.update(request.params.id, request.body)),
  );
  routes.delete(
    '/api/lists/:id',
    {
      schema: {
        tags: ['lists'],
        summary: 'Delete an empty contact list',
        params: idParam,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await lists.remove(request.params.id);
      return reply.status(204).send(null);
    },
  );
}
