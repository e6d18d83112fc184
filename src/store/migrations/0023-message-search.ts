/**
 * The full-text index of messages (see store/message-search.ts): an FTS5 table on SQLite, a
 * `tsvector` table with a GIN index on PostgreSQL, and the documents of every message already
 * stored, written in batches by id so that memory stays flat however large the store is. On
 * PostgreSQL the GIN index is built once the rows are in, which is faster than growing it row by
 * row. The run is one transaction (see migrations/index.ts): it is all there or not at all.
 */
import { sql, type Kysely } from 'kysely';
import { buildSearchDocument, type SearchAddress } from '../../domain/search-query.js';
import type { Engine } from '../database-url.js';
import { insertSearchDocuments } from '../message-search.js';
import type { PosternMigration } from './migration.js';

/** Messages read and indexed per batch. */
const BATCH = 500;

export const messageSearchMigration: PosternMigration = {
  name: '0023-message-search',
  async up(db, kit) {
    if (kit.engine === 'sqlite') {
      await sql`create virtual table message_search using fts5(subject, sender, recipients, body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')`.execute(
        db,
      );
      await sql`create trigger message_search_delete after delete on messages begin delete from message_search where rowid = old.id; end`.execute(
        db,
      );
    } else {
      await sql`create table message_search (message_id integer primary key references messages(id) on delete cascade, document tsvector not null)`.execute(
        db,
      );
    }
    await indexStoredMessages(db, kit.engine);
    if (kit.engine === 'postgres') {
      await sql`create index message_search_document_idx on message_search using gin (document)`.execute(db);
    }
  },
  async down(db, kit) {
    if (kit.engine === 'sqlite') await sql`drop trigger if exists message_search_delete`.execute(db);
    await sql`drop table if exists message_search`.execute(db);
  },
};

interface MessageRow {
  id: number;
  interaction_id: number;
  subject: string;
  text_body: string | null;
  from_json: string;
  to_json: string;
  cc_json: string;
}

async function indexStoredMessages(db: Kysely<unknown>, engine: Engine): Promise<void> {
  let after = 0;
  for (;;) {
    const { rows } =
      await sql<MessageRow>`select id, interaction_id, subject, text_body, from_json, to_json, cc_json from messages where id > ${after} order by id limit ${BATCH}`.execute(
        db,
      );
    const last = rows.at(-1);
    if (last === undefined) return;
    const ids = rows.map((row) => Number(row.id));
    const { rows: files } = await sql<{
      message_id: number;
      filename: string | null;
    }>`select message_id, filename from attachments where message_id in (${sql.join(ids)}) order by id`.execute(db);
    const names = new Map<number, (string | null)[]>();
    for (const file of files) {
      const id = Number(file.message_id);
      names.set(id, [...(names.get(id) ?? []), file.filename]);
    }
    await insertSearchDocuments(
      db,
      engine,
      rows.map((row) => ({
        messageId: Number(row.id),
        interactionId: Number(row.interaction_id),
        document: buildSearchDocument({
          subject: row.subject,
          text: row.text_body,
          from: addresses(row.from_json),
          to: addresses(row.to_json),
          cc: addresses(row.cc_json),
          attachmentNames: names.get(Number(row.id)) ?? [],
        }),
      })),
      // The tables as this migration makes them: `message_subjects` comes with 0036.
      false,
    );
    after = Number(last.id);
  }
}

/** The addresses of a stored JSON column; anything unreadable indexes nothing rather than failing. */
function addresses(json: string): SearchAddress[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const name = 'name' in entry && typeof entry.name === 'string' ? entry.name : '';
    const address = 'address' in entry && typeof entry.address === 'string' ? entry.address : '';
    return [{ name, address }];
  });
}
