/**
 * Drafts and upload sessions of the emulated Graph API — how a client sends a message too large
 * for one request (4 MB):
 *
 * - `POST …/messages` (or `…/mailFolders/{id}/messages`) — a draft from JSON (the message
 *   properties of sendMail, recipients optional) or from base64 MIME (`Content-Type: text/plain`,
 *   4 MB at most: `413 RequestEntityTooLarge`); stored in Drafts (or the folder) with `\Draft`;
 *   201 with the message resource (its `internetMessageId` is the MIME's Message-ID, kept).
 * - `POST …/messages/{id}/attachments` — a `#microsoft.graph.fileAttachment` with `contentBytes`;
 *   201 with the attachment (without its bytes).
 * - `POST …/messages/{id}/attachments/createUploadSession` `{ AttachmentItem: { attachmentType:
 *   "file", name, size, contentType?, isInline?, contentId? } }` — 201 `uploadSession` with an
 *   `uploadUrl` on the emulator's origin (`/api/v2.0/Users('…')/Messages('…')/AttachmentSessions('…')?authtoken=…`),
 *   `expirationDateTime` (15 minutes) and `nextExpectedRanges: ["0-"]`. Under 3 MB:
 *   `400 ErrorAttachmentSizeShouldNotBeLessThanMinimumSize`; over 150 MB:
 *   `400 ErrorAttachmentSizeShouldNotExceedMaximumSize` (emulator wording for both).
 * - `PUT {uploadUrl}` with `Content-Range: bytes start-end/total` and the bytes — in order, at most
 *   4 MB each, no `Authorization` header (the URL carries its token): 200 `{ expirationDateTime,
 *   nextExpectedRanges: ["<next>"] }`, and `201 Created` with a `Location` once the file is whole,
 *   which then is an attachment of the draft.
 * - `POST …/messages/{id}/send` — the draft with its attachments goes the way sendMail goes (Send
 *   As, the recipient quota, the mail router `via: "graph"`, Sent Items) and leaves Drafts; 202.
 *
 * Attachments added after the draft was created are held beside the stored draft until it is
 * sent (its `$value` does not show them yet); the draft's stored bytes do not change, so its id
 * stays the same. `PATCH` of a draft's properties other than `isRead`/`flag` is not emulated.
 *
 * @see https://learn.microsoft.com/graph/api/user-post-messages
 * @see https://learn.microsoft.com/graph/api/message-post-attachments
 * @see https://learn.microsoft.com/graph/outlook-large-attachments
 * @see https://learn.microsoft.com/graph/api/message-send
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ExchangeService } from '../exchange/exchange-service.js';
import type { MailFolder } from '../exchange/mail-folder.js';
import { contextUrl, empty, json, mailboxOf, type GraphCall, type GraphDeps, type GraphResult } from './graph-call.js';
import { GraphError, graphErrors } from './graph-errors.js';
import { encodeMessageId } from './graph-ids.js';
import { withAttachments, type DraftAttachment } from './draft-mime.js';
import { completeMime, composeMessage, decodeMimeBody, parseMessageInput } from './message-compose.js';
import { presentMessage } from './message-view.js';
import {
  checkRequestSize,
  checkSendAs,
  isMime,
  MAX_REQUEST_BYTES,
  requireJson,
  senderOf,
  submit,
} from './send-routes.js';

/** Graph: upload sessions for files of 3 MB to 150 MB. */
const UPLOAD_MIN_BYTES = 3 * 1024 * 1024;
const UPLOAD_MAX_BYTES = 150 * 1024 * 1024;
const SESSION_LIFETIME_MS = 15 * 60_000;

interface UploadSession {
  readonly id: string;
  readonly token: Buffer;
  readonly mailbox: string;
  readonly draftKey: string;
  readonly messageId: string;
  readonly item: { name: string; contentType: string; size: number; isInline: boolean; contentId: string | undefined };
  readonly chunks: Buffer[];
  received: number;
  readonly expiresAt: number;
}

/** What the emulator holds besides the store: attachments added to drafts, open upload sessions. */
interface DraftState {
  readonly attachments: Map<string, DraftAttachment[]>;
  readonly sessions: Map<string, UploadSession>;
}

const states = new WeakMap<ExchangeService, DraftState>();

function stateOf(exchange: ExchangeService): DraftState {
  let state = states.get(exchange);
  if (state === undefined) {
    state = { attachments: new Map(), sessions: new Map() };
    states.set(exchange, state);
  }
  return state;
}

function draftKey(mailbox: string, folder: MailFolder, uid: number): string {
  return `${mailbox}|${folder.id}|${uid}`;
}

/** The draft a Graph id names: 400 ErrorInvalidOperation when it is not a draft (emulator wording). */
function requireDraft(call: GraphCall, id: string) {
  const mailbox = mailboxOf(call);
  const located = mailbox.findMessage(id);
  if (!located.message.flags.has('\\Draft'))
    throw new GraphError(400, 'ErrorInvalidOperation', 'The item is not a draft.');
  return { mailbox, ...located, key: draftKey(mailbox.address, located.folder, located.message.uid) };
}

/** `POST …/messages` and `…/mailFolders/{id}/messages`: a new draft. */
export async function createDraft(call: GraphCall, folderRef: string | undefined): Promise<GraphResult> {
  const mailbox = mailboxOf(call);
  const sender = senderOf(call);
  const now = call.deps.clock.nowMs();
  let raw: Buffer;
  if (isMime(call)) {
    checkRequestSize(call);
    raw = completeMime(decodeMimeBody(call.body), sender, now, { draft: true }).raw;
  } else {
    requireJson(call);
    raw = (await composeMessage(parseMessageInput(call.body ?? {}), sender, now, {}, { draft: true })).raw;
  }
  const folder = folderRef === undefined ? mailbox.folders.wellKnown('drafts') : mailbox.requireFolder(folderRef);
  const message = mailbox.store.append(mailbox.address, folder, raw, { flags: ['\\Draft', '\\Seen'] });
  const body = await presentMessage(folder, message, { select: undefined, bodyText: false });
  return json({ '@odata.context': contextUrl(call, `${call.contextUser}/messages/$entity`), ...body }, 201);
}

const fileAttachmentSchema = z.object({
  '@odata.type': z.string().refine((v) => v.replace(/^#/, '').toLowerCase() === 'microsoft.graph.fileattachment', {
    message: 'only #microsoft.graph.fileAttachment is supported',
  }),
  name: z.string().min(1).max(255),
  contentType: z.string().max(255).optional(),
  contentBytes: z.string(),
  isInline: z.boolean().optional(),
  contentId: z.string().max(255).optional(),
});

function presentAttachmentAdded(call: GraphCall, attachment: DraftAttachment): Record<string, unknown> {
  return {
    '@odata.context': contextUrl(call, `${call.contextUser}/messages/attachments/$entity`),
    '@odata.type': '#microsoft.graph.fileAttachment',
    id: attachment.id,
    name: attachment.name,
    contentType: attachment.contentType,
    size: attachment.content.length,
    isInline: attachment.isInline,
    contentId: attachment.contentId ?? null,
  };
}

function newAttachmentId(): string {
  return `AAMkAtt${randomBytes(12).toString('base64url')}=`;
}

/** `POST …/messages/{id}/attachments`: a file attachment of a draft. */
export function addAttachment(call: GraphCall, id: string): GraphResult {
  requireJson(call);
  const draft = requireDraft(call, id);
  const parsed = fileAttachmentSchema.safeParse(call.body);
  if (!parsed.success) throw graphErrors.invalidRequest('The body must be a #microsoft.graph.fileAttachment.');
  if (parsed.data.contentBytes.length > MAX_REQUEST_BYTES) throw graphErrors.payloadTooLarge();
  const clean = parsed.data.contentBytes.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0)
    throw graphErrors.invalidRequest('contentBytes is not valid base64.');
  const attachment: DraftAttachment = {
    id: newAttachmentId(),
    name: parsed.data.name,
    contentType: parsed.data.contentType ?? 'application/octet-stream',
    content: Buffer.from(clean, 'base64'),
    isInline: parsed.data.isInline ?? false,
    contentId: parsed.data.contentId,
  };
  const { attachments } = stateOf(call.deps.exchange);
  attachments.set(draft.key, [...(attachments.get(draft.key) ?? []), attachment]);
  return json(presentAttachmentAdded(call, attachment), 201);
}

const uploadSessionSchema = z.object({
  AttachmentItem: z.object({
    attachmentType: z.string().refine((v) => v.toLowerCase() === 'file', { message: 'only file is supported' }),
    name: z.string().min(1).max(255),
    size: z.number().int().nonnegative(),
    contentType: z.string().max(255).optional(),
    isInline: z.boolean().optional(),
    contentId: z.string().max(255).optional(),
  }),
});

/** `POST …/messages/{id}/attachments/createUploadSession`. */
export function createUploadSession(call: GraphCall, id: string): GraphResult {
  requireJson(call);
  const draft = requireDraft(call, id);
  const parsed = uploadSessionSchema.safeParse(call.body);
  if (!parsed.success)
    throw graphErrors.invalidRequest(
      'The body must be { "AttachmentItem": { "attachmentType": "file", "name", "size" } }.',
    );
  const item = parsed.data.AttachmentItem;
  if (item.size < UPLOAD_MIN_BYTES)
    throw new GraphError(
      400,
      'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize',
      'Attachment size must be greater than the minimum size.',
    );
  if (item.size > UPLOAD_MAX_BYTES)
    throw new GraphError(
      400,
      'ErrorAttachmentSizeShouldNotExceedMaximumSize',
      'Attachment size must not exceed the maximum size (150 MB).',
    );
  const now = call.deps.clock.nowMs();
  const session: UploadSession = {
    id: `AAMkSess${randomBytes(12).toString('base64url')}`,
    token: randomBytes(24),
    mailbox: draft.mailbox.address,
    draftKey: draft.key,
    messageId: encodeMessageId(draft.folder.id, draft.message.uid),
    item: {
      name: item.name,
      contentType: item.contentType ?? 'application/octet-stream',
      size: item.size,
      isInline: item.isInline ?? false,
      contentId: item.contentId,
    },
    chunks: [],
    received: 0,
    expiresAt: now + SESSION_LIFETIME_MS,
  };
  const { sessions } = stateOf(call.deps.exchange);
  sessions.set(session.id, session);
  const origin = call.base.slice(0, call.base.length - '/v1.0'.length);
  const uploadUrl =
    `${origin}/api/v2.0/Users('${encodeURIComponent(session.mailbox)}')/Messages('${encodeURIComponent(session.messageId)}')` +
    `/AttachmentSessions('${session.id}')?authtoken=${session.token.toString('base64url')}`;
  return json(
    {
      '@odata.context': `${call.base}/$metadata#microsoft.graph.uploadSession`,
      uploadUrl,
      expirationDateTime: new Date(session.expiresAt).toISOString(),
      nextExpectedRanges: ['0-'],
    },
    201,
  );
}

/** `POST …/messages/{id}/send`: the draft with its attachments, submitted as sendMail would. */
export function sendDraft(call: GraphCall, id: string): GraphResult {
  const draft = requireDraft(call, id);
  const sender = senderOf(call);
  const { attachments } = stateOf(call.deps.exchange);
  const raw = withAttachments(draft.message.content.raw, attachments.get(draft.key) ?? []);
  const composed = completeMime(raw, sender, call.deps.clock.nowMs());
  checkSendAs(call, composed.fromAddress);
  submit(call, composed, true);
  attachments.delete(draft.key);
  draft.mailbox.store.expunge(draft.mailbox.address, draft.folder, { uids: [draft.message.uid], force: true });
  return empty(202);
}

const SESSION_PATH = /\/AttachmentSessions\('([A-Za-z0-9_-]{1,100})'\)$/;
const CONTENT_RANGE = /^bytes (\d{1,12})-(\d{1,12})\/(\d{1,12})$/;

function uploadError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send({ error: { code, message } });
}

/**
 * `PUT /api/v2.0/…/AttachmentSessions('{id}')?authtoken=…`: one range of an upload session, on the
 * emulator's origin. Refuses an `Authorization` header (the URL is pre-authenticated: a client
 * that sends its Graph token there would leak it to another host).
 */
export function uploadRange(deps: GraphDeps, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const url = new URL(request.url, 'https://upload.invalid');
  const sessionId = SESSION_PATH.exec(decodeURIComponent(url.pathname))?.[1];
  const { sessions, attachments } = stateOf(deps.exchange);
  const session = sessionId === undefined ? undefined : sessions.get(sessionId);
  if (session === undefined)
    return uploadError(reply, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
  if (request.headers.authorization !== undefined)
    return uploadError(
      reply,
      400,
      'ErrorInvalidRequest',
      'Do not send an Authorization header to an upload URL (emulator wording).',
    );
  const token = Buffer.from(url.searchParams.get('authtoken') ?? '', 'base64url');
  if (
    token.length !== session.token.length ||
    !timingSafeEqual(token, session.token) ||
    deps.clock.nowMs() > session.expiresAt
  )
    return uploadError(reply, 401, 'InvalidAuthenticationToken', 'The upload session token is invalid or expired.');
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const range = CONTENT_RANGE.exec(String(request.headers['content-range'] ?? ''));
  const start = Number(range?.[1] ?? Number.NaN);
  const end = Number(range?.[2] ?? Number.NaN);
  const total = Number(range?.[3] ?? Number.NaN);
  if (range === null || total !== session.item.size || end < start || end >= total || end - start + 1 !== body.length)
    return uploadError(
      reply,
      400,
      'ErrorInvalidRequest',
      'The Content-Range header does not match the body or the session (emulator wording).',
    );
  if (body.length > MAX_REQUEST_BYTES)
    return uploadError(reply, 413, 'RequestEntityTooLarge', 'The request payload is too large.');
  if (start !== session.received)
    return uploadError(
      reply,
      416,
      'ErrorInvalidRange',
      `The next expected range starts at ${session.received} (emulator wording).`,
    );
  session.chunks.push(Buffer.from(body));
  session.received += body.length;
  if (session.received < session.item.size) {
    return reply
      .code(200)
      .header('content-type', 'application/json')
      .send({
        expirationDateTime: new Date(session.expiresAt).toISOString(),
        nextExpectedRanges: [String(session.received)],
      });
  }
  sessions.delete(session.id);
  const attachment: DraftAttachment = {
    id: newAttachmentId(),
    ...session.item,
    content: Buffer.concat(session.chunks),
  };
  attachments.set(session.draftKey, [...(attachments.get(session.draftKey) ?? []), attachment]);
  const origin = `${request.protocol}://${request.headers.host ?? '127.0.0.1'}`;
  return reply
    .code(201)
    .header(
      'location',
      `${origin}/api/v2.0/Users('${encodeURIComponent(session.mailbox)}')/Messages('${encodeURIComponent(session.messageId)}')/Attachments('${attachment.id}')`,
    )
    .send();
}
