/**
 * PostgreSQL: how common the most common words of the search documents are, from the statistics
 * ANALYZE keeps of `message_search.document` (`pg_stats.most_common_elems`: about the thousand
 * most common words at the default statistics target, each with the share of documents holding
 * it; autovacuum keeps them current). A search for such a word is then known to match many
 * messages without counting them: at a million messages, counting 15,000 matches of a word found
 * in one document of five read 77,000 documents (127 ms), where walking the conversations for it
 * took 3 ms. A word not among them is counted as before (store/message-search.ts `planSearch`).
 *
 * @see https://www.postgresql.org/docs/current/view-pg-stats.html
 */
import { sql, type QueryExecutorProvider } from 'kysely';
import type { SearchTerm } from '../domain/search-query.js';

/** What the statistics say of the documents' words. */
export interface WordStatistics {
  /** Documents in the table when ANALYZE last looked (0: never analysed). */
  readonly documents: number;
  /** The share of the documents holding each of the most common words (0–1). */
  readonly shares: ReadonlyMap<string, number>;
}

/** How long the statistics read are used before they are read again. */
const REFRESH_MS = 60_000;

const cached = new WeakMap<object, { readonly at: number; readonly statistics: Promise<WordStatistics> }>();

/** The statistics as PostgreSQL holds them now (one query). */
export async function readWordStatistics(db: QueryExecutorProvider): Promise<WordStatistics> {
  const { rows } = await sql<{
    word: string | null;
    share: number | null;
    documents: number;
  }>`select e.word, e.share, c.reltuples as documents from pg_class c left join pg_stats p on p.schemaname = current_schema() and p.tablename = 'message_search' and p.attname = 'document' left join lateral unnest(p.most_common_elems::text::text[], p.most_common_elem_freqs) as e(word, share) on true where c.oid = 'message_search'::regclass`.execute(
    db,
  );
  const shares = new Map<string, number>();
  // The frequencies end with three figures of their own (lowest, highest, nulls): no word.
  for (const row of rows) if (row.word !== null && row.share !== null) shares.set(row.word, Number(row.share));
  return { documents: Math.max(0, Number(rows[0]?.documents ?? 0)), shares };
}

/** {@link readWordStatistics}, read again at most once a minute per connection pool. */
export function wordStatistics(db: QueryExecutorProvider, now = Date.now()): Promise<WordStatistics> {
  const held = cached.get(db);
  if (held !== undefined && now - held.at < REFRESH_MS) return held.statistics;
  const statistics = readWordStatistics(db);
  cached.set(db, { at: now, statistics });
  // A failed read is not kept: the next search reads again.
  statistics.catch(() => cached.delete(db));
  return statistics;
}

/**
 * The messages that match every term, as the statistics tell it — or 0 when they cannot: a word
 * not among the most common, a phrase (the statistics know words, not their order), or a field
 * filter (they count a word wherever it is in the document). Terms of single words multiply their
 * shares, as if the words came independently; a word typed as a prefix counts as the word alone,
 * which it matches at least.
 */
export function estimatedHits(statistics: WordStatistics, terms: readonly SearchTerm[]): number {
  if (terms.length === 0 || statistics.documents === 0) return 0;
  let estimate = statistics.documents;
  for (const term of terms) {
    const [word, ...rest] = term.words;
    if (term.field !== 'any' || word === undefined || rest.length > 0) return 0;
    const share = statistics.shares.get(word);
    if (share === undefined) return 0;
    estimate *= share;
  }
  return estimate;
}
