import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { emailAccountBody, emailAccountPatch } from '../../../domain/email-account-fields.js';
import type { Services } from '../../../services/index.js';
import { principalOf } from '../../plugins/auth.js';
import { beforeQuery, eventPageReply, idParam, presentEventPage } from '../../schemas.js';
import { accountReply, presentAccount } from './presenter.js';

const TAGS = ['emailAccounts'];

const testReply = z.object({
  ok: z.boolean(),
  steps: z.array(z.object({ step: z.string(), ok: z.boolean(), detail: z.string(), skipped: z.boolean().optional() })),
  error: z.object({ code: z.string(), message: z.string(), remedy: z.string().nullable() }).nullable(),
});

/** Email Accounts: administrators manage them; agents read the ones assigned to them. */
export async function emailAccountRoutes(app: FastifyInstance, deps: { services: Services }): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { accounts } = deps.services;

  routes.get(
    '/api/email/accounts',
    {
      config: { access: 'user' },
      schema: {
        tags: TAGS,
        summary: 'List email accounts (agents: those assigned to them)',
        response: { 200: z.object({ items: z.array(accountReply) }) },
      },
    },
    async (request) => ({ items: (await accounts.list(principalOf(request))).map(presentAccount) }),
  );
  routes.post(
    '/api/email/accounts',
    {
      schema: {
        tags: TAGS,
        summary: 'Create an email account and associate it with a Cloud Provider',
        body: emailAccountBody,
        response: { 201: accountReply },
      },
    },
    async (request, reply) => reply.status(201).send(presentAccount(await accounts.create(request.body))),
  );
  routes.get(
    '/api/email/accounts/:id',
    {
      config: { access: 'user' },
      schema: {
        tags: TAGS,
        summary: 'Get an email account with its live status',
        params: idParam,
        response: { 200: accountReply },
      },
    },
    async (request) => presentAccount(await accounts.get(request.params.id, principalOf(request))),
  );
  routes.patch(
    '/api/email/accounts/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Change an email account (takes effect without restart)',
        params: idParam,
        body: emailAccountPatch,
        response: { 200: accountReply },
      },
    },
    async (request) => presentAccount(await accounts.update(request.params.id, request.body)),
  );
  routes.delete(
    '/api/email/accounts/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Delete an email account without conversations',
        params: idParam,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await accounts.remove(request.params.id);
      return reply.status(204).send(null);
    },
  );
  for (const [action, active] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    routes.post(
      `/api/email/accounts/:id/${action}`,
      {
        schema: {
          tags: TAGS,
          summary: `${action === 'enable' ? 'Enable' : 'Disable'} an email account`,
          params: idParam,
          response: { 200: accountReply },
        },
      },
      async (request) => presentAccount(await accounts.setActive(request.params.id, active)),
    );
  }
  routes.post(
    '/api/email/accounts/:id/test',
    {
      schema: {
        tags: TAGS,
        summary:
          "Connect to the mailbox now and report each step: IMAP, SMTP AUTH, and — with sendTest, which submits a message to the delegate — a shared mailbox's Send As",
        params: idParam,
        body: z.object({ sendTest: z.boolean().optional() }).strict().nullish(),
        response: { 200: testReply },
      },
    },
    async (request) => deps.services.mailboxTest.run(request.params.id, { sendTest: request.body?.sendTest === true }),
  );
  routes.get(
    '/api/email/accounts/:id/events',
    {
      config: { access: 'user' },
      schema: {
        tags: TAGS,
        summary: "The account's timeline, newest first",
        params: idParam,
        querystring: beforeQuery,
        response: { 200: eventPageReply },
      },
    },
    async (request) => {
      await accounts.get(request.params.id, principalOf(request));
      const page = await accounts.events(request.params.id, request.query.before);
      return presentEventPage(page);
    },
  );
}
