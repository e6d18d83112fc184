/**
 * The writes of a group commit, gathered while the group's messages are stored and written at the
 * end of its transaction with one statement per table (per chunk) instead of one per message
 * each: the new senders' contacts, the new conversations and the messages themselves (with ids
 * drawn ahead, store/row-ids.ts),
 * the activity of the conversations the group adds to, then each message's raw MIME, attachment
 * metadata, search document and events.
 *
 * On PostgreSQL every statement is a round trip to the server: the 2,000-message benchmark
 * mailbox made about ten per message, then three, and a handful per group of 50 with this. On
 * SQLite it saves the statements. Nothing changes in what is stored, nor in its atomicity: the
 * group's transaction holds all of it. A caller that reads messages or conversations back in the
 * middle of the group (a message that may be stored already, a bounce's report) writes the rows
 * gathered so far first ({@link GroupWrites.flushRows}), so that it reads what a message-by-message
 * ingest would have read.
 *
 * A row that meets a unique key already taken (another writer stored the same message, at the
 * same position or with the same Message-ID, or saved the same new sender, since the group
 * looked) makes the flush throw
 * {@link GroupWriteRaced}: the caller rolls the group back and runs it again, and finds it then.
 */
import { insertSenderContacts, type DrawnSenderContact } from './contacts.js';
import type { Database } from './database.js';
import { appendEvents, type NewEvent } from './events.js';
import { recordInteractionActivities, type InteractionActivity } from './interactions.js';
import { insertSearchDocuments, type IndexedMessage } from './message-search.js';
import { RowIds } from './row-ids.js';
import type { NewRow } from './schema.js';

/** Rows of raw MIME per INSERT, and their bytes: one statement stays a bounded protocol message. */
const RAWS_PER_INSERT = 100;
const RAW_BYTES_PER_INSERT = 16 * 1_048_576;
/** Message rows per INSERT (about 30 parameters each; their bodies are counted in bytes as well). */
const MESSAGES_PER_INSERT = 100;
/** Rows per INSERT of attachments (10 parameters each), search documents and conversations. */
const ROWS_PER_INSERT = 200;

/** A message row with the id drawn for it. */
export type DrawnMessageRow = NewRow<'messages'> & { readonly id: number };
/** A conversation row with the id drawn for it. */
export type DrawnInteractionRow = NewRow<'interactions'> & { readonly id: number };

/** A message of the group met a message another writer stored meanwhile: run the group again. */
export class GroupWriteRaced extends Error {
  constructor() {
    super("another writer stored one of the group's messages since the group looked; the group runs again");
    this.name = 'GroupWriteRaced';
  }
}

/** See the module comment. One per transaction; {@link flush} writes and empties it. */
export class GroupWrites {
  /** Ids drawn ahead for this transaction's new rows. */
  readonly ids = new RowIds();
  #contacts: DrawnSenderContact[] = [];
  /** New conversations not written yet, by id: a later message of the group still counts in them. */
  #interactions = new Map<number, { -readonly [K in keyof DrawnInteractionRow]: DrawnInteractionRow[K] }>();
  #messages: DrawnMessageRow[] = [];
  #activity = new Map<number, InteractionActivity>();
  #raws: Array<{ message_id: number; raw: Buffer }> = [];
  #attachments: Array<NewRow<'attachments'>> = [];
  #documents: IndexedMessage[] = [];
  #events: NewEvent[] = [];

  /** A new sender's contact. */
  addContact(contact: DrawnSenderContact): void {
    this.#contacts.push(contact);
  }

  /** A new conversation (its first message already counted in the row). */
  addInteraction(row: DrawnInteractionRow): void {
    this.#interactions.set(row.id, { ...row });
  }

  /**
   * One more message in a conversation: counted in the row of a new one not written yet, else
   * gathered with the group's other messages for that conversation (see recordInteractionActivities).
   * `at` is a stored timestamp (ISO-8601 text, which compares as the time does).
   */
  addActivity(
    interactionId: number,
    activity: { readonly at: string; readonly unread: boolean; readonly reopen: boolean },
  ): void {
    const unread = activity.unread ? 1 : 0;
    const pending = this.#interactions.get(interactionId);
    if (pending !== undefined) {
      pending.message_count = (pending.message_count ?? 0) + 1;
      pending.unread_count = (pending.unread_count ?? 0) + unread;
      if (pending.last_activity_at < activity.at) pending.last_activity_at = activity.at;
      return;
    }
    const known = this.#activity.get(interactionId);
    this.#activity.set(
      interactionId,
      known === undefined
        ? { id: interactionId, messages: 1, unread, at: activity.at, reopen: activity.reopen }
        : {
            id: interactionId,
            messages: known.messages + 1,
            unread: known.unread + unread,
            at: known.at < activity.at ? activity.at : known.at,
            reopen: known.reopen || activity.reopen,
          },
    );
  }

  addMessage(row: DrawnMessageRow): void {
    this.#messages.push(row);
  }

  addRaw(messageId: number, raw: Buffer): void {
    this.#raws.push({ message_id: messageId, raw });
  }

  addAttachments(rows: ReadonlyArray<NewRow<'attachments'>>): void {
    this.#attachments.push(...rows);
  }

  addSearchDocument(document: IndexedMessage): void {
    this.#documents.push(document);
  }

  /** Events keep the order in which they were added (ascending ids). */
  addEvent(event: NewEvent): void {
    this.#events.push(event);
  }

  /**
   * Writes the contacts, conversations and messages gathered so far, so that the transaction can
   * read them.
   * @throws GroupWriteRaced (see the module comment)
   */
  async flushRows(tx: Database): Promise<void> {
    const contacts = this.#contacts;
    this.#contacts = [];
    for (let start = 0; start < contacts.length; start += ROWS_PER_INSERT)
      if (!(await insertSenderContacts(tx, contacts.slice(start, start + ROWS_PER_INSERT))))
        throw new GroupWriteRaced();
    const interactions = [...this.#interactions.values()];
    const messages = this.#messages;
    this.#interactions = new Map();
    this.#messages = [];
    for (let start = 0; start < interactions.length; start += ROWS_PER_INSERT)
      await tx.kysely
        .insertInto('interactions')
        .values(interactions.slice(start, start + ROWS_PER_INSERT))
        .execute();
    for (const chunk of chunks(messages, MESSAGES_PER_INSERT, RAW_BYTES_PER_INSERT, messageBytes)) {
      const inserted = await tx.kysely
        .insertInto('messages')
        .values(chunk)
        .onConflict((conflict) => conflict.doNothing())
        .returning('id')
        .execute();
      if (inserted.length !== chunk.length) throw new GroupWriteRaced();
    }
  }

  /** Writes everything gathered, in the caller's transaction, and empties the group. */
  async flush(tx: Database): Promise<void> {
    await this.flushRows(tx);
    const activity = [...this.#activity.values()];
    const raws = this.#raws;
    const attachments = this.#attachments;
    const documents = this.#documents;
    const events = this.#events;
    this.#activity = new Map();
    this.#raws = [];
    this.#attachments = [];
    this.#documents = [];
    this.#events = [];
    for (let start = 0; start < activity.length; start += ROWS_PER_INSERT)
      await recordInteractionActivities(tx, activity.slice(start, start + ROWS_PER_INSERT));
    for (const chunk of chunks(raws, RAWS_PER_INSERT, RAW_BYTES_PER_INSERT, (row) => row.raw.length))
      await tx.kysely.insertInto('message_raw').values(chunk).execute();
    for (let start = 0; start < attachments.length; start += ROWS_PER_INSERT)
      await tx.kysely
        .insertInto('attachments')
        .values(attachments.slice(start, start + ROWS_PER_INSERT))
        .execute();
    for (let start = 0; start < documents.length; start += ROWS_PER_INSERT)
      await insertSearchDocuments(tx.kysely, tx.engine, documents.slice(start, start + ROWS_PER_INSERT));
    await appendEvents(tx, events);
  }
}

/** The bytes a message row carries in its bodies (characters, near enough for a bound). */
function messageBytes(row: DrawnMessageRow): number {
  return (row.text_body?.length ?? 0) + (row.html_body?.length ?? 0);
}

/** Consecutive chunks of at most `count` rows and about `bytes` bytes (a larger row goes alone). */
function* chunks<T>(rows: readonly T[], count: number, bytes: number, sizeOf: (row: T) => number): Generator<T[]> {
  let chunk: T[] = [];
  let size = 0;
  for (const row of rows) {
    const rowSize = sizeOf(row);
    if (chunk.length > 0 && (chunk.length === count || size + rowSize > bytes)) {
      yield chunk;
      chunk = [];
      size = 0;
    }
    chunk.push(row);
    size += rowSize;
  }
  if (chunk.length > 0) yield chunk;
}
