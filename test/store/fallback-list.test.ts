/**
 * The fallback list ("Contacts"), made on first need by whichever caller needs it first: two
 * callers that both find none (two accounts created at once, two mailboxes' first senders) end
 * with the same one list, also when their transactions overlap on PostgreSQL — the second insert
 * waits for the first, then yields to it instead of failing on the name's unique index.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { findOrCreateFallbackList, listLists } from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';
import { until } from '../helpers/until.js';

forEachEngine((engine, openFresh) => {
  describe(`the fallback list (${engine})`, () => {
    it('is created once by two transactions that both found none', async () => {
      const db = await openFresh();
      try {
        let releaseFirst = (): void => undefined;
        const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
        let firstCreated = (_id: number): void => undefined;
        const firstId = new Promise<number>((resolve) => (firstCreated = resolve));
        // The first creates the list and keeps its transaction open until the second has started.
        const first = db.transaction(async (tx) => {
          const id = await findOrCreateFallbackList(tx);
          firstCreated(id);
          await firstHolds;
          return id;
        });
        await firstId;
        const second = db.transaction((tx) => findOrCreateFallbackList(tx));
        // On PostgreSQL the second found none and its insert waits for the first to end; SQLite
        // runs one transaction at a time, and the second starts after the first.
        if (engine === 'postgres') {
          await until('the second insert waits for the first transaction', async () => {
            const waiting = await sql<{
              count: number;
            }>`select count(*)::int as count from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`.execute(
              db.kysely,
            );
            return (waiting.rows[0]?.count ?? 0) > 0 ? true : undefined;
          });
        }
        releaseFirst();
        const [a, b] = await Promise.all([first, second]);
        expect(b).toBe(a);
        const lists = await listLists(db, { query: 'contacts' });
        expect(lists.items.map((list) => list.id)).toEqual([a]);
      } finally {
        await db.close();
      }
    });
  });
});
