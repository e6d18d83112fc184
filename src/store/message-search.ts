/**
 * The full-text index of messages, one document per message (see domain/search-query.ts for the
 * words and the query syntax), and the condition that finds conversations by it.
 *
 * - SQLite: `message_search`, an FTS5 table without content of its own (`content=''`,
 *   `contentless_delete=1`: the text is already in `messages`), its rowid the message's id, with
 *   the columns subject, sender, recipients and body (body text and attachment names). A trigger
 *   deletes a message's row with the message.
 * - PostgreSQL: `message_search(message_id, document)`, a `tsvector` with a GIN index, the
 *   fields as weights A (subject), B (sender), C (To/Cc) and D (body and attachment names); the
 *   row goes with its message (foreign key, on delete cascade).
 *
 * A message's document is written by the function that stores the message, in its transaction:
 * no message is ever stored without its index row. Documents are never rewritten: nothing that is
 * indexed changes after a message is stored.
 *
 * @see https://www.sqlite.org/fts5.html
 * @see https://www.postgresql.org/docs/current/textsearch-controls.html
 */
import { sql, type Expression, type QueryExecutorProvider, type RawBuilder, type SqlBool } from 'kysely';
import type { SearchDocument, SearchField, SearchQuery, SearchTerm } from '../domain/search-query.js';
import type { Engine } from './database-url.js';

/** SQLite: messages by id with their conversation and attachment flag (migration 0034). */
export const MESSAGE_CONVERSATION_INDEX = 'messages_id_conversation_idx';

/** A message's id and its document. */
export interface IndexedMessage {
  readonly messageId: number;
  readonly document: SearchDocument;
}

const FTS_COLUMN: Record<Exclude<SearchField, 'any'>, string> = {
  subject: 'subject',
  from: 'sender',
  to: 'recipients',
};
const TS_WEIGHT: Record<Exclude<SearchField, 'any'>, string> = { subject: 'A', from: 'B', to: 'C' };

/** Writes the documents of stored messages (in the caller's transaction). */
export async function insertSearchDocuments(
  db: QueryExecutorProvider,
  engine: Engine,
  messages: readonly IndexedMessage[],
): Promise<void> {
  if (messages.length === 0) return;
  if (engine === 'sqlite') {
    const rows = messages.map(
      ({ messageId, document: d }) => sql`(${messageId}, ${d.subject}, ${d.sender}, ${d.recipients}, ${d.body})`,
    );
    await sql`insert into message_search (rowid, subject, sender, recipients, body) values ${sql.join(rows)}`.execute(
      db,
    );
    return;
  }
  const rows = messages.map(
    ({ messageId, document: d }) =>
      sql`(${messageId}, ${tsvector(d.subject, 'A')} || ${tsvector(d.sender, 'B')} || ${tsvector(d.recipients, 'C')} || ${tsvector(d.body, 'D')})`,
  );
  await sql`insert into message_search (message_id, document) values ${sql.join(rows)}`.execute(db);
}

function tsvector(words: string, weight: string): RawBuilder<unknown> {
  // The words are normalised already: the 'simple' configuration only splits them at spaces.
  return sql`setweight(to_tsvector('simple', ${words}::text), ${sql.lit(weight)})`;
}

/**
 * How a search is answered on SQLite:
 *
 * - `sparse`: the matching messages are collected first (FTS5 lists them without reading a row;
 *   their conversations are read from a narrow index, migration 0034), then their conversations
 *   sorted. Its cost grows with the number of matching messages.
 * - `dense`: the account's conversations are walked newest first (the list's own index) and each
 *   is checked for a matching message (FTS5 seeks each message's id in the terms' lists) until
 *   the page is full. Its cost grows with the number of conversations walked: cheap when most of
 *   them match, very slow when few do.
 *
 * A query is `dense` when at least {@link DENSE_SEARCH_HITS} messages match it (counted by FTS5
 * alone, stopping there) and it has no prefix term: FTS5 merges the lists of every word a prefix
 * stands for each time it is asked, so checking one message against a prefix costs as much as
 * listing all of them. Both shapes give the same rows in the same order (see "A million
 * messages" in docs/PERFORMANCE.md). PostgreSQL's planner makes this choice itself from its
 * statistics on the `tsvector` column, so it is always given the semi-join form.
 */
export type SearchShape = 'sparse' | 'dense';

/** Matching messages from which a SQLite search walks the conversations (see {@link SearchShape}). */
export const DENSE_SEARCH_HITS = 15_000;

/** The shape of `query`'s search on this engine (one counting query on SQLite, at most). */
export async function searchShape(db: QueryExecutorProvider, engine: Engine, query: SearchQuery): Promise<SearchShape> {
  if (engine === 'postgres') return 'dense';
  if (query.terms.some((term) => term.prefix)) return 'sparse';
  if (query.terms.length === 0 && !query.hasAttachment) return 'sparse';
  const hits =
    query.terms.length > 0
      ? sql<{
          n: number;
        }>`select count(*) as n from (select rowid from message_search where message_search match ${toFtsMatch(query.terms)} limit ${DENSE_SEARCH_HITS})`
      : sql<{
          n: number;
        }>`select count(*) as n from (select interaction_id from messages where has_attachments = 1 limit ${DENSE_SEARCH_HITS})`;
  const { rows } = await hits.execute(db);
  return Number(rows[0]?.n ?? 0) >= DENSE_SEARCH_HITS ? 'dense' : 'sparse';
}

/**
 * The condition on `interactions` that a search sets: one of the conversation's messages matches
 * every term (and has an attachment, when asked), and the conversation has every reference given.
 */
export function interactionSearchCondition(
  engine: Engine,
  query: SearchQuery,
  shape: SearchShape = 'sparse',
): Expression<SqlBool> {
  const parts: RawBuilder<SqlBool>[] = [];
  if (query.references.length > 0) {
    parts.push(sql<SqlBool>`interactions.subject_token in (${sql.join(query.references.map((r) => sql`${r}`))})`);
  }
  const attachment = query.hasAttachment ? sql` and m.has_attachments = 1` : sql``;
  if (query.terms.length > 0) {
    if (engine === 'postgres') {
      // A semi-join the planner runs either way round (see SearchShape).
      parts.push(
        sql<SqlBool>`exists (select 1 from messages m join message_search s on s.message_id = m.id where m.interaction_id = interactions.id${attachment} and s.document @@ ${toTsQuery(query.terms)}::tsquery)`,
      );
    } else if (shape === 'dense') {
      // CROSS JOIN keeps the conversation's messages outside: FTS5 is asked about one rowid at a time.
      parts.push(
        sql<SqlBool>`exists (select 1 from messages m cross join message_search where m.interaction_id = interactions.id${attachment} and message_search.rowid = m.id and message_search match ${toFtsMatch(query.terms)})`,
      );
    } else {
      parts.push(
        // INDEXED BY: the narrow index gives each message's conversation without reading the row.
        sql<SqlBool>`interactions.id in (select m.interaction_id from messages m indexed by ${sql.raw(MESSAGE_CONVERSATION_INDEX)} where m.id in (select rowid from message_search where message_search match ${toFtsMatch(query.terms)})${attachment})`,
      );
    }
  } else if (query.hasAttachment) {
    parts.push(
      engine === 'postgres' || shape === 'dense'
        ? sql<SqlBool>`exists (select 1 from messages m where m.interaction_id = interactions.id and m.has_attachments = 1)`
        : sql<SqlBool>`interactions.id in (select m.interaction_id from messages m where m.has_attachments = 1)`,
    );
  }
  if (parts.length === 0) return sql<SqlBool>`1 = 1`;
  return sql<SqlBool>`(${sql.join(parts, sql` and `)})`;
}

/**
 * An FTS5 MATCH expression: each term a quoted phrase (the words hold only letters and digits, so
 * nothing in them is FTS5 syntax), with its column filter and prefix star.
 * @see https://www.sqlite.org/fts5.html#full_text_query_syntax
 */
export function toFtsMatch(terms: readonly SearchTerm[]): string {
  return terms
    .map((term) => {
      const column = term.field === 'any' ? '' : `${FTS_COLUMN[term.field]} : `;
      return `${column}"${term.words.join(' ')}"${term.prefix ? ' *' : ''}`;
    })
    .join(' AND ');
}

/**
 * A `tsquery` in its text form: words quoted, `<->` between the words of a phrase, the field's
 * weight and `:*` for a prefix, `&` between terms.
 * @see https://www.postgresql.org/docs/current/datatype-textsearch.html#DATATYPE-TSQUERY
 */
export function toTsQuery(terms: readonly SearchTerm[]): string {
  return terms
    .map((term) => {
      const weight = term.field === 'any' ? '' : TS_WEIGHT[term.field];
      const words = term.words.map((word, index) => {
        const star = term.prefix && index === term.words.length - 1 ? '*' : '';
        const label = `${star}${weight}`;
        return `'${word}'${label === '' ? '' : `:${label}`}`;
      });
      return words.length === 1 ? (words[0] ?? '') : `(${words.join(' <-> ')})`;
    })
    .join(' & ');
}
