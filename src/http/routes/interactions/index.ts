import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LIMITS } from '../../../config/index.js';
import { contentDisposition } from '../../../mail/mime/attachment-names.js';
import type { InteractionService } from '../../../services/inbox/interaction-service.js';
import type { ReplyDraftRecord } from '../../../store/index.js';
import { principalOf } from '../../plugins/auth.js';
import { idParam } from '../../schemas.js';
import {
  assigneesReply,
  presentAssignees,
  interactionDetailReply,
  interactionReply,
  presentInteractionDetail,
  presentInteractionRecord,
  presentInteractionSummary,
  noteReply,
  presentNote,
} from './presenter.js';

const listQuery = z.object({
  status: z.enum(['open', 'closed']).optional(),
  assigned: z
    .union([z.enum(['me', 'none']), z.coerce.number().int().positive()])
    .optional()
    .describe('"me", "none" (unassigned) or a user id'),
  contactId: z.coerce.number().int().positive().optional(),
  snoozed: z
    .enum(['hide', 'only'])
    .optional()
    .describe('"hide" leaves out the conversations snoozed until later, "only" lists just them; default both'),
  q: z
    .string()
    .max(4 * LIMITS.searchQueryMaxChars)
    .optional()
    .describe(
      'full-text search: words, "phrases", from:, to: (To/Cc), subject:, has:attachment, or a reference (P12-7KQX); ' +
        `at most ${LIMITS.searchQueryMaxChars} characters (see the user guide)`,
    ),
  cursor: z.string().max(200).optional().describe('the nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(LIMITS.pageSizeMax).default(LIMITS.pageSizeDefault),
});

const accountParam = z.object({ accountId: z.coerce.number().int().positive('must be a positive integer') });
const attachmentParams = z.object({
  id: z.coerce.number().int().positive('must be a positive integer'),
  attachmentId: z.coerce.number().int().positive('must be a positive integer'),
});
const assignBody = z
  .object({
    userId: z.number().int().positive().nullable().describe('the user to assign, or null to unassign'),
    note: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(LIMITS.noteChars, `must be at most ${LIMITS.noteChars.toLocaleString('en-US')} characters`)
      .optional()
      .describe('an internal note for the new owner, saved with the assignment ("Assigned to …: note")'),
  })
  .strict();

const draftAddress = z.object({
  name: z.string().max(256, 'must be at most 256 characters'),
  address: z.string().max(320, 'must be at most 320 characters'),
});
const draftAddresses = z.array(draftAddress).max(1000, 'may hold at most 1000 addresses');
const draftBody = z
  .object({
    text: z
      .string()
      .max(LIMITS.replyDraftChars, `must be at most ${LIMITS.replyDraftChars.toLocaleString('en-US')} characters`),
    html: z
      .string()
      .max(
        LIMITS.replyDraftHtmlChars,
        `must be at most ${LIMITS.replyDraftHtmlChars.toLocaleString('en-US')} characters`,
      )
      .nullable()
      .default(null)
      .describe(
        "the formatted editor's HTML (sanitized when the reply is sent); null or absent for a plain-text draft",
      ),
    replyAll: z.boolean(),
    recipients: z
      .object({ to: draftAddresses, cc: draftAddresses, bcc: draftAddresses })
      .nullable()
      .describe("the recipients as the agent left them; null to keep the reply's default recipients"),
  })
  .strict();
const draftReply = z.object({
  draft: z
    .object({
      text: z.string(),
      html: z.string().nullable(),
      replyAll: z.boolean(),
      recipients: z.object({ to: draftAddresses, cc: draftAddresses, bcc: draftAddresses }).nullable(),
      updatedAt: z.string(),
    })
    .nullable(),
});

const snoozeBody = z
  .object({
    until: z
      .string()
      .datetime({ offset: true, message: 'must be a date and time with its offset, as 2026-12-24T08:00:00Z' })
      .nullable()
      .describe(`when the conversation comes back (within ${LIMITS.snoozeMaxDays} days), or null to end its snooze`),
  })
  .strict();

const noteBody = z
  .object({
    body: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(LIMITS.noteChars, `must be at most ${LIMITS.noteChars.toLocaleString('en-US')} characters`),
  })
  .strict();

/** A media type safe to put in a header as stored; anything else downloads as bytes. */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/**
 * Conversations for agents: the accounts assigned to them (administrators: all), messages, raw
 * MIME and attachment downloads, and the actions agents take.
 */
export async function interactionRoutes(
  app: FastifyInstance,
  deps: { services: { interactions: InteractionService } },
): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { interactions } = deps.services;
  const tags = ['interactions'];

  routes.get(
    '/api/email/accounts/:accountId/interactions',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: 'Conversations of an account, newest activity first',
        params: accountParam,
        querystring: listQuery,
        response: { 200: z.object({ items: z.array(interactionReply), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await interactions.list(principalOf(request), request.params.accountId, request.query);
      return { items: page.items.map(presentInteractionSummary), nextCursor: page.nextCursor };
    },
  );

  routes.get(
    '/api/interactions/:id',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: 'A conversation with its messages',
        params: idParam,
        response: { 200: interactionDetailReply },
      },
    },
    async (request) => presentInteractionDetail(await interactions.get(principalOf(request), request.params.id)),
  );

  routes.post(
    '/api/interactions/:id/assign',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: 'Assign a conversation to a user, or unassign it',
        params: idParam,
        body: assignBody,
        response: { 200: interactionReply },
      },
    },
    async (request) =>
      presentInteractionRecord(
        await interactions.named(
          await interactions.assign(principalOf(request), request.params.id, request.body.userId, request.body.note),
        ),
      ),
  );

  routes.get(
    '/api/email/accounts/:accountId/assignees',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: "Who the account's conversations can be assigned to: its agents and the administrators",
        params: accountParam,
        response: { 200: assigneesReply },
      },
    },
    async (request) => presentAssignees(await interactions.assignees(principalOf(request), request.params.accountId)),
  );

  routes.get(
    '/api/interactions/:id/draft',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: "The caller's draft reply in a conversation (null when none)",
        params: idParam,
        response: { 200: draftReply },
      },
    },
    async (request) => ({ draft: presentDraft(await interactions.draft(principalOf(request), request.params.id)) }),
  );

  routes.put(
    '/api/interactions/:id/draft',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: "Save the caller's draft reply in a conversation (the composer does while the agent types)",
        params: idParam,
        body: draftBody,
        response: { 200: draftReply },
      },
    },
    async (request) => ({
      draft: presentDraft(await interactions.saveDraft(principalOf(request), request.params.id, request.body)),
    }),
  );

  routes.delete(
    '/api/interactions/:id/draft',
    {
      config: { access: 'user' },
      schema: { tags, summary: "Discard the caller's draft reply in a conversation", params: idParam },
    },
    async (request, reply) => {
      await interactions.deleteDraft(principalOf(request), request.params.id);
      return reply.status(204).send();
    },
  );

  routes.post(
    '/api/interactions/:id/notes',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: 'Add an internal note to a conversation (never sent to the customer)',
        params: idParam,
        body: noteBody,
        response: { 201: noteReply },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(presentNote(await interactions.addNote(principalOf(request), request.params.id, request.body.body))),
  );

  routes.patch(
    '/api/notes/:id',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: "Change an internal note's text (its author or an administrator)",
        params: idParam,
        body: noteBody,
        response: { 200: noteReply },
      },
    },
    async (request) =>
      presentNote(await interactions.editNote(principalOf(request), request.params.id, request.body.body)),
  );

  routes.delete(
    '/api/notes/:id',
    {
      config: { access: 'user' },
      schema: { tags, summary: 'Delete an internal note (its author or an administrator)', params: idParam },
    },
    async (request, reply) => {
      await interactions.removeNote(principalOf(request), request.params.id);
      return reply.status(204).send();
    },
  );

  routes.post(
    '/api/interactions/:id/snooze',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: 'Snooze an open conversation until a time, or end its snooze (null)',
        params: idParam,
        body: snoozeBody,
        response: { 200: interactionReply },
      },
    },
    async (request) => {
      const until = request.body.until === null ? null : new Date(request.body.until);
      const record = await interactions.snooze(principalOf(request), request.params.id, until);
      return presentInteractionRecord(await interactions.named(record));
    },
  );

  for (const [action, summary] of [
    ['close', 'Close a conversation'],
    ['reopen', 'Reopen a conversation'],
    ['read', "Mark a conversation's messages read"],
  ] as const) {
    routes.post(
      `/api/interactions/:id/${action}`,
      { config: { access: 'user' }, schema: { tags, summary, params: idParam, response: { 200: interactionReply } } },
      async (request) => {
        const viewer = principalOf(request);
        const id = request.params.id;
        const record =
          action === 'close'
            ? await interactions.close(viewer, id)
            : action === 'reopen'
              ? await interactions.reopen(viewer, id)
              : await interactions.markRead(viewer, id);
        return presentInteractionRecord(await interactions.named(record));
      },
    );
  }

  routes.get(
    '/api/messages/:id/raw',
    { config: { access: 'user' }, schema: { tags, summary: "A message's raw MIME (message/rfc822)", params: idParam } },
    async (request, reply) => {
      const { messageId, raw } = await interactions.raw(principalOf(request), request.params.id);
      return download(reply, raw, 'message/rfc822', `message-${messageId}.eml`);
    },
  );

  routes.get(
    '/api/messages/:id/attachments/:attachmentId',
    { config: { access: 'user' }, schema: { tags, summary: 'Download an attachment', params: attachmentParams } },
    async (request, reply) => {
      const attachment = await interactions.attachment(
        principalOf(request),
        request.params.id,
        request.params.attachmentId,
      );
      const type = MEDIA_TYPE.test(attachment.contentType) ? attachment.contentType : 'application/octet-stream';
      return download(reply, attachment.content, type, attachment.filename ?? `attachment-${attachment.id}`);
    },
  );
}

function presentDraft(draft: ReplyDraftRecord | null): z.infer<typeof draftReply>['draft'] {
  if (draft === null) return null;
  return {
    text: draft.text,
    html: draft.html,
    replyAll: draft.replyAll,
    recipients: draft.recipients,
    updatedAt: draft.updatedAt,
  };
}

/**
 * Sends stored bytes as a download. Always `attachment`: mail content must never render as a
 * page of Postern's origin (an HTML or SVG attachment would run its scripts there); the sandbox
 * CSP and nosniff hold even if a browser ignored that.
 */
function download(reply: FastifyReply, content: Buffer, contentType: string, filename: string): FastifyReply {
  return reply
    .header('content-type', contentType)
    .header('content-disposition', contentDisposition(filename))
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('cache-control', 'private, no-store')
    .send(content);
}
