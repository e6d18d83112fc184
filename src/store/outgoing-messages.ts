/**
 * Outgoing messages: stored like inbound ones (row, raw MIME, attachments) with direction `out`
 * and a delivery state, in the interaction they answer. The raw MIME is the exact message that is
 * submitted, so what Postern shows is what the recipient got.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4 (Message-ID, In-Reply-To, References)
 */
import { buildSearchDocument } from '../domain/search-query.js';
import type { Database } from './database.js';
import { toJsonText } from './json-column.js';
import { insertSearchDocuments } from './message-search.js';
import type { NewAttachment, StoredAddress } from './messages.js';
import { toDbTime } from './time.js';

/** What storing an outgoing message needs. */
export interface NewOutgoingMessage {
  readonly accountId: number;
  readonly interactionId: number;
  /** Canonical `<left@right>`, on the account's domain. */
  readonly messageId: string;
  readonly inReplyTo: string | null;
  readonly references: readonly string[];
  readonly from: StoredAddress;
  readonly to: readonly StoredAddress[];
  readonly cc: readonly StoredAddress[];
  readonly bcc: readonly StoredAddress[];
  readonly replyTo: readonly StoredAddress[];
  readonly subject: string;
  readonly text: string | null;
  readonly html: string | null;
  readonly date: Date;
  readonly authorUserId: number | null;
  readonly isAutoReply: boolean;
  readonly attachments: readonly NewAttachment[];
}

const ATTACHMENT_BATCH = 100;

/**
 * Inserts an outgoing message (state `queued`) with its raw MIME, attachments and search document
 * (store/message-search.ts), in one transaction (the caller's, when it runs one); returns its id.
 */
export async function insertOutgoingMessage(db: Database, message: NewOutgoingMessage, raw: Buffer): Promise<number> {
  return db.transaction((tx) => insertOutgoingRows(tx, message, raw));
}

async function insertOutgoingRows(db: Database, message: NewOutgoingMessage, raw: Buffer): Promise<number> {
  const at = toDbTime(message.date);
  const row = await db.kysely
    .insertInto('messages')
    .values({
      account_id: message.accountId,
      interaction_id: message.interactionId,
      direction: 'out',
      message_id: message.messageId,
      in_reply_to: message.inReplyTo,
      references_json: toJsonText(message.references),
      from_json: toJsonText([message.from]),
      to_json: toJsonText(message.to),
      cc_json: toJsonText(message.cc),
      bcc_json: toJsonText(message.bcc),
      reply_to_json: toJsonText(message.replyTo),
      subject: message.subject,
      text_body: message.text,
      html_body: message.html,
      header_date: at,
      is_auto_reply: message.isAutoReply ? 1 : 0,
      is_read: 1,
      has_attachments: message.attachments.some((attachment) => !attachment.inline) ? 1 : 0,
      raw_size: raw.length,
      author_user_id: message.authorUserId,
      delivery_state: 'queued',
      received_at: at,
      created_at: at,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.kysely.insertInto('message_raw').values({ message_id: row.id, raw }).execute();
  for (let start = 0; start < message.attachments.length; start += ATTACHMENT_BATCH) {
    await db.kysely
      .insertInto('attachments')
      .values(
        message.attachments.slice(start, start + ATTACHMENT_BATCH).map((attachment) => ({
          message_id: row.id,
          filename: attachment.filename,
          content_type: attachment.contentType,
          size: attachment.size,
          content_id: attachment.contentId,
          inline: attachment.inline ? 1 : 0,
          sha256: attachment.sha256,
          content: attachment.content,
        })),
      )
      .execute();
  }
  await insertSearchDocuments(db.kysely, db.engine, [
    {
      messageId: row.id,
      interactionId: message.interactionId,
      document: buildSearchDocument({
        ...message,
        from: [message.from],
        attachmentNames: message.attachments.map((attachment) => attachment.filename),
      }),
    },
  ]);
  return row.id;
}

/** The latest message of a conversation (the one a reply answers by default), if any. */
export async function findLatestMessage(
  db: Database,
  interactionId: number,
  direction?: 'in' | 'out',
): Promise<number | undefined> {
  let query = db.kysely.selectFrom('messages').select('id').where('interaction_id', '=', interactionId);
  if (direction !== undefined) query = query.where('direction', '=', direction);
  const row = await query.orderBy('received_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row?.id;
}
