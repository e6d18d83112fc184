/**
 * Row ids drawn ahead of their INSERT, so that a group commit can build rows that point at each
 * other (a message at its new conversation, a conversation at its new contact, an event at its
 * message) and write each table with one statement at the end of the transaction (see
 * group-writes.ts).
 *
 * On PostgreSQL the ids come from the columns' identity sequences, for every table in one round
 * trip: a sequence hands every id out once, whatever other writers do, and an id drawn but never
 * used only leaves a gap. On SQLite, one process ingests (STORE_SQLITE_IN_USE refuses a second one)
 * over one connection whose transactions run one at a time: the next ids follow the highest one
 * the table ever had (`sqlite_sequence` for AUTOINCREMENT, which never hands an id out again), and
 * the ids inserted explicitly move `sqlite_sequence` on. A web-only process writing the same table
 * in between makes the INSERT meet a taken id; the group commit then runs again (group-writes.ts).
 *
 * @see https://www.postgresql.org/docs/current/functions-sequence.html
 * @see https://www.sqlite.org/autoinc.html
 */
import { sql } from 'kysely';
import type { Database } from './database.js';

/** The tables whose ids a group commit draws ahead. */
export type DrawnTable = 'messages' | 'interactions' | 'contacts';

const TABLES: readonly DrawnTable[] = ['messages', 'interactions', 'contacts'];

/** How many ids to draw per table. */
export type DrawCounts = Partial<Record<DrawnTable, number>>;

/** Drawn ids per table, ascending. */
export type DrawnIds = Record<DrawnTable, number[]>;

/** Draws ids for one transaction (see the module comment). */
export class RowIds {
  /** SQLite: the next free id per table, once read in this transaction. */
  readonly #next = new Map<DrawnTable, number>();

  /** New ids for each table named in `counts`. */
  async draw(tx: Database, counts: DrawCounts): Promise<DrawnIds> {
    const drawn: DrawnIds = { messages: [], interactions: [], contacts: [] };
    const wanted = TABLES.flatMap((table): Array<[DrawnTable, number]> => {
      const count = counts[table] ?? 0;
      return count > 0 ? [[table, count]] : [];
    });
    if (wanted.length === 0) return drawn;
    if (tx.engine === 'postgres') {
      const { rows } = await sql<{ kind: DrawnTable; id: number }>`${sql.join(
        wanted.map(
          ([table, count]) =>
            sql`select ${table}::text as kind, nextval(pg_get_serial_sequence(${table}, 'id'))::integer as id from generate_series(1, ${count})`,
        ),
        sql` union all `,
      )}`.execute(tx.kysely);
      for (const row of rows) drawn[row.kind].push(row.id);
      for (const ids of Object.values(drawn)) ids.sort((a, b) => a - b);
      return drawn;
    }
    for (const [table, count] of wanted) {
      const first = this.#next.get(table) ?? (await highestSqliteId(tx, table)) + 1;
      this.#next.set(table, first + count);
      drawn[table] = Array.from({ length: count }, (_, index) => first + index);
    }
    return drawn;
  }
}

async function highestSqliteId(tx: Database, table: DrawnTable): Promise<number> {
  const { rows } = await sql<{ highest: number | null }>`
    select max(
      coalesce((select seq from sqlite_sequence where name = ${table}), 0),
      coalesce((select max(id) from ${sql.table(table)}), 0)
    ) as highest`.execute(tx.kysely);
  return rows[0]?.highest ?? 0;
}
