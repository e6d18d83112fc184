/**
 * The message operations of the emulated Graph API:
 *
 * - `GET …/mailFolders/{id}/messages`, `GET …/messages` — list, with `$top` (default 10, 1–1000),
 *   `$skip`, `$select`, `$filter`, `$orderby` (default receivedDateTime desc), `$count`,
 *   `$expand=attachments`, `@odata.nextLink` carrying an opaque `$skip`;
 * - `GET …/messages/{id}` and its MIME `…/$value`; `PATCH` (isRead, flag) → 200 message;
 *   `DELETE` → 204;
 * - `POST …/move` and `…/copy` `{ destinationId }` → 201 message with a new id;
 * - `GET …/attachments`, `…/attachments/{id}`, `…/attachments/{id}/$value`.
 *
 * @see https://learn.microsoft.com/graph/api/user-list-messages
 * @see https://learn.microsoft.com/graph/api/message-get
 * @see https://learn.microsoft.com/graph/api/message-update
 * @see https://learn.microsoft.com/graph/api/message-move
 * @see https://learn.microsoft.com/graph/api/message-list-attachments
 */
import { z } from 'zod';
import type { MailFolder } from '../exchange/mail-folder.js';
import type { MessageFlag } from '../exchange/message-flags.js';
import type { StoredMessage } from '../exchange/stored-message.js';
import { contextUrl, empty, json, linkTo, mailboxOf, type GraphCall, type GraphResult } from './graph-call.js';
import { graphErrors } from './graph-errors.js';
import { decodeAttachmentId } from './graph-ids.js';
import type { LocatedMessage } from './graph-mailbox.js';
import { canonicalProperty } from './message-properties.js';
import { noteModified, parsedOf, presentAttachment, presentMessage, receivedSeconds } from './message-view.js';
import { parseMessageQuery, parsePrefer, type FilterTerm, type MessageQuery, type OrderTerm } from './odata-query.js';

/** `Prefer: outlook.body-content-type="text"`, and the Preference-Applied header it earns. */
function bodyPreference(call: GraphCall): { bodyText: boolean; headers: Record<string, string> | undefined } {
  const { bodyText } = parsePrefer(call.headers.prefer);
  return { bodyText, headers: bodyText ? { 'preference-applied': 'outlook.body-content-type="text"' } : undefined };
}

function sentSeconds(located: LocatedMessage, sentCache: Map<StoredMessage, number>): number {
  let value = sentCache.get(located.message);
  if (value === undefined) {
    const date = located.message.content.header('date');
    const parsed = date === undefined ? Number.NaN : Date.parse(date);
    value = Math.floor((Number.isNaN(parsed) ? located.message.internalDate.getTime() : parsed) / 1000);
    sentCache.set(located.message, value);
  }
  return value;
}

function compare(left: number | boolean, operator: FilterTerm['operator'], right: number | boolean): boolean {
  switch (operator) {
    case 'eq':
      return left === right;
    case 'ne':
      return left !== right;
    case 'ge':
      return left >= right;
    case 'gt':
      return left > right;
    case 'le':
      return left <= right;
    case 'lt':
      return left < right;
  }
}

function matches(located: LocatedMessage, term: FilterTerm, sentCache: Map<StoredMessage, number>): boolean {
  if (term.property === 'isRead') return compare(located.message.flags.has('\\Seen'), term.operator, term.value);
  const value =
    term.property === 'receivedDateTime' ? receivedSeconds(located.message) : sentSeconds(located, sentCache);
  return compare(value, term.operator, Math.floor(term.value.getTime() / 1000));
}

/** Filters and sorts messages as the query says (default: newest received first). */
function selectMessages(
  messages: readonly LocatedMessage[],
  query: Pick<MessageQuery, 'filter' | 'orderBy'>,
): LocatedMessage[] {
  const sentCache = new Map<StoredMessage, number>();
  const kept = messages.filter((m) => query.filter.every((term) => matches(m, term, sentCache)));
  const order: readonly OrderTerm[] =
    query.orderBy.length > 0 ? query.orderBy : [{ property: 'receivedDateTime', descending: true }];
  return kept.sort((a, b) => {
    for (const term of order) {
      const left = term.property === 'receivedDateTime' ? receivedSeconds(a.message) : sentSeconds(a, sentCache);
      const right = term.property === 'receivedDateTime' ? receivedSeconds(b.message) : sentSeconds(b, sentCache);
      if (left !== right) return term.descending ? right - left : left - right;
    }
    const byUid = a.message.uid - b.message.uid;
    return order[0]?.descending === true ? -byUid : byUid;
  });
}

function messagesContext(call: GraphCall, folderRef: string | undefined, query: MessageQuery): string {
  const selection = query.select === undefined ? '' : `(${query.select.join(',')})`;
  const collection =
    folderRef === undefined ? `messages${selection}` : `mailFolders('${folderRef}')/messages${selection}`;
  return contextUrl(call, `${call.contextUser}/${collection}`);
}

/** `GET …/messages` and `GET …/mailFolders/{id}/messages`. */
export async function listMessages(call: GraphCall, folderRef: string | undefined): Promise<GraphResult> {
  const mailbox = mailboxOf(call);
  const query = parseMessageQuery(call.search);
  let source: LocatedMessage[];
  if (folderRef === undefined) source = mailbox.allMessages();
  else {
    const resolved = mailbox.resolveFolder(folderRef);
    source =
      resolved.kind === 'root' ? [] : resolved.folder.messages.map((message) => ({ folder: resolved.folder, message }));
  }
  const selected = selectMessages(source, query);
  const page = selected.slice(query.skip, query.skip + query.top);
  const { bodyText, headers } = bodyPreference(call);
  const value = await Promise.all(
    page.map((m) =>
      presentMessage(m.folder, m.message, {
        select: query.select,
        bodyText,
        expandAttachments: query.expandAttachments,
      }),
    ),
  );
  const body: Record<string, unknown> = { '@odata.context': messagesContext(call, folderRef, query) };
  if (query.count) body['@odata.count'] = selected.length;
  body.value = value;
  if (query.skip + query.top < selected.length) {
    const path = folderRef === undefined ? 'messages' : `mailFolders/${encodeURIComponent(folderRef)}/messages`;
    const options: Array<[string, string]> = [];
    for (const name of ['$select', '$filter', '$orderby', '$count', '$expand']) {
      const given = [...call.search].find(([key]) => key.toLowerCase() === name);
      if (given !== undefined) options.push([name, given[1]]);
    }
    options.push(['$top', String(query.top)], ['$skip', String(query.skip + query.top)]);
    body['@odata.nextLink'] = linkTo(call, path, options);
  }
  return json(body, 200, headers);
}

function messageSelect(call: GraphCall): {
  select: ReturnType<typeof parseMessageQuery>['select'];
  expandAttachments: boolean;
} {
  const query = parseMessageQuery(call.search);
  return { select: query.select, expandAttachments: query.expandAttachments };
}

/** `GET …/messages/{id}`. */
export async function getMessage(call: GraphCall, id: string): Promise<GraphResult> {
  const { folder, message } = mailboxOf(call).findMessage(id);
  const { select, expandAttachments } = messageSelect(call);
  const { bodyText, headers } = bodyPreference(call);
  const body = await presentMessage(folder, message, { select, bodyText, expandAttachments });
  return json({ '@odata.context': contextUrl(call, `${call.contextUser}/messages/$entity`), ...body }, 200, headers);
}

/** `GET …/messages/{id}/$value`: the MIME content as stored. */
export function messageValue(call: GraphCall, id: string): GraphResult {
  const { message } = mailboxOf(call).findMessage(id);
  return { kind: 'bytes', status: 200, contentType: 'text/plain', data: message.content.raw };
}

const patchSchema = z
  .object({
    isRead: z.boolean().optional(),
    flag: z
      .object({ flagStatus: z.enum(['notFlagged', 'flagged', 'complete']) })
      .partial()
      .optional(),
    categories: z.array(z.string()).optional(),
    importance: z.enum(['low', 'normal', 'high']).optional(),
    inferenceClassification: z.enum(['focused', 'other']).optional(),
  })
  .strict();

/**
 * `PATCH …/messages/{id}`: `isRead` (the IMAP `\Seen` flag) and `flag` (`\Flagged`) are stored;
 * `categories`, `importance` and `inferenceClassification` are accepted and not kept.
 */
export async function patchMessage(call: GraphCall, id: string): Promise<GraphResult> {
  const mailbox = mailboxOf(call);
  const { folder, message } = mailbox.findMessage(id);
  if (typeof call.body !== 'object' || call.body === null || Array.isArray(call.body)) throw graphErrors.invalidJson();
  for (const key of Object.keys(call.body)) {
    if (!key.startsWith('@odata.') && canonicalProperty(key) === undefined) throw graphErrors.unknownBodyProperty(key);
  }
  const parsed = patchSchema.safeParse(
    Object.fromEntries(Object.entries(call.body).filter(([key]) => !key.startsWith('@odata.'))),
  );
  if (!parsed.success)
    throw graphErrors.invalidRequest(
      `Invalid update: ${parsed.error.issues.map((i) => `${i.path.map(String).join('.')} ${i.message}`).join('; ')}`,
    );
  const update = parsed.data;
  const set = (flag: MessageFlag, on: boolean): void => {
    mailbox.store.setFlags(mailbox.address, folder, [message.uid], on ? 'add' : 'remove', [flag]);
  };
  if (update.isRead !== undefined) set('\\Seen', update.isRead);
  if (update.flag?.flagStatus !== undefined) set('\\Flagged', update.flag.flagStatus === 'flagged');
  noteModified(message, call.deps.clock.nowMs());
  const { bodyText, headers } = bodyPreference(call);
  const body = await presentMessage(folder, message, { bodyText });
  return json({ '@odata.context': contextUrl(call, `${call.contextUser}/messages/$entity`), ...body }, 200, headers);
}

/** `DELETE …/messages/{id}`: the message leaves the folder (to Recoverable Items, out of reach here). */
export function deleteMessage(call: GraphCall, id: string): GraphResult {
  const mailbox = mailboxOf(call);
  const { folder, message } = mailbox.findMessage(id);
  mailbox.store.expunge(mailbox.address, folder, { uids: [message.uid], force: true });
  return empty(204);
}

const destinationSchema = z.object({ destinationId: z.string().min(1) });

/** `POST …/move` and `…/copy`: 201 with the message in its new folder, under a new id. */
export async function moveOrCopy(call: GraphCall, id: string, mode: 'move' | 'copy'): Promise<GraphResult> {
  const mailbox = mailboxOf(call);
  const parsed = destinationSchema.safeParse(call.body);
  if (!parsed.success) throw graphErrors.invalidRequest('The destinationId parameter is required.');
  const { folder, message } = mailbox.findMessage(id);
  const destination: MailFolder = mailbox.requireFolder(parsed.data.destinationId);
  const pairs =
    mode === 'move'
      ? mailbox.store.move(mailbox.address, folder, [message.uid], destination)
      : mailbox.store.copy(mailbox.address, folder, [message.uid], destination);
  const newUid = pairs[0]?.[1];
  const moved = newUid === undefined ? undefined : destination.get(newUid);
  if (moved === undefined) throw graphErrors.itemNotFound();
  const { bodyText, headers } = bodyPreference(call);
  const body = await presentMessage(destination, moved, { bodyText });
  return json({ '@odata.context': contextUrl(call, `${call.contextUser}/messages/$entity`), ...body }, 201, headers);
}

/** `GET …/messages/{id}/attachments`. */
export async function listAttachments(call: GraphCall, id: string): Promise<GraphResult> {
  const { folder, message } = mailboxOf(call).findMessage(id);
  const parsed = await parsedOf(message.content);
  const value = parsed.attachments.map((a, index) =>
    presentAttachment(a, { folderId: folder.id, uid: message.uid }, index, message.internalDate, true),
  );
  const messageId = mailboxOf(call).messageId(folder, message);
  return json({
    '@odata.context': contextUrl(call, `${call.contextUser}/messages('${messageId}')/attachments`),
    value,
  });
}

async function findAttachment(call: GraphCall, messageRef: string, attachmentRef: string) {
  const located = mailboxOf(call).findMessage(messageRef);
  const coordinates = decodeAttachmentId(attachmentRef);
  if (coordinates === undefined) throw graphErrors.idMalformed();
  if (coordinates.folderId !== located.folder.id || coordinates.uid !== located.message.uid)
    throw graphErrors.itemNotFound();
  const attachment = (await parsedOf(located.message.content)).attachments[coordinates.index];
  if (attachment === undefined) throw graphErrors.itemNotFound();
  return { located, attachment, index: coordinates.index };
}

/** `GET …/attachments/{id}`. */
export async function getAttachment(call: GraphCall, messageRef: string, attachmentRef: string): Promise<GraphResult> {
  const { located, attachment, index } = await findAttachment(call, messageRef, attachmentRef);
  const messageId = mailboxOf(call).messageId(located.folder, located.message);
  const body = presentAttachment(
    attachment,
    { folderId: located.folder.id, uid: located.message.uid },
    index,
    located.message.internalDate,
    true,
  );
  return json({
    '@odata.context': contextUrl(call, `${call.contextUser}/messages('${messageId}')/attachments/$entity`),
    ...body,
  });
}

/** `GET …/attachments/{id}/$value`: the attachment's bytes. */
export async function attachmentValue(
  call: GraphCall,
  messageRef: string,
  attachmentRef: string,
): Promise<GraphResult> {
  const { attachment } = await findAttachment(call, messageRef, attachmentRef);
  return { kind: 'bytes', status: 200, contentType: attachment.contentType, data: attachment.content };
}
