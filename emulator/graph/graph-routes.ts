/**
 * The emulated `https://graph.microsoft.com/v1.0` mail subset on the emulator's HTTPS server. Each
 * call goes: bearer token (401s) → path (400/405) → whose mailbox (`/me`, `/users/{id | upn}`) →
 * permission (403) → MailboxConcurrency slot (429) → a scripted `graph` fault, if any → the
 * operation. Every reply carries `request-id` / `client-request-id`; errors have Graph's body.
 *
 * @see ../../../shared/reference/microsoft-protocols.md §7, §8
 * @see https://learn.microsoft.com/graph/api/resources/mail-api-overview
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { noteOutcome } from '../identity/http-support.js';
import { deltaMessages } from './delta-route.js';
import { createFolder, getFolder, getUser, listFolders } from './folder-routes.js';
import { authenticate, requireRight, resolveTarget, type GraphRight } from './graph-auth.js';
import type { GraphCall, GraphDeps, GraphResult } from './graph-call.js';
import {
  graphErrors,
  graphRequestIds,
  isGraphError,
  sendGraphError,
  setGraphHeaders,
  type GraphError,
  type GraphRequestIds,
} from './graph-errors.js';
import { GraphMailbox } from './graph-mailbox.js';
import { parseGraphPath, type RouteMatch } from './graph-path.js';
import { takeGraphFault } from './graph-throttle.js';
import {
  attachmentValue,
  deleteMessage,
  getAttachment,
  getMessage,
  listAttachments,
  listMessages,
  messageValue,
  moveOrCopy,
  patchMessage,
} from './message-routes.js';
import { addAttachment, createDraft, createUploadSession, sendDraft, uploadRange } from './draft-routes.js';
import { replyToMessage, sendMail } from './send-routes.js';
import { isBatchPath, serveBatch } from './batch-route.js';
import { createSubscription, subscriptionById } from './subscription-routes.js';

/** The path prefix of the emulated API. */
const GRAPH_PREFIX = '/v1.0';
/** Where upload sessions' URLs point (Outlook's REST API path). */
const UPLOAD_PREFIX = '/api/v2.0';

/** Large enough for a sendMail with attachments (Graph takes up to 4 MB inline, MIME up to 150 MB). */
const BODY_LIMIT = 160 * 1024 * 1024;

const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

function rightOf(route: RouteMatch): GraphRight {
  switch (route.op) {
    case 'getUser':
      return 'profile';
    case 'createFolder':
    case 'patchMessage':
    case 'deleteMessage':
    case 'move':
    case 'copy':
    case 'createDraft':
    case 'addAttachment':
    case 'createUploadSession':
      return 'write';
    case 'sendMail':
    case 'reply':
    case 'replyAll':
    case 'sendDraft':
      return 'send';
    default:
      return 'read';
  }
}

function dispatch(call: GraphCall, route: RouteMatch): Promise<GraphResult> | GraphResult {
  switch (route.op) {
    case 'getUser':
      return getUser(call);
    case 'listFolders':
      return listFolders(call, route.parent);
    case 'getFolder':
      return getFolder(call, route.folder);
    case 'createFolder':
      return createFolder(call, route.parent);
    case 'listMessages':
      return listMessages(call, route.folder);
    case 'delta':
      return deltaMessages(call, route.folder);
    case 'getMessage':
      return getMessage(call, route.message);
    case 'patchMessage':
      return patchMessage(call, route.message);
    case 'deleteMessage':
      return deleteMessage(call, route.message);
    case 'messageValue':
      return messageValue(call, route.message);
    case 'listAttachments':
      return listAttachments(call, route.message);
    case 'move':
    case 'copy':
      return moveOrCopy(call, route.message, route.op);
    case 'reply':
    case 'replyAll':
      return replyToMessage(call, route.message, route.op === 'replyAll');
    case 'getAttachment':
      return getAttachment(call, route.message, route.attachment);
    case 'attachmentValue':
      return attachmentValue(call, route.message, route.attachment);
    case 'sendMail':
      return sendMail(call);
    case 'createDraft':
      return createDraft(call, route.folder);
    case 'addAttachment':
      return addAttachment(call, route.message);
    case 'createUploadSession':
      return createUploadSession(call, route.message);
    case 'sendDraft':
      return sendDraft(call, route.message);
  }
}

function send(reply: FastifyReply, result: GraphResult, ids: GraphRequestIds): FastifyReply {
  setGraphHeaders(reply, ids);
  void reply.header('odata-version', '4.0');
  switch (result.kind) {
    case 'json':
      for (const [name, value] of Object.entries(result.headers ?? {})) void reply.header(name, value);
      return reply.code(result.status).header('content-type', JSON_TYPE).send(JSON.stringify(result.body));
    case 'bytes':
      return reply.code(result.status).header('content-type', result.contentType).send(result.data);
    case 'empty':
      return reply.code(result.status).send();
  }
}

/** Fastify's own errors (body parsing, size) in Graph's shape. */
function fromFastifyError(error: FastifyError): GraphError {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return graphErrors.unsupportedMediaType();
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return graphErrors.payloadTooLarge();
    default:
      return error.statusCode === 400 ? graphErrors.invalidJson() : graphErrors.internal();
  }
}

/** A Graph call as received: a request on the wire, or an inner request of a `$batch`. */
export interface GraphInbound {
  readonly method: string;
  /** The path under the server root with its query, e.g. `/v1.0/me/messages?$top=5`. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
  /** `https://host:port` as the client used it (links point there). */
  readonly origin: string;
}

/** What serving a call came to: an answer, a Graph error, or a connection to drop (a `drop` fault). */
export type GraphServed =
  | { readonly kind: 'result'; readonly result: GraphResult }
  | { readonly kind: 'error'; readonly error: GraphError }
  | { readonly kind: 'drop' };

/** Notes facts about a call for the request log (a direct call's; a batch's inner calls note nothing). */
export type NoteOutcome = (outcome: Parameters<typeof noteOutcome>[1]) => void;

/**
 * Serves one call: token → path → mailbox → permission → MailboxConcurrency slot → fault →
 * operation. Direct calls and a batch's inner requests both come here, so that their answers,
 * throttling and faults are the same.
 */
export async function serveGraphCall(deps: GraphDeps, inbound: GraphInbound, note: NoteOutcome): Promise<GraphServed> {
  try {
    const principal = authenticate(firstHeader(inbound.headers.authorization), deps.introspect);
    note({ clientId: principal.appId, tenant: principal.tenantId });
    const url = new URL(inbound.url, 'https://graph.invalid');
    const relative = url.pathname.slice(GRAPH_PREFIX.length + 1);
    const base = `${inbound.origin}${GRAPH_PREFIX}`;
    if (/^subscriptions(?:\/|$)/i.test(relative)) {
      const id = relative.slice('subscriptions'.length).replace(/^\/+/, '');
      if (id === '') {
        if (inbound.method !== 'POST') throw graphErrors.methodNotAllowed();
        return served(await createSubscription(deps, deps.subscriptions, principal, base, inbound.body));
      }
      return served(
        subscriptionById(deps.subscriptions, principal, base, inbound.method, decodeURIComponent(id), inbound.body),
      );
    }
    const parsed = parseGraphPath(inbound.method, relative);
    const target = resolveTarget(principal, parsed.target, deps.directory);
    const ref = parsed.target.kind === 'me' ? 'me' : parsed.target.ref;
    if (target.user === undefined && target.mailbox === undefined)
      throw parsed.route.op === 'getUser' ? graphErrors.userNotFound(ref) : graphErrors.invalidUser(ref);
    if (parsed.route.op !== 'getUser' && target.address === undefined) throw graphErrors.mailboxNotEnabled();
    requireRight(principal, target, rightOf(parsed.route), deps.directory);

    const release = deps.concurrency.acquire(principal.appId, target.address ?? `user:${target.user?.id ?? ref}`);
    if (release === undefined) throw graphErrors.throttled(deps.concurrency.limits.retryAfterSeconds);
    try {
      const effect = takeGraphFault(deps.faults);
      if (effect.kind === 'error') {
        note({ fault: effect.fault });
        throw effect.error;
      }
      if (effect.kind === 'drop') {
        note({ fault: 'drop' });
        return { kind: 'drop' };
      }
      if (effect.kind === 'delay') {
        note({ fault: 'delay' });
        await sleep(effect.ms);
      }
      const contentType = firstHeader(inbound.headers['content-type']) ?? '';
      const call: GraphCall = {
        deps,
        principal,
        target,
        mailbox: target.address === undefined ? undefined : new GraphMailbox(deps.exchange.store, target.address),
        base,
        targetPath: parsed.targetPath,
        contextUser:
          parsed.target.kind === 'me' && principal.kind === 'user'
            ? `users('${principal.userId}')`
            : `users('${encodeURIComponent(ref)}')`,
        search: url.searchParams,
        headers: inbound.headers,
        contentType: contentType.toLowerCase(),
        body: inbound.body,
      };
      return served(await dispatch(call, parsed.route));
    } finally {
      release();
    }
  } catch (error) {
    if (isGraphError(error)) return { kind: 'error', error };
    deps.logger.error('graph request failed', {
      method: inbound.method,
      path: inbound.url.split('?')[0],
      message: error instanceof Error ? error.message : String(error),
    });
    return { kind: 'error', error: graphErrors.internal() };
  }
}

function served(result: GraphResult): GraphServed {
  return { kind: 'result', result };
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function handle(
  deps: GraphDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const ids = graphRequestIds(request);
  noteOutcome(request, { endpoint: 'graph' });
  const note: NoteOutcome = (outcome) => noteOutcome(request, outcome);
  const inbound: GraphInbound = {
    method: request.method,
    url: request.url,
    headers: request.headers,
    body: request.body,
    origin: `${request.protocol}://${request.headers.host ?? '127.0.0.1'}`,
  };
  const outcome = isBatchPath(request.url)
    ? await serveBatch(deps, inbound, (inner) => serveGraphCall(deps, inner, () => undefined))
    : await serveGraphCall(deps, inbound, note);
  switch (outcome.kind) {
    case 'result':
      return send(reply, outcome.result, ids);
    case 'error':
      noteOutcome(request, { error: outcome.error.code });
      return sendGraphError(reply, outcome.error, ids, deps.clock.now());
    case 'drop':
      void reply.hijack();
      request.raw.socket.destroy();
      return undefined;
  }
}

/** Registers the Graph routes on the emulator's server (an encapsulated plugin with its own error handler). */
export async function registerGraphRoutes(app: FastifyInstance, deps: GraphDeps): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler((error: FastifyError, _request, reply) =>
      sendGraphError(reply, fromFastifyError(error), graphRequestIds(_request), deps.clock.now()),
    );
    scope.route({
      method: ['GET', 'POST', 'PATCH', 'DELETE', 'PUT'],
      url: `${GRAPH_PREFIX}/*`,
      bodyLimit: BODY_LIMIT,
      handler: (request, reply) => handle(deps, request, reply),
    });
    // Upload sessions' pre-authenticated URLs (Outlook's REST host in Microsoft 365; here the
    // emulator's origin): raw byte ranges.
    scope.addContentTypeParser(
      'application/octet-stream',
      { parseAs: 'buffer', bodyLimit: BODY_LIMIT },
      (_r, body, done) => done(null, body),
    );
    scope.put(`${UPLOAD_PREFIX}/*`, { bodyLimit: BODY_LIMIT }, async (request, reply) =>
      uploadRange(deps, request, reply),
    );
  });
}
