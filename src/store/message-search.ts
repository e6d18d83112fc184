/**
 * The full-text index of messages, one document per message (see domain/search-query.ts for the
 * words and the query syntax), and the condition that finds conversations by it.
 *
 * - SQLite: `message_search`, an FTS5 table without content of its own (`content=''`,
 *   `contentless_delete=1`: the text is already in `messages`), its rowid the message's id, with
 *   the columns subject, sender, recipients and body (body text and attachment names). A trigger
 *   deletes a message's row with the message. And `interaction_subjects(id, interaction_id,
 *   subject)`, each conversation's distinct subjects, with an FTS5 table of their own
 *   (`interaction_subject_search`), so that `subject:` alone matches a conversation once per
 *   subject instead of once per message (migration 0037).
 * - PostgreSQL: `message_search(message_id, document)`, a `tsvector` with a GIN index, the
 *   fields as weights A (subject), B (sender), C (To/Cc) and D (body and attachment names); and
 *   `message_subjects(message_id, interaction_id, subject)`, the subject's words again with
 *   their own GIN index and the message's conversation, so that `subject:` needs no weight
 *   checked against the whole document (migration 0036; no row for an empty subject); and
 *   `message_phrases(message_id, pairs)`, each pair of neighbouring words of a field as one
 *   lexeme (`'floor three'`), with a GIN index, so that a phrase's candidates are the messages
 *   that hold its pairs rather than every message holding its words (migration 0038; see
 *   {@link phrasePairs}). Rows go with their message (foreign key, on delete cascade).
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
import type { Database } from './database.js';
import { estimatedHits, wordStatistics, type WordStatistics } from './search-statistics.js';

/**
 * Messages by id with their conversation and attachment flag (SQLite, migration 0034), and their
 * account (PostgreSQL, an index-only scan's columns, migration 0039).
 */
export const MESSAGE_CONVERSATION_INDEX = 'messages_id_conversation_idx';

/** A message's id, its conversation's and its document. */
export interface IndexedMessage {
  readonly messageId: number;
  readonly interactionId: number;
  readonly document: SearchDocument;
}

const FTS_COLUMN: Record<Exclude<SearchField, 'any'>, string> = {
  subject: 'subject',
  from: 'sender',
  to: 'recipients',
};
const TS_WEIGHT: Record<Exclude<SearchField, 'any'>, string> = { subject: 'A', from: 'B', to: 'C' };

/**
 * PostgreSQL: the most characters of pairs a message's `message_phrases` row holds (its words
 * and a space each); a document with more is marked {@link PAIRS_CUT} instead. Kept well under
 * the 1 MB a `tsvector` may hold, whatever the document's own size.
 */
export const PHRASE_PAIRS_CAP = 50_000;

/**
 * PostgreSQL: the one lexeme of a document whose pairs were not written (over
 * {@link PHRASE_PAIRS_CAP}, or positions PostgreSQL no longer keeps): every phrase query lets
 * it through to the check of positions. No word holds `#`, no pair is one word.
 */
export const PAIRS_CUT = '#cut';

/**
 * PostgreSQL: a document's pairs of neighbouring words, each field apart (a phrase does not run
 * from the subject into the sender, as on SQLite, whose phrases stay within a column), without
 * repeats; or [{@link PAIRS_CUT}] when they would exceed {@link PHRASE_PAIRS_CAP} characters.
 * Empty for a document without two words in one field: it holds no phrase.
 */
function phrasePairs(document: SearchDocument): string[] {
  const pairs = new Set<string>();
  let length = 0;
  for (const field of [document.subject, document.sender, document.recipients, document.body]) {
    let previous: string | undefined;
    for (const word of field.split(' ')) {
      if (word === '') continue;
      if (previous !== undefined) {
        const pair = `${previous} ${word}`;
        if (!pairs.has(pair)) {
          pairs.add(pair);
          length += pair.length;
          if (length > PHRASE_PAIRS_CAP) return [PAIRS_CUT];
        }
      }
      previous = word;
    }
  }
  return [...pairs];
}

/**
 * Writes the documents of stored messages (in the caller's transaction), and their subjects
 * (PostgreSQL: `message_subjects`; SQLite: the conversations' `interaction_subjects`) and, on
 * PostgreSQL, their phrases' pairs (`message_phrases`). `laterTables` false: the tables as
 * migration 0023 left them, before 0036, 0037 and 0038.
 */
export async function insertSearchDocuments(
  db: QueryExecutorProvider,
  engine: Engine,
  messages: readonly IndexedMessage[],
  laterTables = true,
): Promise<void> {
  if (messages.length === 0) return;
  if (engine === 'sqlite') {
    const rows = messages.map(
      ({ messageId, document: d }) => sql`(${messageId}, ${d.subject}, ${d.sender}, ${d.recipients}, ${d.body})`,
    );
    await sql`insert into message_search (rowid, subject, sender, recipients, body) values ${sql.join(rows)}`.execute(
      db,
    );
    if (!laterTables) return;
    const distinct = new Map<string, RawBuilder<unknown>>();
    for (const { interactionId, document: d } of messages) {
      if (d.subject !== '') distinct.set(`${interactionId} ${d.subject}`, sql`(${interactionId}, ${d.subject})`);
    }
    if (distinct.size === 0) return;
    // Most are there already: a conversation's replies keep its subject.
    await sql`insert or ignore into interaction_subjects (interaction_id, subject) values ${sql.join([...distinct.values()])}`.execute(
      db,
    );
    return;
  }
  const rows = messages.map(
    ({ messageId, document: d }) =>
      sql`(${messageId}, ${tsvector(d.subject, 'A')} || ${tsvector(d.sender, 'B')} || ${tsvector(d.recipients, 'C')} || ${tsvector(d.body, 'D')})`,
  );
  await sql`insert into message_search (message_id, document) values ${sql.join(rows)}`.execute(db);
  if (!laterTables) return;
  const subjects = messages.filter(({ document: d }) => d.subject !== '');
  if (subjects.length > 0) {
    await sql`insert into message_subjects (message_id, interaction_id, subject) values ${sql.join(
      subjects.map(
        ({ messageId, interactionId, document: d }) =>
          sql`(${messageId}, ${interactionId}, ${tsvector(d.subject, 'A')})`,
      ),
    )}`.execute(db);
  }
  const phrases = messages.flatMap(({ messageId, document }) => {
    const pairs = phrasePairs(document);
    // One string rather than a text[] parameter: the driver escapes each element of an array and
    // the server parses them back, about a fifth of the pairs' cost for nothing (no word holds a comma).
    return pairs.length === 0
      ? []
      : [sql`(${messageId}, array_to_tsvector(string_to_array(${pairs.join(',')}::text, ',')))`];
  });
  if (phrases.length === 0) return;
  await sql`insert into message_phrases (message_id, pairs) values ${sql.join(phrases)}`.execute(db);
}

function tsvector(words: string, weight: string): RawBuilder<unknown> {
  // The words are normalised already: the 'simple' configuration only splits them at spaces.
  return sql`setweight(to_tsvector('simple', ${words}::text), ${sql.lit(weight)})`;
}

/**
 * How a search is answered:
 *
 * - `sparse`: the matching messages are collected first (FTS5 lists them without reading a row,
 *   their conversations read from a narrow index, migration 0034; PostgreSQL from the GIN index),
 *   then their conversations sorted. Its cost grows with the number of matching messages.
 * - `dense`: the account's conversations are walked newest first (the list's own index) and each
 *   is checked for a matching message (FTS5 seeks each message's id in the terms' lists) until
 *   the page is full. Its cost grows with the number of conversations walked: cheap when most of
 *   them match, very slow when few do.
 *
 * A query is `dense` when at least {@link DENSE_SEARCH_HITS} (SQLite) or
 * {@link POSTGRES_DENSE_SEARCH_HITS} messages match it, counted by the index alone and stopping
 * there. PostgreSQL's planner, given the semi-join form, walked the conversations for rare terms
 * too (about a second at a million messages), so it is told as SQLite is.
 *
 * The bare last word, which is also a prefix: FTS5 merges the lists of every word a prefix stands
 * for each time it is asked, so checking one message against a prefix costs as much as listing
 * all of them (`the*`: 1.4 s at a million messages), and a prefix is never walked. When the query
 * with its last word taken as typed already matches {@link DENSE_SEARCH_HITS} messages or more,
 * it is searched as typed, and walked: a word that common was typed in full, and what it finds
 * fills any page (`the` no longer also finds a conversation that has `there` but never `the`). A
 * rarer last word stays a prefix. The rule holds on both engines, so that one query finds the same
 * conversations on either. Both shapes give the same rows in the same order (see "A million
 * messages" in docs/PERFORMANCE.md).
 */
export type SearchShape = 'sparse' | 'dense';

/** Matching messages from which a SQLite search walks the conversations (see {@link SearchShape}). */
export const DENSE_SEARCH_HITS = 15_000;

/**
 * Matching messages, in the whole store, from which a PostgreSQL search walks the conversations
 * (see {@link SearchShape}): fewer are all collected, each read with its message's account and
 * conversation.
 */
export const POSTGRES_DENSE_SEARCH_HITS = 15_000;

/**
 * How many times more matching messages a PostgreSQL search of `subject:` words alone collects
 * before it walks: `message_subjects` gives each match's conversation from a narrow row found by
 * its index, with no document checked and no message read.
 */
export const SUBJECT_HITS_FACTOR = 3;

/** A search as it will be asked: its shape, and the query (a common last word no longer a prefix). */
export interface SearchPlan {
  readonly shape: SearchShape;
  readonly query: SearchQuery;
  /**
   * PostgreSQL, `sparse`: the conversations of the matching messages, collected while counting
   * them (those of the accounts searched, when they are given). Asked as a list of ids, the page
   * is read by primary key; asked as a subquery, the planner walked the account's conversations
   * newest first and checked each against it (a second per rare word at a million messages).
   */
  readonly interactionIds?: readonly number[];
  /** PostgreSQL: walked because the statistics say the words are that common, nothing counted. */
  readonly estimated?: true;
}

/**
 * How many times the threshold the statistics must estimate before a search is walked uncounted:
 * they come from a sample, and words of one message are not independent.
 */
export const ESTIMATE_MARGIN = 3;

/**
 * PostgreSQL's `work_mem` for a search's statements. A bare last word is also a prefix, and GIN
 * gathers the messages of a prefix's words in a bitmap of heap pages; past `work_mem` (4 MB by
 * default) the bitmap keeps whole pages instead of rows, and every message of such a page is then
 * read and its document checked. A `message_search` row holds its document, about one row a
 * page, so a common prefix went lossy at a million messages: `brizecin service` checked 10,972
 * documents and read 40,000 buffers (275–743 ms) where, exact, it reads the 4,848 matches' pages
 * (61 ms from buffers). The setting is the ceiling of one bitmap or sort, taken only while it is
 * needed, and only by a search's own transaction (see {@link withSearchMemory}).
 * @see https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-WORK-MEM
 */
export const SEARCH_WORK_MEM = '64MB';

/**
 * Runs a search's statements (its plan and its page) in a transaction of their own with
 * {@link SEARCH_WORK_MEM}, on PostgreSQL; `SET LOCAL` ends with the transaction, so the pool's
 * connections keep the server's default. Inside a caller's transaction it holds until that ends.
 */
export async function withSearchMemory<T>(db: Database, fn: (tx: Database) => Promise<T>): Promise<T> {
  if (db.engine !== 'postgres') return fn(db);
  return db.transaction(async (tx) => {
    await sql`set local work_mem = ${sql.lit(SEARCH_WORK_MEM)}`.execute(tx.kysely);
    return fn(tx);
  });
}

/** The thresholds of {@link planSearch}: matching messages from which a search is walked. */
export interface DenseHits {
  readonly sqlite: number;
  readonly postgres: number;
}

/** What {@link planSearch} may be told besides the query. */
export interface PlanOptions {
  /** The thresholds (tests lower them to see the choice on a small store). */
  readonly dense?: DenseHits;
  /** PostgreSQL: the words' statistics (read from the server when not given). */
  readonly words?: WordStatistics;
  /**
   * The accounts searched. PostgreSQL keeps only their conversations of the matches it collects;
   * the condition on the accounts is the caller's in any case.
   */
  readonly accountIds?: readonly number[];
}

/**
 * How `query` is best answered on this engine: on SQLite one or two counting queries; on
 * PostgreSQL none for words its statistics know as common (see store/search-statistics.ts), else
 * the matches collected, store-wide, up to the threshold — with a common last word counted as
 * typed only when they are more.
 *
 * On PostgreSQL the walk's cost is the accounts searched, not the store: a word in 7,683 of a
 * million messages is in about 800 of one account's 100,000, and walking that account for a page
 * checked 40,000 documents (a second). So a search collects whenever its matches are fewer than
 * the threshold in the whole store, however few of them the accounts hold.
 */
export async function planSearch(
  db: QueryExecutorProvider,
  engine: Engine,
  query: SearchQuery,
  options: PlanOptions = {},
): Promise<SearchPlan> {
  const dense = options.dense ?? { sqlite: DENSE_SEARCH_HITS, postgres: POSTGRES_DENSE_SEARCH_HITS };
  if (query.terms.length === 0) {
    if (!query.hasAttachment) return { shape: 'sparse', query };
    if (engine === 'postgres') return { shape: 'dense', query };
    const { rows } = await sql<{
      n: number;
    }>`select count(*) as n from (select interaction_id from messages where has_attachments = 1 limit ${dense.sqlite})`.execute(
      db,
    );
    return { shape: Number(rows[0]?.n ?? 0) >= dense.sqlite ? 'dense' : 'sparse', query };
  }
  // The same words find the same conversations on both engines: the rule on a common last word
  // holds on PostgreSQL too, though its GIN index answers a prefix without that cost.
  const typed = query.terms.some((term) => term.prefix)
    ? { ...query, terms: query.terms.map((term) => (term.prefix ? { ...term, prefix: false } : term)) }
    : undefined;
  if (engine === 'postgres') return planPostgres(db, query, typed, dense, options);
  const subjects = subjectsOnly(query);
  if (typed !== undefined) {
    if ((await countHits(db, engine, typed.terms, dense.sqlite)) >= dense.sqlite) {
      return subjects ? planSubjects(db, typed, dense.sqlite) : { shape: 'dense', query: typed };
    }
    return { shape: 'sparse', query };
  }
  if (subjects) return planSubjects(db, query, dense.sqlite);
  const hits = await countHits(db, engine, query.terms, dense.sqlite);
  return { shape: hits >= dense.sqlite ? 'dense' : 'sparse', query };
}

/**
 * PostgreSQL's plan (see {@link planSearch}). `typed` is the query with its prefix taken as typed,
 * when it has one. Collecting first and counting the typed words only when the collection is cut
 * gives the rule's answer when the collection stops at the rule's threshold or below: fewer
 * matches of the prefix than that are fewer of the word. `subject:` words collect more, and are
 * counted first.
 */
async function planPostgres(
  db: QueryExecutorProvider,
  query: SearchQuery,
  typed: SearchQuery | undefined,
  dense: DenseHits,
  options: PlanOptions,
): Promise<SearchPlan> {
  const statistics = options.words ?? (await wordStatistics(db));
  const common = (terms: readonly SearchTerm[], limit: number): boolean =>
    estimatedHits(statistics, terms) >= limit * ESTIMATE_MARGIN;
  if (typed !== undefined && common(typed.terms, dense.sqlite))
    return { shape: 'dense', query: typed, estimated: true };
  const subjects = subjectsOnly(query);
  const limit = subjects ? dense.postgres * SUBJECT_HITS_FACTOR : dense.postgres;
  /** The query as typed when its last word is that common (the rule of {@link SearchShape}). */
  const commonTyped = async (): Promise<SearchQuery | undefined> =>
    typed !== undefined && (await countHits(db, 'postgres', typed.terms, dense.sqlite)) >= dense.sqlite
      ? typed
      : undefined;
  // A collection that stops at the rule's threshold or below answers it; one that may go past is counted first.
  const collectionAnswersRule = limit <= dense.sqlite;
  const countedFirst = collectionAnswersRule ? undefined : await commonTyped();
  if (countedFirst !== undefined) return { shape: 'dense', query: countedFirst };
  if (common(query.terms, dense.postgres)) return { shape: 'dense', query, estimated: true };
  const collected = subjects
    ? await collectSubjectHits(db, query.terms, limit)
    : await collectHits(db, query, limit, options.accountIds);
  if (collected !== undefined) return { shape: 'sparse', query, interactionIds: collected };
  return { shape: 'dense', query: (collectionAnswersRule ? await commonTyped() : undefined) ?? query };
}

/**
 * PostgreSQL: the conversations of the messages matching every term (with an attachment, when
 * asked; in `accountIds`, when given), or undefined when `limit` messages or more match in the
 * whole store — counted before either filter, so that a cut-off list is never taken for the whole.
 */
async function collectHits(
  db: QueryExecutorProvider,
  query: SearchQuery,
  limit: number,
  accountIds: readonly number[] | undefined,
): Promise<readonly number[] | undefined> {
  const { rows } = await sql<{
    interaction_id: string | number;
    account_id: string | number;
    has_attachments: number;
  }>`select m.interaction_id, m.account_id, m.has_attachments from (${matchingMessages(query.terms)} limit ${limit}) hits join messages m on m.id = hits.message_id`.execute(
    db,
  );
  if (rows.length >= limit) return undefined;
  const accounts = accountIds === undefined ? undefined : new Set(accountIds);
  const ids = new Set<number>();
  for (const row of rows) {
    if (query.hasAttachment && row.has_attachments !== 1) continue;
    if (accounts !== undefined && !accounts.has(Number(row.account_id))) continue;
    ids.add(Number(row.interaction_id));
  }
  return [...ids];
}

/**
 * PostgreSQL: the conversations whose messages' subjects match every term, or undefined when
 * `limit` messages or more match — read from `message_subjects` alone, which holds each
 * message's conversation.
 */
async function collectSubjectHits(
  db: QueryExecutorProvider,
  terms: readonly SearchTerm[],
  limit: number,
): Promise<readonly number[] | undefined> {
  const { rows } = await sql<{
    interaction_id: string | number;
  }>`select ms.interaction_id from message_subjects ms where ${tsMatch(terms)} limit ${limit}`.execute(db);
  if (rows.length >= limit) return undefined;
  return [...new Set(rows.map((row) => Number(row.interaction_id)))];
}

/**
 * SQLite, `subject:` words alone: walked when `threshold` conversations' subjects
 * (`interaction_subjects`) or more match, counted by their index. A subject word matches every
 * message of a conversation: counted once per subject instead.
 */
async function planSubjects(db: QueryExecutorProvider, query: SearchQuery, threshold: number): Promise<SearchPlan> {
  const { rows } = await sql<{
    n: number;
  }>`select count(*) as n from (select rowid from interaction_subject_search where interaction_subject_search match ${toFtsMatch(query.terms)} limit ${threshold})`.execute(
    db,
  );
  return { shape: Number(rows[0]?.n ?? 0) >= threshold ? 'dense' : 'sparse', query };
}

/** Messages whose documents match every term, counted by the index up to `limit`. */
async function countHits(
  db: QueryExecutorProvider,
  engine: Engine,
  terms: readonly SearchTerm[],
  limit: number,
): Promise<number> {
  const { rows } =
    engine === 'sqlite'
      ? await sql<{
          n: number;
        }>`select count(*) as n from (select rowid from message_search where message_search match ${toFtsMatch(terms)} limit ${limit})`.execute(
          db,
        )
      : await sql<{
          n: string;
        }>`select count(*) as n from (${matchingMessages(terms)} limit ${limit}) hits`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/**
 * The condition on `interactions` that a search sets: one of the conversation's messages matches
 * every term (and has an attachment, when asked), and the conversation has every reference given.
 */
export function interactionSearchCondition(
  engine: Engine,
  query: SearchQuery,
  shape: SearchShape = 'sparse',
  interactionIds?: readonly number[],
): Expression<SqlBool> {
  const parts: RawBuilder<SqlBool>[] = [];
  if (query.references.length > 0) {
    parts.push(sql<SqlBool>`interactions.subject_token in (${sql.join(query.references.map((r) => sql`${r}`))})`);
  }
  const attachment = query.hasAttachment ? sql` and m.has_attachments = 1` : sql``;
  if (query.terms.length > 0) {
    if (engine === 'postgres' && shape === 'dense' && subjectsOnly(query)) {
      // The conversation's subject rows, by their conversation (migration 0036): no message read.
      parts.push(
        sql<SqlBool>`exists (select 1 from message_subjects ms where ms.interaction_id = interactions.id and ${tsMatch(query.terms)})`,
      );
    } else if (engine === 'postgres' && shape === 'dense') {
      parts.push(
        sql<SqlBool>`exists (select 1 from messages m ${tsJoins(query.terms)} where m.interaction_id = interactions.id${attachment} and ${tsMatch(query.terms)})`,
      );
    } else if (engine === 'postgres' && interactionIds !== undefined) {
      parts.push(
        interactionIds.length === 0
          ? sql<SqlBool>`1 = 0`
          : sql<SqlBool>`interactions.id = any(${[...interactionIds]}::bigint[])`,
      );
    } else if (engine === 'postgres') {
      parts.push(
        sql<SqlBool>`interactions.id in (select m.interaction_id from messages m ${tsJoins(query.terms)} where ${tsMatch(query.terms)}${attachment})`,
      );
    } else if (shape === 'dense' && subjectsOnly(query)) {
      // The conversation's own subjects (migration 0037), one FTS5 rowid asked for each.
      parts.push(
        sql<SqlBool>`exists (select 1 from interaction_subjects s cross join interaction_subject_search where s.interaction_id = interactions.id and interaction_subject_search.rowid = s.id and interaction_subject_search match ${toFtsMatch(query.terms)})`,
      );
    } else if (subjectsOnly(query)) {
      // Each matching row is its conversation's: no message read.
      parts.push(
        sql<SqlBool>`interactions.id in (select s.interaction_id from interaction_subjects s where s.id in (select rowid from interaction_subject_search where interaction_subject_search match ${toFtsMatch(query.terms)}))`,
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

/** PostgreSQL: the terms split by where they are asked (see {@link splitTerms}). */
interface SplitTerms {
  /** Asked of `message_search`'s document, with their field's weight. */
  readonly document: SearchTerm[];
  /** `subject:` terms, asked of `message_subjects` (migration 0036) as plain words. */
  readonly subject: SearchTerm[];
  /** Phrases of two whole words in any field: their pair in `message_phrases` is the answer. */
  readonly paired: SearchTerm[];
  /** The `tsquery` of `message_phrases` every phrase needs, or undefined without a phrase. */
  readonly pairs: string | undefined;
}

/**
 * PostgreSQL: where each term is asked. `subject:` terms of `message_subjects`, whose GIN index
 * answers them without reading the document. A phrase of two whole words, in any field, is its
 * pair (migration 0038): GIN answers it exactly, with no document read and no position checked
 * — but for a document whose pairs were cut ({@link PAIRS_CUT}), checked by position. The other
 * terms of the document; its longer phrases also ask for their pairs first (see
 * {@link pairsQuery}).
 */
function splitTerms(terms: readonly SearchTerm[]): SplitTerms {
  const subject = terms.filter((term) => term.field === 'subject').map((term) => ({ ...term, field: 'any' as const }));
  const others = terms.filter((term) => term.field !== 'subject');
  const exact = (term: SearchTerm): boolean => term.field === 'any' && !term.prefix && term.words.length === 2;
  return {
    document: others.filter((term) => !exact(term)),
    subject,
    paired: others.filter(exact),
    pairs: pairsQuery(others),
  };
}

/**
 * Only `subject:` terms, and no attachment asked: the subject tables answer alone
 * (PostgreSQL's `message_subjects`, SQLite's `interaction_subjects`).
 */
function subjectsOnly(query: SearchQuery): boolean {
  return !query.hasAttachment && query.terms.length > 0 && query.terms.every((term) => term.field === 'subject');
}

/** PostgreSQL: the ids of the messages matching every term (a query to put a limit on). */
function matchingMessages(terms: readonly SearchTerm[]): RawBuilder<unknown> {
  const { document, subject, pairs } = splitTerms(terms);
  const [first, ...rest] = [
    ...(document.length > 0 ? [{ table: 'message_search', alias: 's' }] : []),
    ...(pairs === undefined ? [] : [{ table: 'message_phrases', alias: 'p' }]),
    ...(subject.length > 0 ? [{ table: 'message_subjects', alias: 'ms' }] : []),
  ];
  if (first === undefined) throw new Error('A search without terms matches no message by them');
  const joins = rest.map(
    ({ table, alias }) =>
      sql`join ${sql.raw(table)} ${sql.raw(alias)} on ${sql.raw(alias)}.message_id = ${sql.raw(first.alias)}.message_id`,
  );
  return sql`select ${sql.raw(first.alias)}.message_id from ${sql.raw(first.table)} ${sql.raw(first.alias)} ${sql.join(joins, sql` `)} where ${tsMatch(terms)}`;
}

/** PostgreSQL: the search tables a message `m` is checked in, joined to it (aliases `s`, `p`, `ms`). */
function tsJoins(terms: readonly SearchTerm[]): RawBuilder<unknown> {
  const { document, subject, pairs } = splitTerms(terms);
  return sql.join(
    [
      ...(document.length > 0 ? [sql`join message_search s on s.message_id = m.id`] : []),
      ...(pairs === undefined ? [] : [sql`join message_phrases p on p.message_id = m.id`]),
      ...(subject.length > 0 ? [sql`join message_subjects ms on ms.message_id = m.id`] : []),
    ],
    sql` `,
  );
}

/** PostgreSQL: the condition on the joined `s`, `p` and `ms` (see {@link tsJoins}) that every term matches. */
function tsMatch(terms: readonly SearchTerm[]): RawBuilder<SqlBool> {
  const { document, subject, paired, pairs } = splitTerms(terms);
  const parts: RawBuilder<SqlBool>[] = [];
  if (pairs !== undefined) parts.push(sql<SqlBool>`p.pairs @@ ${pairs}::tsquery`);
  if (paired.length > 0) {
    // A document whose pairs were cut: its positions say whether the phrases are there.
    parts.push(
      sql<SqlBool>`(not p.pairs @@ ${`'${PAIRS_CUT}'`}::tsquery or exists (select 1 from message_search c where c.message_id = p.message_id and c.document @@ ${toTsQuery(paired)}::tsquery))`,
    );
  }
  if (document.length > 0) parts.push(sql<SqlBool>`s.document @@ ${toTsQuery(document)}::tsquery`);
  if (subject.length > 0) parts.push(sql<SqlBool>`ms.subject @@ ${toTsQuery(subject)}::tsquery`);
  return sql<SqlBool>`${sql.join(parts, sql` and `)}`;
}

/**
 * PostgreSQL: what the phrases among `terms` need of `message_phrases` (each of their pairs of
 * whole words, or the document's pairs cut), or undefined when no term has a pair — the
 * `tsquery` that finds a phrase's few candidates where its words alone find most messages. The
 * positions are still checked in the document: a phrase of three words is not two pairs
 * anywhere. A prefix last word makes no pair.
 */
function pairsQuery(terms: readonly SearchTerm[]): string | undefined {
  const parts: string[] = [];
  for (const term of terms) {
    const whole = term.prefix ? term.words.length - 1 : term.words.length;
    const pairs: string[] = [];
    for (let index = 1; index < whole; index += 1) pairs.push(`'${term.words[index - 1]} ${term.words[index]}'`);
    if (pairs.length > 0) parts.push(`(${pairs.join(' & ')} | '${PAIRS_CUT}')`);
  }
  return parts.length === 0 ? undefined : parts.join(' & ');
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
