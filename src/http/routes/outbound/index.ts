import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { SendService } from '../../../services/outbound/send-service.js';
import { principalOf } from '../../plugins/auth.js';
import { errorBody, idParam } from '../../schemas.js';
import { messageReply } from '../messages/presenter.js';
import { presentOutgoing, presentQueued, presentSending } from './presenter.js';
import {
  checkAddressBody,
  checkAddressReply,
  forwardBody,
  newMessageBody,
  queuedReply,
  recipientsQuery,
  recipientsReply,
  replyBody,
  sendingPatch,
  sendingReply,
} from './schemas.js';

const TAGS = ['messages'];
/**
 * Send requests carry attachments as base64 in JSON: room for a 35 MB message (Exchange Online's
 * default maximum) once encoded, more than the API's default body limit.
 */
const SEND_BODY_LIMIT_BYTES = 52 * 1024 * 1024;

const IDEMPOTENCY_HEADER = 'idempotency-key';

/**
 * Outbound mail: replies, forwards and new messages (queued in one transaction and answered 202), their
 * delivery state, retry of failed ones, cancel of queued ones, and each account's sending limits.
 * Agents may use them on the accounts assigned to them; changing limits is for administrators.
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/ (Idempotency-Key)
 */
export async function outboundRoutes(app: FastifyInstance, deps: { send: SendService }): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { send } = deps;

  routes.post(
    '/api/interactions/:id/reply',
    {
      config: { access: 'user' },
      bodyLimit: SEND_BODY_LIMIT_BYTES,
      schema: {
        tags: TAGS,
        summary:
          "Reply (or reply to all) in a conversation; the message is queued and sent within the account's limits",
        description: 'Send the header Idempotency-Key to make a retried request queue one message only.',
        params: idParam,
        body: replyBody,
        response: { 202: queuedReply, 400: errorBody, 404: errorBody, 409: errorBody, 422: errorBody },
      },
    },
    async (request, reply) => {
      const queued = await send.reply(callerOf(request), request.params.id, request.body);
      if (queued.replayed) void reply.header('idempotent-replayed', 'true');
      return reply.status(202).send(presentQueued(queued));
    },
  );

  routes.post(
    '/api/interactions/:id/forward',
    {
      config: { access: 'user' },
      bodyLimit: SEND_BODY_LIMIT_BYTES,
      schema: {
        tags: TAGS,
        summary:
          'Forward a message of a conversation, with its attachments, to new recipients; recorded in the conversation and queued like a reply',
        description:
          'The original goes below the text as a forwarded block (its From, Date, Subject, To and Cc, then its body), its attachments read from the store (name them in attachmentIds to leave some out; add new ones in attachments). A messageId of another conversation is refused (400 VALIDATION_FAILED, field messageId). Send the header Idempotency-Key to make a retried request queue one message only.',
        params: idParam,
        body: forwardBody,
        response: { 202: queuedReply, 400: errorBody, 404: errorBody, 409: errorBody, 410: errorBody, 422: errorBody },
      },
    },
    async (request, reply) => {
      const queued = await send.forward(callerOf(request), request.params.id, request.body);
      if (queued.replayed) void reply.header('idempotent-replayed', 'true');
      return reply.status(202).send(presentQueued(queued));
    },
  );

  routes.get(
    '/api/interactions/:id/reply-recipients',
    {
      config: { access: 'user' },
      schema: {
        tags: TAGS,
        summary: 'Who a reply (or reply all) goes to when the request names nobody: the To and Cc the composer shows',
        params: idParam,
        querystring: recipientsQuery,
        response: { 200: recipientsReply, 404: errorBody, 409: errorBody },
      },
    },
    async (request) => send.replyRecipients(principalOf(request), request.params.id, request.query.replyAll),
  );

  routes.post(
    '/api/outbound/check-address',
    {
      config: { access: 'user' },
      schema: {
        tags: TAGS,
        summary:
          'Check one recipient address as a send request would (the composer checks each address as it is added)',
        body: checkAddressBody,
        response: { 200: checkAddressReply },
      },
    },
    async (request) => send.checkRecipient(request.body.address),
  );

  routes.post(
    '/api/email/accounts/:id/messages',
    {
      config: { access: 'user' },
      bodyLimit: SEND_BODY_LIMIT_BYTES,
      schema: {
        tags: TAGS,
        summary: 'Send a new message from an email account (a new conversation, or into one with interactionId)',
        description: 'Send the header Idempotency-Key to make a retried request queue one message only.',
        params: idParam,
        body: newMessageBody,
        response: { 202: queuedReply, 400: errorBody, 404: errorBody, 409: errorBody, 422: errorBody },
      },
    },
    async (request, reply) => {
      const queued = await send.send(callerOf(request), request.params.id, request.body);
      if (queued.replayed) void reply.header('idempotent-replayed', 'true');
      return reply.status(202).send(presentQueued(queued));
    },
  );

  routes.get(
    '/api/messages/:id',
    {
      config: { access: 'user' },
      schema: {
        tags: TAGS,
        summary: 'A message with its delivery state, attempts, server reply or error and remedy',
        params: idParam,
        response: { 200: messageReply },
      },
    },
    async (request) => presentOutgoing(await send.get(principalOf(request), request.params.id)),
  );

  routes.post(
    '/api/messages/:id/retry',
    {
      config: { access: 'user' },
      schema: {
        tags: TAGS,
        summary: 'Queue a failed or cancelled message again',
        params: idParam,
        response: { 200: messageReply, 409: errorBody },
      },
    },
    async (request) => presentOutgoing(await send.retry(principalOf(request), request.params.id)),
  );

  routes.post(
    '/api/messages/:id/cancel',
    {
      config: { access: 'user' },
      schema: {
        tags: TAGS,
        summary: 'Cancel a message that is still queued',
        params: idParam,
        response: { 200: messageReply, 409: errorBody },
      },
    },
    async (request) => presentOutgoing(await send.cancel(principalOf(request), request.params.id)),
  );

  routes.get(
    '/api/email/accounts/:id/sending',
    {
      config: { access: 'user' },
      schema: {
        tags: ['emailAccounts'],
        summary: "The account's sending limits, what it uses of them now, and its outbox",
        params: idParam,
        response: { 200: sendingReply },
      },
    },
    async (request) => presentSending(await send.sendingView(principalOf(request), request.params.id)),
  );

  routes.patch(
    '/api/email/accounts/:id/sending',
    {
      schema: {
        tags: ['emailAccounts'],
        summary:
          "Change the account's sending limits (messages a minute, recipients a day, concurrent submissions, per-message limits, retry window)",
        params: idParam,
        body: sendingPatch,
        response: { 200: sendingReply },
      },
    },
    async (request) => presentSending(await send.updateSending(principalOf(request), request.params.id, request.body)),
  );
}

function callerOf(request: FastifyRequest): {
  viewer: { userId: number; role: 'admin' | 'agent' };
  idempotencyKey?: string;
} {
  const principal = principalOf(request);
  const header = request.headers[IDEMPOTENCY_HEADER];
  const key = Array.isArray(header) ? header[0] : header;
  return {
    viewer: { userId: principal.userId, role: principal.role },
    ...(key === undefined ? {} : { idempotencyKey: key }),
  };
}
