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
 * The condition on `interactions` that a search sets: one of the conversation's messages matches
 * every term (and has an attachment, when asked), and the conversation has every reference given.
 */
export function interactionSearchCondition(engine: Engine, query: SearchQuery): Expression<SqlBool> {
  const parts: RawBuilder<SqlBool>[] = [];
  if (query.references.length > 0) {
    parts.push(sql<SqlBool>`interactions.subject_token in (${sql.join(query.references.map((r) => sql`${r}`))})`);
  }
  const attachment = query.hasAttachment ? sql` and m.has_attachments = 1` : sql``;
  if (query.terms.length > 0) {
    parts.push(
      engine === 'sqlite'
        ? sql<SqlBool>`interactions.id in (select m.interaction_id from messages m where m.id in (select rowid from message_search where message_search match ${toFtsMatch(query.terms)})${attachment})`
        : sql<SqlBool>`interactions.id in (select m.interaction_id from message_search s join messages m on m.id = s.message_id where s.document @@ ${toTsQuery(query.terms)}::tsquery${attachment})`,
    );
  } else if (query.hasAttachment) {
    parts.push(sql<SqlBool>`interactions.id in (select m.interaction_id from messages m where m.has_attachments = 1)`);
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
