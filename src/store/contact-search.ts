/**
 * The text filter of the contact list: a contact matches when the text (trimmed, compared
 * regardless of case) is part of its name or of one of its addresses. Without an index that reads
 * every contact and every address; migration 0035 adds trigram indexes, which find the candidates
 * of any text of three characters or more:
 *
 * - SQLite: FTS5 tables with the `trigram` tokenizer (no content of their own), one for names and
 *   one for addresses. A quoted text there matches the rows holding its characters in a row, case
 *   folded: a superset of what `like` matches, so the rows are then checked by `like` as before.
 *   Shorter texts (one or two characters) have no trigram and are scanned.
 * - PostgreSQL: `pg_trgm` GIN indexes serve the `like` itself, whatever its length.
 *
 * Names and addresses are asked apart and their contacts united, so that each side uses its index
 * (an `or` across the two tables would scan the contacts).
 */
import { sql, type Expression, type SqlBool } from 'kysely';
import type { Engine } from './database-url.js';
import { containsLowercase } from './pagination.js';

/** SQLite: the trigram index of contact names (rowid the contact's id). */
export const CONTACT_NAME_SEARCH = 'contact_name_search';
/** SQLite: the trigram index of contact addresses (rowid the address row's id). */
export const CONTACT_ADDRESS_SEARCH = 'contact_address_search';

/** The shortest text FTS5's trigram tokenizer can look up. */
const TRIGRAM = 3;

/** The condition on `contacts` that `text` (trimmed, not empty) sets. */
export function contactTextCondition(engine: Engine, text: string): Expression<SqlBool> {
  const lowered = text.toLowerCase();
  const pattern = containsLowercase(text);
  if (engine === 'sqlite' && [...lowered].length >= TRIGRAM) {
    // An FTS5 string: inside double quotes, a double quote is written twice; nothing else is syntax.
    const phrase = `"${lowered.replaceAll('"', '""')}"`;
    return sql<SqlBool>`contacts.id in (
      select c.id from contacts c where c.id in (select rowid from ${sql.raw(CONTACT_NAME_SEARCH)} where ${sql.raw(CONTACT_NAME_SEARCH)} match ${phrase}) and lower(c.name) like ${pattern}
      union
      select a.contact_id from contact_addresses a where a.id in (select rowid from ${sql.raw(CONTACT_ADDRESS_SEARCH)} where ${sql.raw(CONTACT_ADDRESS_SEARCH)} match ${phrase}) and a.address like ${pattern})`;
  }
  return sql<SqlBool>`contacts.id in (
    select c.id from contacts c where lower(c.name) like ${pattern}
    union
    select a.contact_id from contact_addresses a where a.address like ${pattern})`;
}
