/**
 * Contact search at scale (issue 19 point 3; "A million messages" in docs/PERFORMANCE.md): the
 * contact list's text filter finds a substring of a contact's name or of one of its addresses,
 * which without an index reads every contact (1.7 s for 200,000 on SQLite). Trigram indexes give
 * the candidates of any text of three characters or more (store/contacts.ts):
 *
 * - SQLite: two FTS5 tables with the `trigram` tokenizer and no content of their own, one for the
 *   names (rowid the contact's id) and one for the addresses (rowid the address row's id), kept by
 *   triggers; the text is checked against the row as before, so the tables only narrow.
 * - PostgreSQL: `pg_trgm` GIN indexes on `lower(name)` and on the address, which serve the same
 *   `like` the query already asks. `pg_trgm` ships with PostgreSQL's contrib modules and is a
 *   trusted extension; where the server lacks it the migration leaves the indexes out and the
 *   search stays a scan, slower but the same.
 *
 * @see https://www.sqlite.org/fts5.html#the_trigram_tokenizer
 * @see https://www.postgresql.org/docs/current/pgtrgm.html
 */
import { sql } from 'kysely';
import { CONTACT_ADDRESS_SEARCH, CONTACT_NAME_SEARCH } from '../contact-search.js';
import type { PosternMigration } from './migration.js';

const NAME_TRIGRAMS = 'contacts_name_trgm_idx';
const ADDRESS_TRIGRAMS = 'contact_addresses_address_trgm_idx';

/** The SQLite triggers that keep a search table in step with its source table. */
const SQLITE_TRIGGERS = [
  { table: 'contacts', column: 'name', search: CONTACT_NAME_SEARCH },
  { table: 'contact_addresses', column: 'address', search: CONTACT_ADDRESS_SEARCH },
] as const;

export const contactSearchMigration: PosternMigration = {
  name: '0035-contact-search',
  async up(db, kit) {
    if (kit.engine === 'sqlite') {
      for (const { table, column, search } of SQLITE_TRIGGERS) {
        const s = sql.raw(search);
        const t = sql.raw(table);
        const c = sql.raw(column);
        await sql`create virtual table ${s} using fts5(${c}, content='', contentless_delete=1, tokenize='trigram')`.execute(
          db,
        );
        await sql`insert into ${s} (rowid, ${c}) select id, ${c} from ${t}`.execute(db);
        await sql`create trigger ${sql.raw(`${search}_insert`)} after insert on ${t} begin insert into ${s} (rowid, ${c}) values (new.id, new.${c}); end`.execute(
          db,
        );
        await sql`create trigger ${sql.raw(`${search}_update`)} after update of ${c} on ${t} begin delete from ${s} where rowid = old.id; insert into ${s} (rowid, ${c}) values (new.id, new.${c}); end`.execute(
          db,
        );
        await sql`create trigger ${sql.raw(`${search}_delete`)} after delete on ${t} begin delete from ${s} where rowid = old.id; end`.execute(
          db,
        );
      }
      return;
    }
    const { rows } = await sql<{
      n: number;
    }>`select count(*) as n from pg_available_extensions where name = 'pg_trgm'`.execute(db);
    if (Number(rows[0]?.n ?? 0) === 0) return;
    await sql`create extension if not exists pg_trgm`.execute(db);
    await sql`create index ${sql.raw(NAME_TRIGRAMS)} on contacts using gin (lower(name) gin_trgm_ops)`.execute(db);
    await sql`create index ${sql.raw(ADDRESS_TRIGRAMS)} on contact_addresses using gin (address gin_trgm_ops)`.execute(
      db,
    );
  },
  async down(db, kit) {
    if (kit.engine === 'sqlite') {
      for (const { search } of SQLITE_TRIGGERS) {
        for (const event of ['insert', 'update', 'delete']) {
          await sql`drop trigger if exists ${sql.raw(`${search}_${event}`)}`.execute(db);
        }
        await sql`drop table if exists ${sql.raw(search)}`.execute(db);
      }
      return;
    }
    // The extension stays: other objects may use it, and it is harmless.
    await sql`drop index if exists ${sql.raw(NAME_TRIGRAMS)}`.execute(db);
    await sql`drop index if exists ${sql.raw(ADDRESS_TRIGRAMS)}`.execute(db);
  },
};
