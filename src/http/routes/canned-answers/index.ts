import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CANNED_BODY_MAX_CHARS,
  CANNED_TITLE_MAX_CHARS,
  PLACEHOLDER_NAMES,
  SIGNATURE_MAX_CHARS,
  unknownPlaceholders,
} from '../../../domain/placeholders.js';
import type { Services } from '../../../services/index.js';
import type { CannedAnswerRecord } from '../../../store/index.js';
import { principalOf } from '../../plugins/auth.js';
import { idParam } from '../../schemas.js';

const TAGS = ['cannedAnswers'];
const PLACEHOLDERS = PLACEHOLDER_NAMES.map((name) => `{{${name}}}`).join(', ');

const title = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(CANNED_TITLE_MAX_CHARS, `must be at most ${CANNED_TITLE_MAX_CHARS} characters`);
const body = z
  .string()
  .max(CANNED_BODY_MAX_CHARS, `must be at most ${CANNED_BODY_MAX_CHARS} characters`)
  .refine((text) => text.trim() !== '', 'is required')
  .describe(`The text inserted; placeholders filled for the conversation: ${PLACEHOLDERS}`);
const shared = z.boolean().describe('Shared with all agents (administrators only); false: yours alone');

const createBody = z.object({ title, body, shared: shared.default(false) }).strict();
const patchBody = z
  .object({ title: title.optional(), body: body.optional(), shared: shared.optional() })
  .strict()
  .refine((fields) => Object.keys(fields).length > 0, 'name at least one of title, body, shared');

const answerReply = z.object({
  id: z.number().int(),
  title: z.string(),
  body: z.string(),
  shared: z.boolean(),
  /** The owner of a personal answer; null for a shared one. */
  ownerUserId: z.number().int().nullable(),
  /** Placeholders in the body that Postern does not know: left as typed when inserted. */
  unknownPlaceholders: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const signatureReply = z.object({ signature: z.string().nullable() });

const insertsReply = z.object({
  signature: z
    .string()
    .nullable()
    .describe("The agent's signature, then the account's, placeholders filled; null when neither is set"),
  answers: z.array(z.object({ id: z.number().int(), title: z.string(), body: z.string(), shared: z.boolean() })),
});

/** A canned answer as the API shows it. */
function presentAnswer(answer: CannedAnswerRecord): z.infer<typeof answerReply> {
  return {
    id: answer.id,
    title: answer.title,
    body: answer.body,
    shared: answer.shared,
    ownerUserId: answer.ownerUserId,
    unknownPlaceholders: unknownPlaceholders(answer.body),
    createdAt: answer.createdAt,
    updatedAt: answer.updatedAt,
  };
}

/**
 * Canned answers (shared: administrators manage them, every agent uses them; personal: their
 * owner's alone), the caller's own signature, and what the reply composer of a conversation
 * inserts, placeholders filled.
 */
export async function cannedAnswerRoutes(app: FastifyInstance, deps: { services: Services }): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { cannedAnswers } = deps.services;
  const user = { access: 'user' as const };

  routes.get(
    '/api/cannedAnswers',
    {
      config: user,
      schema: {
        tags: TAGS,
        summary: 'The shared canned answers and your own, by title',
        response: { 200: z.object({ items: z.array(answerReply) }) },
      },
    },
    async (request) => ({ items: (await cannedAnswers.list(principalOf(request))).map(presentAnswer) }),
  );
  routes.post(
    '/api/cannedAnswers',
    {
      config: user,
      schema: {
        tags: TAGS,
        summary: 'Add a canned answer: yours, or shared with all agents (administrators)',
        body: createBody,
        response: { 201: answerReply },
      },
    },
    async (request, reply) =>
      reply.status(201).send(presentAnswer(await cannedAnswers.create(principalOf(request), request.body))),
  );
  routes.get(
    '/api/cannedAnswers/:id',
    {
      config: user,
      schema: { tags: TAGS, summary: 'Get a canned answer', params: idParam, response: { 200: answerReply } },
    },
    async (request) => presentAnswer(await cannedAnswers.get(principalOf(request), request.params.id)),
  );
  routes.patch(
    '/api/cannedAnswers/:id',
    {
      config: user,
      schema: {
        tags: TAGS,
        summary: 'Change a canned answer (a shared one: administrators)',
        params: idParam,
        body: patchBody,
        response: { 200: answerReply },
      },
    },
    async (request) => presentAnswer(await cannedAnswers.update(principalOf(request), request.params.id, request.body)),
  );
  routes.delete(
    '/api/cannedAnswers/:id',
    {
      config: user,
      schema: {
        tags: TAGS,
        summary: 'Delete a canned answer (a shared one: administrators)',
        params: idParam,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await cannedAnswers.remove(principalOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  routes.get(
    '/api/auth/me/signature',
    {
      config: user,
      schema: { tags: ['auth'], summary: 'Your own signature', response: { 200: signatureReply } },
    },
    async (request) => ({ signature: await cannedAnswers.signature(principalOf(request)) }),
  );
  routes.put(
    '/api/auth/me/signature',
    {
      config: user,
      schema: {
        tags: ['auth'],
        summary: 'Set your own signature (plain text, placeholders allowed; empty or null removes it)',
        body: z
          .object({
            signature: z
              .string()
              .max(SIGNATURE_MAX_CHARS, `must be at most ${SIGNATURE_MAX_CHARS} characters`)
              .nullable(),
          })
          .strict(),
        response: { 200: signatureReply },
      },
    },
    async (request) => ({
      signature: await cannedAnswers.setSignature(principalOf(request), request.body.signature),
    }),
  );

  routes.get(
    '/api/interactions/:id/composerInserts',
    {
      config: user,
      schema: {
        tags: ['interactions'],
        summary: 'What the reply composer inserts: the signature and the canned answers, filled for the conversation',
        params: idParam,
        response: { 200: insertsReply },
      },
    },
    async (request) => {
      const inserts = await cannedAnswers.inserts(principalOf(request), request.params.id);
      return {
        signature: inserts.signature,
        answers: inserts.answers.map((a) => ({ id: a.id, title: a.title, body: a.body, shared: a.shared })),
      };
    },
  );
}
