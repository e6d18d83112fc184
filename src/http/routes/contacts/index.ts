import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../../services/index.js';
import type { ContactRecord } from '../../../store/index.js';
import { principalOf } from '../../plugins/auth.js';
import { emailAddress, idParam, pageOf, pageQuery } from '../../schemas.js';
import { LIMITS } from '../../../config/index.js';
import { interactionReply, presentInteractionSummary } from '../interactions/presenter.js';

const contactReply = z.object({
  id: z.number().int(),
  listId: z.number().int(),
  name: z.string(),
  addresses: z.array(z.string()),
  notes: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const addresses = z
  .array(emailAddress)
  .min(1, 'needs at least one address')
  .max(50, 'may hold at most 50 addresses')
  .refine((list) => new Set(list.map((a) => a.toLowerCase())).size === list.length, 'lists an address twice');

const contactBody = z.object({
  listId: z.number().int().positive(),
  name: z.string().trim().min(1, 'is required').max(200, 'must be at most 200 characters'),
  addresses,
  notes: z.string().max(10_000).nullable().optional(),
});

function presentContact(contact: ContactRecord): z.infer<typeof contactReply> {
  return {
    id: contact.id,
    listId: contact.listId,
    name: contact.name,
    addresses: contact.addresses,
    notes: contact.notes,
    createdAt: contact.createdAt,
    updatedAt: contact.updatedAt,
  };
}

const mergeBody = z.object({
  from: z
    .number()
    .int()
    .positive()
    .describe('the contact merged into this one: its addresses, conversations and notes move here, and it is deleted'),
});

/**
 * Contacts: one or more addresses each, an address belonging to one contact only. Agents read
 * the contacts of their accounts (404 for any other), administrators read and change them all;
 * an agent merges two contacts of a list their account files into.
 */
export async function contactRoutes(app: FastifyInstance, deps: { services: Services }): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { contacts } = deps.services;

  routes.get(
    '/api/contacts',
    {
      config: { access: 'user' },
      schema: {
        tags: ['contacts'],
        summary: 'Search contacts by name or address',
        querystring: pageQuery.extend({
          q: z.string().trim().max(320).optional(),
          listId: z.coerce.number().int().positive().optional(),
        }),
        response: { 200: pageOf(contactReply) },
      },
    },
    async (request) => {
      const page = await contacts.search(principalOf(request), request.query);
      return { ...page, items: page.items.map(presentContact) };
    },
  );
  routes.post(
    '/api/contacts',
    { schema: { tags: ['contacts'], summary: 'Create a contact', body: contactBody, response: { 201: contactReply } } },
    async (request, reply) => reply.status(201).send(presentContact(await contacts.create(request.body))),
  );
  routes.get(
    '/api/contacts/:id',
    {
      config: { access: 'user' },
      schema: { tags: ['contacts'], summary: 'Get a contact', params: idParam, response: { 200: contactReply } },
    },
    async (request) => presentContact(await contacts.get(principalOf(request), request.params.id)),
  );
  routes.patch(
    '/api/contacts/:id',
    {
      schema: {
        tags: ['contacts'],
        summary: 'Change a contact; addresses, when given, replace the current ones',
        params: idParam,
        body: contactBody.partial(),
        response: { 200: contactReply },
      },
    },
    async (request) => presentContact(await contacts.update(request.params.id, request.body)),
  );
  routes.get(
    '/api/contacts/:id/interactions',
    {
      config: { access: 'user' },
      schema: {
        tags: ['contacts'],
        summary: "The contact's conversations in the caller's accounts, newest activity first",
        params: idParam,
        querystring: z.object({
          cursor: z.string().max(200).optional().describe('the nextCursor of the previous page'),
          limit: z.coerce.number().int().min(1).max(LIMITS.pageSizeMax).default(LIMITS.pageSizeDefault),
        }),
        response: { 200: z.object({ items: z.array(interactionReply), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await contacts.interactions(principalOf(request), request.params.id, request.query);
      return { items: page.items.map(presentInteractionSummary), nextCursor: page.nextCursor };
    },
  );
  routes.post(
    '/api/contacts/:id/merge',
    {
      config: { access: 'user' },
      schema: {
        tags: ['contacts'],
        summary:
          'Merge another contact of the same list into this one (administrators, and agents of an account filing into the list)',
        params: idParam,
        body: mergeBody,
        response: { 200: contactReply },
      },
    },
    async (request) => presentContact(await contacts.merge(principalOf(request), request.params.id, request.body.from)),
  );
  routes.delete(
    '/api/contacts/:id',
    { schema: { tags: ['contacts'], summary: 'Delete a contact', params: idParam, response: { 204: z.null() } } },
    async (request, reply) => {
      await contacts.remove(request.params.id);
      return reply.status(204).send(null);
    },
  );
}
