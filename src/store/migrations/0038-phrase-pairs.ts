/**
 * PostgreSQL: each message's pairs of neighbouring words, `message_phrases`, with a GIN index
 * (issue 19 point 3; "A million messages" in docs/PERFORMANCE.md). GIN keeps no positions, so a
 * phrase's candidates were every message holding all its words, each read and decompressed to
 * check their order: two common words that are rarely neighbours cost over a second at a million
 * messages. A pair is one lexeme (`'floor three'`); a phrase's candidates are now the messages
 * holding its pairs (store/message-search.ts `phrasePairs`, `pairsQuery`).
 *
 * A table rather than a column of `message_search`, for the reason migration 0036 gives: filling
 * a column rewrites every row under the documents' GIN index. The pairs of the messages already
 * stored come from their documents: two lexemes whose positions follow each other with the same
 * weight (one field) make a pair. A document whose positions PostgreSQL cut short (a lexeme
 * keeps at most 256; positions stop at 16,383), or whose pairs exceed `PHRASE_PAIRS_CAP`
 * characters, gets the lexeme `PAIRS_CUT` instead, which lets every phrase through to the check
 * of positions, as before. In batches of message ids; the index is built once the rows are in,
 * and the table analysed. One transaction (migrations/index.ts). SQLite's FTS5 keeps positions
 * in its index already.
 *
 * @see https://www.postgresql.org/docs/current/textsearch-features.html#TEXTSEARCH-MANIPULATE-TSVECTOR
 * @see https://www.postgresql.org/docs/current/textsearch-limitations.html
 */
import { sql } from 'kysely';
import { PAIRS_CUT, PHRASE_PAIRS_CAP } from '../message-search.js';
import type { PosternMigration } from './migration.js';

/** Message ids read per batch. */
const BATCH = 20_000;

/** PostgreSQL's last position in a `tsvector`: later words all take it. */
const LAST_POSITION = 16_383;

/** The most positions PostgreSQL keeps for one lexeme of a `tsvector`. */
const MOST_POSITIONS = 256;

export const phrasePairsMigration: PosternMigration = {
  name: '0038-phrase-pairs',
  async up(db, kit) {
    if (kit.engine !== 'postgres') return;
    await sql`create table message_phrases (message_id integer primary key references messages(id) on delete cascade, pairs tsvector not null)`.execute(
      db,
    );
    const { rows } = await sql<{ last: number | null }>`select max(message_id) as last from message_search`.execute(db);
    const last = Number(rows[0]?.last ?? 0);
    const cut = sql.lit(`'${PAIRS_CUT}'`);
    for (let after = 0; after < last; after += BATCH) {
      await sql`insert into message_phrases (message_id, pairs)
        select message_id, case when cut or (select sum(length(pair)) from unnest(pairs) pair) > ${PHRASE_PAIRS_CAP} then ${cut}::tsvector else array_to_tsvector(pairs) end
        from (select s.message_id, x.cut, x.pairs from message_search s cross join lateral (
          with words as (select u.lexeme, q.pos, q.weight, cardinality(u.positions) as n from unnest(s.document) u, unnest(u.positions, u.weights) q(pos, weight))
          select (select bool_or(pos >= ${LAST_POSITION} or n >= ${MOST_POSITIONS}) from words) as cut,
            (select array_agg(distinct a.lexeme || ' ' || b.lexeme) from words a join words b on b.pos = a.pos + 1 and b.weight = a.weight) as pairs
        ) x where s.message_id > ${after} and s.message_id <= ${after + BATCH}) batch
        where pairs is not null`.execute(db);
    }
    // The build gathers its entries in memory and writes them out each time it is full: pairs make
    // far more distinct keys than words, and the default 64 MB fills many times over.
    await sql`set local maintenance_work_mem = '256MB'`.execute(db);
    await sql`create index message_phrases_pairs_idx on message_phrases using gin (pairs)`.execute(db);
    // The planner's statistics now rather than at autovacuum's next round: without them it takes
    // every phrase for a common one, and may read its words' candidates instead of its pairs'.
    await sql`analyze message_phrases`.execute(db);
  },
  async down(db, kit) {
    if (kit.engine !== 'postgres') return;
    await sql`drop table if exists message_phrases`.execute(db);
  },
};
