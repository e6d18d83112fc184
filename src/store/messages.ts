/**
 * Messages, their raw MIME (`message_raw`, kept apart so that listing stays cheap) and their
 * attachments. Two unique keys make ingest idempotent: the mailbox position (account, folder,
 * UIDVALIDITY, UID) and the Message-ID per account.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4 (Message-ID)
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-2.3.1.1 (UID, UIDVALIDITY)
 */
import { z } from 'zod';
import { PosternError } from '../errors/index.js';
import type { Database } from './database.js';
import { buildSearchDocument } from '../domain/search-query.js';
import { fromJsonText, toJsonText } from './json-column.js';
import { GroupWrites } from './group-writes.js';
import { readBounces, type StoredBounce } from './message-bounces.js';
import type { DeliveryState, MessageDirection, NewRow, Row, Timestamp } from './schema.js';
import { toDbTime, toDbTimeOrNull } from './time.js';

/** A name and address as stored in the address columns. */
export interface StoredAddress {
  readonly name: string;
  readonly address: string;
}

/** An attachment without its content. */
export interface AttachmentMeta {
  readonly id: number;
  readonly messageId: number;
  readonly filename: string | null;
  readonly contentType: string;
  readonly size: number;
  readonly contentId: string | null;
  readonly inline: boolean;
  readonly sha256: string | null;
  /** Its bytes went with the message's original (retention, migration 0030): it cannot be downloaded. */
  readonly removed: boolean;
}

/** An attachment with its content, for download. */
export interface AttachmentContent extends AttachmentMeta {
  readonly content: Buffer;
}

/**
 * An attachment and where its bytes are: in its row (`content`: outgoing mail, and inbound mail
 * stored before migration 0009), or the `rawPart`-th entry (0-based) of the attachments that
 * parsing the message's raw MIME yields (inbound mail). The store does not parse MIME: the caller
 * resolves a `rawPart` and checks the bytes against `sha256` and `size`.
 */
export type StoredAttachment = AttachmentMeta & ({ readonly content: Buffer } | { readonly rawPart: number });

/** A message as stored, with its attachments' metadata. */
export interface MessageRecord {
  readonly id: number;
  readonly accountId: number;
  readonly interactionId: number | null;
  readonly direction: MessageDirection;
  /** Canonical `<id@host>`; synthetic for mail without one. */
  readonly messageId: string | null;
  readonly inReplyTo: string | null;
  readonly references: string[];
  readonly from: StoredAddress[];
  readonly to: StoredAddress[];
  readonly cc: StoredAddress[];
  readonly bcc: StoredAddress[];
  readonly replyTo: StoredAddress[];
  readonly subject: string;
  readonly text: string | null;
  /** Sanitized; inline images as `data-postern-inline="<position>"` (see mail/mime/sanitize-html.ts). */
  readonly html: string | null;
  readonly headerDate: Timestamp | null;
  readonly isAutoReply: boolean;
  readonly isBounce: boolean;
  readonly isList: boolean;
  readonly isJunk: boolean;
  readonly isRead: boolean;
  readonly hasAttachments: boolean;
  readonly folder: string | null;
  readonly uidValidity: number | null;
  readonly uid: number | null;
  /** The size the server reported (RFC822.SIZE), or of the raw MIME stored. */
  readonly rawSize: number | null;
  readonly deliveryState: DeliveryState | null;
  readonly deliveryError: string | null;
  /** Outgoing: the user who wrote it; null inbound, for mail sent outside Postern, or once the user was deleted. */
  readonly authorUserId: number | null;
  /** Outgoing: what non-delivery reports said, per recipient (empty before any). */
  readonly bounces: StoredBounce[];
  readonly receivedAt: Timestamp;
  readonly createdAt: Timestamp;
  /** When the retention sweep removed the raw MIME (and the attached files); null while stored. */
  readonly originalRemovedAt: Timestamp | null;
  /** In stored order: a position in `html`'s `data-postern-inline` indexes this list. */
  readonly attachments: AttachmentMeta[];
}

/** What storing an inbound message needs. */
export interface NewInboundMessage {
  readonly accountId: number;
  readonly interactionId: number;
  readonly messageId: string;
  readonly inReplyTo: string | null;
  readonly references: readonly string[];
  readonly from: readonly StoredAddress[];
  readonly to: readonly StoredAddress[];
  readonly cc: readonly StoredAddress[];
  readonly bcc: readonly StoredAddress[];
  readonly replyTo: readonly StoredAddress[];
  readonly subject: string;
  readonly text: string | null;
  readonly html: string | null;
  readonly headerDate: Date | null;
  readonly isAutoReply: boolean;
  readonly isBounce: boolean;
  readonly isList: boolean;
  readonly isJunk: boolean;
  readonly folder: string;
  /** The IMAP position; null for mail read through Graph (`graphId`). */
  readonly uidValidity: number | null;
  readonly uid: number | null;
  /** The message's Graph id, for mail read through Microsoft Graph. */
  readonly graphId?: string | null;
  readonly rawSize: number;
  readonly receivedAt: Date;
  /** In the order parsing the raw MIME yields them: a position here is the attachment's `rawPart`. */
  readonly attachments: readonly NewInboundAttachment[];
}

/** An attachment to store with its content (outgoing mail). */
export interface NewAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  readonly contentId: string | null;
  readonly inline: boolean;
  readonly sha256: string;
  readonly content: Buffer;
}

/** An inbound attachment to store: its bytes stay in the raw MIME, found again by position. */
export type NewInboundAttachment = Omit<NewAttachment, 'content'>;

/** A stored message's identity and mailbox position, for idempotency checks. */
export interface MessageKey {
  readonly id: number;
  readonly interactionId: number | null;
  readonly messageId: string | null;
  readonly folder: string | null;
  readonly uidValidity: number | null;
  readonly uid: number | null;
  readonly rawSize: number | null;
  readonly subject: string;
  readonly headerDate: Timestamp | null;
  readonly text: string | null;
  readonly html: string | null;
}

const addressList = z.array(z.object({ name: z.string(), address: z.string() }));
const idList = z.array(z.string());
const EMPTY = Buffer.alloc(0);

/**
 * Inserts an inbound message with its raw MIME, its attachments' metadata and its search document
 * (store/message-search.ts), in one transaction (the caller's, when it runs one): an attachment's
 * bytes are written once, in the raw MIME, and found there again by position (`raw_part`, see
 * {@link StoredAttachment}). Returns undefined, writing nothing, when a unique key (mailbox
 * position or Message-ID) already holds a message — the safety net under the caller's own checks
 * when two writers race.
 */
export async function insertInboundMessage(
  db: Database,
  message: NewInboundMessage,
  raw: Buffer,
  /**
   * A group commit's deferred writes: the raw MIME, attachments and search document join them
   * (written when the group flushes, in the same transaction) instead of being written now.
   */
  group?: GroupWrites,
): Promise<number | undefined> {
  return db.transaction(async (tx) => {
    const writes = group ?? new GroupWrites();
    const id = await insertInboundRows(tx, message, raw, writes);
    if (group === undefined) await writes.flush(tx);
    return id;
  });
}

async function insertInboundRows(
  db: Database,
  message: NewInboundMessage,
  raw: Buffer,
  group: GroupWrites,
): Promise<number | undefined> {
  const row = await db.kysely
    .insertInto('messages')
    .values(inboundMessageRow(message, toDbTime(db.now())))
    .onConflict((conflict) => conflict.doNothing())
    .returning('id')
    .executeTakeFirst();
  if (row === undefined) return undefined;
  addInboundParts(group, row.id, message, raw);
  return row.id;
}

/**
 * Gathers an inbound message whose id was drawn ahead into a group commit: its row, raw MIME,
 * attachments and search document are written when the group flushes (see group-writes.ts, which
 * also says what happens when another writer stored the same message meanwhile).
 */
export function deferInboundMessage(
  group: GroupWrites,
  id: number,
  message: NewInboundMessage,
  raw: Buffer,
  now: Date,
): void {
  group.addMessage({ ...inboundMessageRow(message, toDbTime(now)), id });
  addInboundParts(group, id, message, raw);
}

function inboundMessageRow(message: NewInboundMessage, now: Timestamp): NewRow<'messages'> {
  return {
    account_id: message.accountId,
    interaction_id: message.interactionId,
    direction: 'in',
    message_id: message.messageId,
    in_reply_to: message.inReplyTo,
    references_json: toJsonText(message.references),
    from_json: toJsonText(message.from),
    to_json: toJsonText(message.to),
    cc_json: toJsonText(message.cc),
    bcc_json: toJsonText(message.bcc),
    reply_to_json: toJsonText(message.replyTo),
    subject: message.subject,
    text_body: message.text,
    html_body: message.html,
    header_date: toDbTimeOrNull(message.headerDate),
    is_auto_reply: message.isAutoReply ? 1 : 0,
    is_bounce: message.isBounce ? 1 : 0,
    is_list: message.isList ? 1 : 0,
    is_junk: message.isJunk ? 1 : 0,
    has_attachments: message.attachments.some((attachment) => !attachment.inline) ? 1 : 0,
    folder: message.folder,
    uidvalidity: message.uidValidity,
    uid: message.uid,
    graph_id: message.graphId ?? null,
    raw_size: message.rawSize,
    received_at: toDbTime(message.receivedAt),
    created_at: now,
    updated_at: now,
  };
}

/** The rows that hang off a stored inbound message: raw MIME, attachments' metadata, search document. */
function addInboundParts(group: GroupWrites, id: number, message: NewInboundMessage, raw: Buffer): void {
  group.addRaw(id, raw);
  group.addAttachments(
    message.attachments.map((attachment, index) => ({
      message_id: id,
      filename: attachment.filename,
      content_type: attachment.contentType,
      size: attachment.size,
      content_id: attachment.contentId,
      inline: attachment.inline ? 1 : 0,
      sha256: attachment.sha256,
      content: EMPTY,
      raw_part: index,
    })),
  );
  group.addSearchDocument({
    messageId: id,
    interactionId: message.interactionId,
    document: buildSearchDocument({
      ...message,
      attachmentNames: message.attachments.map((attachment) => attachment.filename),
    }),
  });
}

/** The message stored at a mailbox position, if any. */
export async function findMessageByPosition(
  db: Database,
  accountId: number,
  folder: string,
  uidValidity: number,
  uid: number,
): Promise<MessageKey | undefined> {
  const row = await selectKeys(db)
    .where('account_id', '=', accountId)
    .where('folder', '=', folder)
    .where('uidvalidity', '=', uidValidity)
    .where('uid', '=', uid)
    .executeTakeFirst();
  return row === undefined ? undefined : toMessageKey(row);
}

/** The message of an account with this (canonical) Message-ID, if any. */
export async function findMessageByMessageId(
  db: Database,
  accountId: number,
  messageId: string,
): Promise<MessageKey | undefined> {
  const row = await selectKeys(db)
    .where('account_id', '=', accountId)
    .where('message_id', '=', messageId)
    .executeTakeFirst();
  return row === undefined ? undefined : toMessageKey(row);
}

/**
 * In one query: the message at a mailbox position and the message with a Message-ID, either
 * possibly absent (ingest's idempotency check).
 */
export async function findMessageByPositionOrId(
  db: Database,
  accountId: number,
  position: { readonly folder: string; readonly uidValidity: number; readonly uid: number },
  messageId: string,
): Promise<{ atPosition: MessageKey | undefined; withId: MessageKey | undefined }> {
  const rows = await selectKeys(db)
    .where('account_id', '=', accountId)
    .where((eb) =>
      eb.or([
        eb.and([
          eb('folder', '=', position.folder),
          eb('uidvalidity', '=', position.uidValidity),
          eb('uid', '=', position.uid),
        ]),
        eb('message_id', '=', messageId),
      ]),
    )
    .execute();
  const keys = rows.map(toMessageKey);
  return {
    atPosition: keys.find(
      (key) => key.folder === position.folder && key.uidValidity === position.uidValidity && key.uid === position.uid,
    ),
    withId: keys.find((key) => key.messageId === messageId),
  };
}

/** Which of a group's positions, Graph ids and Message-IDs an account holds already. */
export interface StoredMarks {
  /** {@link positionMark} of each stored position asked about. */
  readonly positions: ReadonlySet<string>;
  readonly graphIds: ReadonlySet<string>;
  readonly messageIds: ReadonlySet<string>;
}

/** A mailbox position as one string, for {@link StoredMarks.positions}. */
export function positionMark(folder: string, uidValidity: number, uid: number): string {
  return `${uidValidity}:${uid}:${folder}`;
}

/** Values of an `in (…)` list per query. */
const KEYS_PER_QUERY = 500;

/**
 * In as few queries as the lists need (one for a group of 50): which of these mailbox positions,
 * Graph ids and Message-IDs already hold a message of the account. A group commit asks once, and
 * then looks up only the messages that may be stored ({@link findMessageByPositionOrId}).
 */
export async function findStoredMarks(
  db: Database,
  accountId: number,
  asked: {
    readonly positions: ReadonlyArray<{ readonly folder: string; readonly uidValidity: number; readonly uid: number }>;
    readonly graphIds: readonly string[];
    readonly messageIds: readonly string[];
  },
): Promise<StoredMarks> {
  const positions = new Set<string>();
  const graphIds = new Set<string>();
  const messageIds = new Set<string>();
  const folders = new Map<string, { folder: string; uidValidity: number; uids: number[] }>();
  for (const position of asked.positions) {
    const key = `${position.uidValidity}:${position.folder}`;
    const entry = folders.get(key) ?? { folder: position.folder, uidValidity: position.uidValidity, uids: [] };
    entry.uids.push(position.uid);
    folders.set(key, entry);
  }
  const select = () =>
    db.kysely
      .selectFrom('messages')
      .select(['message_id', 'folder', 'uidvalidity', 'uid', 'graph_id'])
      .where('account_id', '=', accountId);
  const note = (
    rows: ReadonlyArray<Pick<Row<'messages'>, 'message_id' | 'folder' | 'uidvalidity' | 'uid' | 'graph_id'>>,
  ) => {
    for (const row of rows) {
      if (row.message_id !== null) messageIds.add(row.message_id);
      if (row.graph_id !== null) graphIds.add(row.graph_id);
      if (row.folder !== null && row.uidvalidity !== null && row.uid !== null)
        positions.add(positionMark(row.folder, row.uidvalidity, row.uid));
    }
  };
  for (const { folder, uidValidity, uids } of folders.values())
    for (let start = 0; start < uids.length; start += KEYS_PER_QUERY)
      note(
        await select()
          .where('folder', '=', folder)
          .where('uidvalidity', '=', uidValidity)
          .where('uid', 'in', uids.slice(start, start + KEYS_PER_QUERY))
          .execute(),
      );
  for (let start = 0; start < asked.graphIds.length; start += KEYS_PER_QUERY)
    note(
      await select()
        .where('graph_id', 'in', asked.graphIds.slice(start, start + KEYS_PER_QUERY))
        .execute(),
    );
  for (let start = 0; start < asked.messageIds.length; start += KEYS_PER_QUERY)
    note(
      await select()
        .where('message_id', 'in', asked.messageIds.slice(start, start + KEYS_PER_QUERY))
        .execute(),
    );
  return { positions, graphIds, messageIds };
}

/**
 * In one query: the message with a Graph id and the message with a Message-ID, either possibly
 * absent (ingest's idempotency check for mail read through Microsoft Graph).
 */
export async function findMessageByGraphIdOrId(
  db: Database,
  accountId: number,
  graphId: string,
  messageId: string,
): Promise<{ atPosition: MessageKey | undefined; withId: MessageKey | undefined }> {
  const rows = await selectKeys(db)
    .select('graph_id')
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('graph_id', '=', graphId), eb('message_id', '=', messageId)]))
    .execute();
  const atPosition = rows.find((row) => row.graph_id === graphId);
  const withId = rows.find((row) => row.message_id === messageId);
  return {
    atPosition: atPosition === undefined ? undefined : toMessageKey(atPosition),
    withId: withId === undefined ? undefined : toMessageKey(withId),
  };
}

/** Graph ids of an account that hold stored messages, with the size stored and when it was stored. */
export async function findStoredGraphIds(
  db: Database,
  accountId: number,
  graphIds: readonly string[],
): Promise<Map<string, { readonly messageId: number; readonly rawSize: number | null; readonly storedAt: Timestamp }>> {
  const found = new Map<string, { messageId: number; rawSize: number | null; storedAt: Timestamp }>();
  for (let start = 0; start < graphIds.length; start += 500) {
    const rows = await db.kysely
      .selectFrom('messages')
      .select(['id', 'graph_id', 'raw_size', 'created_at'])
      .where('account_id', '=', accountId)
      .where('graph_id', 'in', graphIds.slice(start, start + 500))
      .execute();
    for (const row of rows)
      if (row.graph_id !== null)
        found.set(row.graph_id, { messageId: row.id, rawSize: row.raw_size, storedAt: row.created_at });
  }
  return found;
}

/** Known Message-IDs of an account → the interaction their message belongs to (threading). */
export async function findThreadedMessageIds(
  db: Database,
  accountId: number,
  messageIds: readonly string[],
): Promise<Map<string, number>> {
  if (messageIds.length === 0) return new Map();
  const rows = await db.kysely
    .selectFrom('messages')
    .select(['message_id', 'interaction_id'])
    .where('account_id', '=', accountId)
    .where('message_id', 'in', [...messageIds])
    .where('interaction_id', 'is not', null)
    .execute();
  const found = new Map<string, number>();
  for (const row of rows)
    if (row.message_id !== null && row.interaction_id !== null) found.set(row.message_id, row.interaction_id);
  return found;
}

/** Moves a stored message to a new mailbox position (seen again after a UIDVALIDITY change). */
export async function updateMessagePosition(
  db: Database,
  id: number,
  folder: string,
  uidValidity: number,
  uid: number,
): Promise<void> {
  await db.kysely
    .updateTable('messages')
    .set({ folder, uidvalidity: uidValidity, uid, updated_at: toDbTime(db.now()) })
    .where('id', '=', id)
    .execute();
}

/** UIDs of a folder (under one UIDVALIDITY) that hold stored messages, with the size the server reported and when they were stored. */
export async function findStoredUids(
  db: Database,
  accountId: number,
  folder: string,
  uidValidity: number,
  uids: readonly number[],
): Promise<Map<number, { readonly messageId: number; readonly rawSize: number | null; readonly storedAt: Timestamp }>> {
  const found = new Map<number, { messageId: number; rawSize: number | null; storedAt: Timestamp }>();
  for (let start = 0; start < uids.length; start += 500) {
    const rows = await db.kysely
      .selectFrom('messages')
      .select(['id', 'uid', 'raw_size', 'created_at'])
      .where('account_id', '=', accountId)
      .where('folder', '=', folder)
      .where('uidvalidity', '=', uidValidity)
      .where('uid', 'in', uids.slice(start, start + 500))
      .execute();
    for (const row of rows)
      if (row.uid !== null) found.set(row.uid, { messageId: row.id, rawSize: row.raw_size, storedAt: row.created_at });
  }
  return found;
}

/** The message with this id and its attachments' metadata. */
export async function getMessage(db: Database, id: number): Promise<MessageRecord | undefined> {
  const row = await db.kysely.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) return undefined;
  const [message] = await attachAttachments(db, [row]);
  return message;
}

/** The message with this id. @throws PosternError RESOURCE_NOT_FOUND */
export async function requireMessage(db: Database, id: number): Promise<MessageRecord> {
  const message = await getMessage(db, id);
  if (message === undefined) throw messageNotFound(id);
  return message;
}

/** The messages of a conversation, oldest first. */
export async function listInteractionMessages(db: Database, interactionId: number): Promise<MessageRecord[]> {
  const rows = await db.kysely
    .selectFrom('messages')
    .selectAll()
    .where('interaction_id', '=', interactionId)
    .orderBy('received_at')
    .orderBy('id')
    .execute();
  return attachAttachments(db, rows);
}

/**
 * A message's raw MIME.
 * @throws PosternError RESOURCE_NOT_FOUND; MESSAGE_ORIGINAL_EXPIRED when the retention sweep removed it.
 */
export async function getMessageRaw(db: Database, id: number): Promise<Buffer> {
  const row = await db.kysely.selectFrom('message_raw').select('raw').where('message_id', '=', id).executeTakeFirst();
  if (row !== undefined) return Buffer.from(row.raw);
  const message = await db.kysely
    .selectFrom('messages')
    .select('original_removed_at')
    .where('id', '=', id)
    .executeTakeFirst();
  if (message === undefined || message.original_removed_at === null) throw messageNotFound(id);
  throw originalExpired(id, message.original_removed_at);
}

/**
 * An attachment of a message, with its content or the position of its bytes in the raw MIME (see
 * {@link StoredAttachment}). @throws PosternError RESOURCE_NOT_FOUND
 */
export async function getStoredAttachment(
  db: Database,
  messageId: number,
  attachmentId: number,
): Promise<StoredAttachment> {
  const row = await db.kysely
    .selectFrom('attachments')
    .selectAll()
    .where('id', '=', attachmentId)
    .where('message_id', '=', messageId)
    .executeTakeFirst();
  if (row === undefined) {
    throw new PosternError('RESOURCE_NOT_FOUND', {
      message: `Message ${messageId} has no attachment ${attachmentId}.`,
      details: { resource: 'attachment', id: attachmentId, messageId },
    });
  }
  if (row.removed_at !== null) throw originalExpired(messageId, row.removed_at, attachmentId);
  const meta = toAttachmentMeta(row);
  return row.raw_part === null ? { ...meta, content: Buffer.from(row.content) } : { ...meta, rawPart: row.raw_part };
}

/** How many messages an account holds (for tests and health checks). */
export async function countAccountMessages(db: Database, accountId: number): Promise<number> {
  const row = await db.kysely
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number>().as('total'))
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  return Number(row.total);
}

function selectKeys(db: Database) {
  return db.kysely
    .selectFrom('messages')
    .select([
      'id',
      'interaction_id',
      'message_id',
      'folder',
      'uidvalidity',
      'uid',
      'raw_size',
      'subject',
      'header_date',
      'text_body',
      'html_body',
    ]);
}

function toMessageKey(
  row: Pick<
    Row<'messages'>,
    | 'id'
    | 'interaction_id'
    | 'message_id'
    | 'folder'
    | 'uidvalidity'
    | 'uid'
    | 'raw_size'
    | 'subject'
    | 'header_date'
    | 'text_body'
    | 'html_body'
  >,
): MessageKey {
  return {
    id: row.id,
    interactionId: row.interaction_id,
    messageId: row.message_id,
    folder: row.folder,
    uidValidity: row.uidvalidity,
    uid: row.uid,
    rawSize: row.raw_size,
    subject: row.subject,
    headerDate: row.header_date,
    text: row.text_body,
    html: row.html_body,
  };
}

async function attachAttachments(db: Database, rows: readonly Row<'messages'>[]): Promise<MessageRecord[]> {
  if (rows.length === 0) return [];
  const attachmentRows = await db.kysely
    .selectFrom('attachments')
    .select(['id', 'message_id', 'filename', 'content_type', 'size', 'content_id', 'inline', 'sha256', 'removed_at'])
    .where(
      'message_id',
      'in',
      rows.map((row) => row.id),
    )
    .orderBy('message_id')
    .orderBy('id')
    .execute();
  const byMessage = new Map<number, AttachmentMeta[]>();
  for (const attachment of attachmentRows) {
    byMessage.set(attachment.message_id, [
      ...(byMessage.get(attachment.message_id) ?? []),
      toAttachmentMeta(attachment),
    ]);
  }
  return rows.map((row) => toMessageRecord(row, byMessage.get(row.id) ?? []));
}

function toAttachmentMeta(row: Omit<Row<'attachments'>, 'content' | 'raw_part'>): AttachmentMeta {
  return {
    id: row.id,
    messageId: row.message_id,
    filename: row.filename,
    contentType: row.content_type,
    size: row.size,
    contentId: row.content_id,
    inline: row.inline === 1,
    sha256: row.sha256,
    removed: row.removed_at !== null,
  };
}

function toMessageRecord(row: Row<'messages'>, attachments: AttachmentMeta[]): MessageRecord {
  const where = (column: string): string => `messages.${column} of message ${row.id}`;
  return {
    id: row.id,
    accountId: row.account_id,
    interactionId: row.interaction_id,
    direction: row.direction,
    messageId: row.message_id,
    inReplyTo: row.in_reply_to,
    references: fromJsonText(row.references_json, idList, where('references_json')),
    from: fromJsonText(row.from_json, addressList, where('from_json')),
    to: fromJsonText(row.to_json, addressList, where('to_json')),
    cc: fromJsonText(row.cc_json, addressList, where('cc_json')),
    bcc: fromJsonText(row.bcc_json, addressList, where('bcc_json')),
    replyTo: fromJsonText(row.reply_to_json, addressList, where('reply_to_json')),
    subject: row.subject,
    text: row.text_body,
    html: row.html_body,
    headerDate: row.header_date,
    isAutoReply: row.is_auto_reply === 1,
    isBounce: row.is_bounce === 1,
    isList: row.is_list === 1,
    isJunk: row.is_junk === 1,
    isRead: row.is_read === 1,
    hasAttachments: row.has_attachments === 1,
    folder: row.folder,
    uidValidity: row.uidvalidity,
    uid: row.uid,
    rawSize: row.raw_size,
    deliveryState: row.delivery_state,
    deliveryError: row.delivery_error,
    authorUserId: row.author_user_id,
    bounces: readBounces(row.bounces_json),
    receivedAt: row.received_at,
    createdAt: row.created_at,
    originalRemovedAt: row.original_removed_at,
    attachments,
  };
}

/** The original of a message (or the attachment named) went with the account's retention. */
function originalExpired(messageId: number, removedAt: Timestamp, attachmentId?: number): PosternError {
  const what =
    attachmentId === undefined
      ? `The original of message ${messageId}`
      : `Attachment ${attachmentId} of message ${messageId}`;
  return new PosternError('MESSAGE_ORIGINAL_EXPIRED', {
    message: `${what} was removed on ${removedAt} after the account's retention period; the conversation's text is kept.`,
    details: {
      resource: attachmentId === undefined ? 'message' : 'attachment',
      messageId,
      ...(attachmentId === undefined ? {} : { attachmentId }),
      removedAt,
    },
  });
}

function messageNotFound(id: number): PosternError {
  return new PosternError('RESOURCE_NOT_FOUND', {
    message: `There is no message ${id}.`,
    details: { resource: 'message', id },
  });
}
