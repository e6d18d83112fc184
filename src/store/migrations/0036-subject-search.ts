/**
 * PostgreSQL: the subject's words in a table of their own, `message_subjects`, with a GIN index
 * (issue 19 point 3; "A million messages" in docs/PERFORMANCE.md). A `subject:` word asked of the
 * whole document as weight A makes PostgreSQL read and decompress each candidate's document to
 * check the weight (GIN keeps no weights): 5 s at a million messages for a common subject word.
 * Asked of its own table it is answered by that index; each row holds its message's conversation
 * (a message never changes conversation), so that the conversations of the matches need no
 * message read, and a conversation walked for it is checked by its own rows (an index by
 * conversation) instead of each message's whole text.
 *
 * A table rather than a column of `message_search`: filling a column rewrites every row, and every
 * rewritten row enters the documents' GIN index again. The rows come from the documents already
 * stored (`ts_filter` keeps the weight-A lexemes with their positions, so a phrase in a subject
 * still matches), in batches of message ids, so that no statement runs into the store's query
 * timeout however large the store; no row for a message without a subject. The indexes are
 * built once the rows are in. One transaction (migrations/index.ts). SQLite's FTS5 table has a
 * subject column already.
 *
 * @see https://www.postgresql.org/docs/current/textsearch-features.html#TEXTSEARCH-MANIPULATE-TSVECTOR
 */
import { sql } from 'kysely';
import type { PosternMigration } from './migration.js';

/** Message ids read per batch. */
const BATCH = 20_000;

export const subjectSearchMigration: PosternMigration = {
  name: '0036-subject-search',
  async up(db, kit) {
    if (kit.engine !== 'postgres') return;
    await sql`create table message_subjects (message_id integer primary key references messages(id) on delete cascade, interaction_id integer not null, subject tsvector not null)`.execute(
      db,
    );
    const { rows } = await sql<{ last: number | null }>`select max(message_id) as last from message_search`.execute(db);
    const last = Number(rows[0]?.last ?? 0);
    for (let after = 0; after < last; after += BATCH) {
      await sql`insert into message_subjects (message_id, interaction_id, subject) select message_id, interaction_id, subject from (select s.message_id, m.interaction_id, ts_filter(s.document, '{a}') as subject from message_search s join messages m on m.id = s.message_id where s.message_id > ${after} and s.message_id <= ${after + BATCH}) batch where length(subject) > 0`.execute(
        db,
      );
    }
    await sql`create index message_subjects_subject_idx on message_subjects using gin (subject)`.execute(db);
    await sql`create index message_subjects_interaction_idx on message_subjects (interaction_id)`.execute(db);
  },
  async down(db, kit) {
    if (kit.engine !== 'postgres') return;
    await sql`drop table if exists message_subjects`.execute(db);
  },
};
