/**
 * The writes of a group commit that nothing inside the group reads back — each message's raw
 * MIME, attachment metadata, search document and events — gathered while the group's messages
 * are stored and written at the end of its transaction with one statement per table (per chunk)
 * instead of one per message each. The rows that the group does read back (the message itself,
 * its conversation, its contact) are still written as each message is stored.
 *
 * On PostgreSQL every statement is a round trip to the server: the 2,000-message benchmark
 * mailbox made about ten per message, and this saves four to five of them. On SQLite it saves
 * the statements' preparation. Nothing changes in what is stored, nor in its atomicity: the
 * group's transaction holds all of it.
 */
import type { Database } from './database.js';
import { appendEvents, type NewEvent } from './events.js';
import { insertSearchDocuments, type IndexedMessage } from './message-search.js';
import type { NewRow } from './schema.js';

/** Rows of raw MIME per INSERT, and their bytes: one statement stays a bounded protocol message. */
const RAWS_PER_INSERT = 100;
const RAW_BYTES_PER_INSERT = 16 * 1_048_576;
/** Rows per INSERT of attachments (10 parameters each) and of search documents. */
const ROWS_PER_INSERT = 200;

/** See the module comment. One per transaction; {@link flush} writes and empties it. */
export class GroupWrites {
  #raws: Array<{ message_id: number; raw: Buffer }> = [];
  #attachments: Array<NewRow<'attachments'>> = [];
  #documents: IndexedMessage[] = [];
  #events: NewEvent[] = [];

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

  /** Writes everything gathered, in the caller's transaction, and empties the group. */
  async flush(tx: Database): Promise<void> {
    const raws = this.#raws;
    const attachments = this.#attachments;
    const documents = this.#documents;
    const events = this.#events;
    this.#raws = [];
    this.#attachments = [];
    this.#documents = [];
    this.#events = [];
    for (const chunk of rawChunks(raws)) await tx.kysely.insertInto('message_raw').values(chunk).execute();
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

function* rawChunks<T extends { raw: Buffer }>(rows: readonly T[]): Generator<T[]> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const row of rows) {
    if (chunk.length > 0 && (chunk.length === RAWS_PER_INSERT || bytes + row.raw.length > RAW_BYTES_PER_INSERT)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(row);
    bytes += row.raw.length;
  }
  if (chunk.length > 0) yield chunk;
}
