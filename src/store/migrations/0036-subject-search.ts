/**
 * PostgreSQL: the subject's words in a `tsvector` of their own, `message_search.subject`, with its
 * GIN index (issue 19 point 3; "A million messages" in docs/PERFORMANCE.md). A `subject:` word
 * asked of the whole document as weight A makes PostgreSQL read and decompress each candidate's
 * document to check the weight (GIN keeps no weights): 5 s at a million messages for a common
 * subject word. Asked of its own column it is answered by its index, and a conversation walked
 * for it reads a few words per message instead of the whole text.
 *
 * The column is filled from the documents already stored (`ts_filter` keeps the weight-A lexemes,
 * with their positions, so phrases in a subject still match). The documents' GIN index is dropped
 * for the rewrite and built again after it: updating a million rows under it costs far more. One
 * transaction (migrations/index.ts). SQLite's FTS5 table has a subject column already.
 *
 * @see https://www.postgresql.org/docs/current/textsearch-features.html#TEXTSEARCH-MANIPULATE-TSVECTOR
 */
import { sql } from 'kysely';
import type { PosternMigration } from './migration.js';

const DOCUMENT_INDEX = 'message_search_document_idx';
const SUBJECT_INDEX = 'message_search_subject_idx';

export const subjectSearchMigration: PosternMigration = {
  name: '0036-subject-search',
  async up(db, kit) {
    if (kit.engine !== 'postgres') return;
    await sql`alter table message_search add column subject tsvector not null default ''::tsvector`.execute(db);
    await sql`drop index if exists ${sql.id(DOCUMENT_INDEX)}`.execute(db);
    await sql`update message_search set subject = ts_filter(document, '{a}')`.execute(db);
    await sql`create index ${sql.id(DOCUMENT_INDEX)} on message_search using gin (document)`.execute(db);
    await sql`create index ${sql.id(SUBJECT_INDEX)} on message_search using gin (subject)`.execute(db);
    await sql`alter table message_search alter column subject drop default`.execute(db);
  },
  async down(db, kit) {
    if (kit.engine !== 'postgres') return;
    await sql`drop index if exists ${sql.id(SUBJECT_INDEX)}`.execute(db);
    await sql`alter table message_search drop column subject`.execute(db);
  },
};
