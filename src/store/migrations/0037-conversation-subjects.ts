/**
 * SQLite: each conversation's distinct subjects, with an FTS5 index of their own (issue 19 point
 * 3; "A million messages" in docs/PERFORMANCE.md). A `subject:` word asked of `message_search`
 * matches every message of a conversation (a reply keeps its subject), so a common subject word
 * matched 15,000–50,000 messages at a million: too many to collect their conversations one by one,
 * too few to find by walking the conversations and checking each of their messages (p99 717 ms).
 * Here the same word matches one row per conversation and subject (`Re:` makes a second), and the
 * row is the conversation's own: the matches are a tenth as many, and a walked conversation is
 * checked against its one or two rows instead of its messages.
 *
 * - `interaction_subjects(id, interaction_id, subject)`: a subject as the search document holds it
 *   (domain/search-query.ts `searchSubject`), once per conversation (a unique index, which also
 *   finds a conversation's rows); no row for an empty subject. Written by
 *   store/message-search.ts with the message's document, in its transaction (`insert or ignore`).
 * - `interaction_subject_search`: FTS5 without content (the text is in the table above), its
 *   rowid the row's id, the tokenizer of `message_search`. Triggers keep it in step with the table.
 * - A message deleted takes its subject's row with it when no other message of its conversation
 *   has that subject. The trigger normalises subjects with `postern_search_subject`, the function
 *   every connection Postern opens registers (store/database.ts): a message cannot be deleted by a
 *   program without it, rather than leave the index wrong.
 *
 * The rows of the messages already stored are written from their subjects, in batches of message
 * ids, and indexed in one statement once they are in; then the triggers are created. One
 * transaction (migrations/index.ts). PostgreSQL has `message_subjects` (migration 0036).
 *
 * @see https://www.sqlite.org/fts5.html#contentless_delete_tables
 */
import { sql } from 'kysely';
import { searchSubject } from '../../domain/search-query.js';
import type { PosternMigration } from './migration.js';

/** Messages read per batch. */
const BATCH = 20_000;
/** Rows per insert statement (two variables each). */
const ROWS_PER_INSERT = 500;

export const conversationSubjectsMigration: PosternMigration = {
  name: '0037-conversation-subjects',
  async up(db, kit) {
    if (kit.engine !== 'sqlite') return;
    await sql`create table interaction_subjects (id integer primary key, interaction_id integer not null references interactions(id) on delete cascade, subject text not null)`.execute(
      db,
    );
    await sql`create unique index interaction_subjects_interaction_subject_idx on interaction_subjects (interaction_id, subject)`.execute(
      db,
    );
    await sql`create virtual table interaction_subject_search using fts5(subject, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')`.execute(
      db,
    );
    for (let after = 0; ;) {
      const { rows } = await sql<{
        id: number;
        interaction_id: number;
        subject: string;
      }>`select id, interaction_id, subject from messages where id > ${after} order by id limit ${BATCH}`.execute(db);
      const last = rows.at(-1);
      if (last === undefined) break;
      after = Number(last.id);
      const distinct = new Map<string, { interactionId: number; subject: string }>();
      for (const row of rows) {
        const subject = searchSubject(row.subject);
        if (subject !== '')
          distinct.set(`${row.interaction_id} ${subject}`, { interactionId: Number(row.interaction_id), subject });
      }
      const values = [...distinct.values()];
      for (let start = 0; start < values.length; start += ROWS_PER_INSERT) {
        const chunk = values.slice(start, start + ROWS_PER_INSERT);
        await sql`insert or ignore into interaction_subjects (interaction_id, subject) values ${sql.join(
          chunk.map(({ interactionId, subject }) => sql`(${interactionId}, ${subject})`),
        )}`.execute(db);
      }
    }
    await sql`insert into interaction_subject_search (rowid, subject) select id, subject from interaction_subjects`.execute(
      db,
    );
    await sql`create trigger interaction_subjects_search_insert after insert on interaction_subjects begin insert into interaction_subject_search (rowid, subject) values (new.id, new.subject); end`.execute(
      db,
    );
    await sql`create trigger interaction_subjects_search_delete after delete on interaction_subjects begin delete from interaction_subject_search where rowid = old.id; end`.execute(
      db,
    );
    await sql`create trigger messages_interaction_subjects_delete after delete on messages begin delete from interaction_subjects where interaction_id = old.interaction_id and subject = postern_search_subject(old.subject) and not exists (select 1 from messages m where m.interaction_id = old.interaction_id and postern_search_subject(m.subject) = postern_search_subject(old.subject)); end`.execute(
      db,
    );
  },
  async down(db, kit) {
    if (kit.engine !== 'sqlite') return;
    await sql`drop trigger if exists messages_interaction_subjects_delete`.execute(db);
    await sql`drop table if exists interaction_subject_search`.execute(db);
    await sql`drop table if exists interaction_subjects`.execute(db);
  },
};
