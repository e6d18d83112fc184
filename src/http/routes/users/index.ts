import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../../services/index.js';
import { idParam, password, role } from '../../schemas.js';
import { presentUser, userReply } from './presenter.js';

const createBody = z.object({
  username: z.string().trim().min(1, 'is required').max(200, 'must be at most 200 characters'),
  displayName: z.string().trim().max(200).optional(),
  role,
  password,
});

const updateBody = z
  .object({
    displayName: z.string().trim().min(1).max(200).optional(),
    role: role.optional(),
    disabled: z.boolean().optional(),
    password: password.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'name at least one of displayName, role, disabled, password');

/** Administration of users (admins only). */
export async function userRoutes(app: FastifyInstance, deps: { services: Services }): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { users } = deps.services;

  routes.get(
    '/api/users',
    { schema: { tags: ['users'], summary: 'List users', response: { 200: z.object({ items: z.array(userReply) }) } } },
    async () => ({ items: (await users.list()).map(presentUser) }),
  );
  routes.post(
    '/api/users',
    { schema: { tags: ['users'], summary: 'Create a user', body: createBody, response: { 201: userReply } } },
    async (request, reply) => reply.status(201).send(presentUser(await users.create(request.body))),
  );
  routes.get(
    '/api/users/:id',
    { schema: { tags: ['users'], summary: 'Get a user', params: idParam, response: { 200: userReply } } },
    async (request) => presentUser(await users.get(request.params.id)),
  );
  routes.patch(
    '/api/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Change a user: name, role, disabled, or reset the password',
        params: idParam,
        body: updateBody,
        response: { 200: userReply },
      },
    },
    async (request) => presentUser(await users.update(request.params.id, request.body)),
  );
}
