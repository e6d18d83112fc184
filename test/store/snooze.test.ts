/**
 * Snoozed conversations in the store, on both engines: the Open list leaves them out until their
 * time while the Snoozed list has only them; the wake-up ends each due snooze once, also when two
 * nodes sweep at the same moment; closing and a customer's reply end a snooze.
 */
import { describe, expect, it } from 'vitest';
import {
  closeInteraction,
  getInteraction,
  listInteractions,
  snoozeInteraction,
  wakeSnoozedInteractions,
  type Database,
} from '../../src/store/index.js';
import { buildAccount, buildMessage } from '../ingest/helpers.js';
import { ingestNew } from '../helpers/store-factories.js';
import { forEachEngine } from '../helpers/store.js';

const HOUR = 3_600_000;

async function conversations(db: Database, count: number): Promise<{ accountId: number; ids: number[] }> {
  const account = await buildAccount(db);
  const ids: number[] = [];
  for (let index = 1; index <= count; index += 1) {
    const stored = await ingestNew(
      db,
      account,
      buildMessage({ from: `Customer ${index} <c${index}@example.org>`, subject: `Question ${index}` }),
      index,
    );
    ids.push(stored.interactionId);
  }
  return { accountId: account.id, ids };
}

async function listed(db: Database, accountId: number, snoozed: 'hide' | 'only' | 'include'): Promise<number[]> {
  const page = await listInteractions(db, { accountIds: [accountId], status: 'open', snoozed, limit: 100 });
  return page.items.map((item) => item.id).sort((a, b) => a - b);
}

forEachEngine((engine, openFresh) => {
  describe(`snoozed conversations (${engine})`, () => {
    it('leave the Open list until their time, and come back once', async () => {
      let now = new Date('2026-03-02T09:00:00.000Z');
      const db = await openFresh({ clock: () => now });
      const { accountId, ids } = await conversations(db, 3);
      const [first, second, third] = ids as [number, number, number];
      await snoozeInteraction(db, first, new Date(now.getTime() + HOUR));
      await snoozeInteraction(db, second, new Date(now.getTime() + 5 * HOUR));

      expect(await listed(db, accountId, 'hide')).toEqual([third]);
      expect(await listed(db, accountId, 'only')).toEqual([first, second]);
      expect(await listed(db, accountId, 'include')).toEqual([first, second, third]);
      expect(await wakeSnoozedInteractions(db, 100)).toEqual([]);

      // An hour later the first is due: listed as open at once, and woken once.
      now = new Date(now.getTime() + HOUR);
      expect(await listed(db, accountId, 'hide')).toEqual([first, third]);
      expect(await wakeSnoozedInteractions(db, 100)).toEqual([{ id: first, accountId }]);
      expect(await wakeSnoozedInteractions(db, 100)).toEqual([]);
      expect((await getInteraction(db, first))?.snoozedUntil).toBeNull();
      expect((await getInteraction(db, second))?.snoozedUntil).toBe('2026-03-02T14:00:00.000Z');
    });

    it('are woken once each when two sweeps overlap', async () => {
      let now = new Date('2026-03-02T09:00:00.000Z');
      const db = await openFresh({ clock: () => now });
      const { ids } = await conversations(db, 12);
      for (const id of ids) await snoozeInteraction(db, id, new Date(now.getTime() + HOUR));
      now = new Date(now.getTime() + 2 * HOUR);
      // Small batches, run together: on PostgreSQL both pick the same first rows, and the second
      // UPDATE waits for the first, then finds their snooze ended and leaves them.
      const sweep = async (): Promise<number[]> => {
        const woken: number[] = [];
        for (;;) {
          const batch = await wakeSnoozedInteractions(db, 5);
          woken.push(...batch.map((row) => row.id));
          if (batch.length === 0) return woken;
        }
      };
      const [a, b] = await Promise.all([sweep(), sweep()]);
      expect([...a, ...b].sort((x, y) => x - y)).toEqual([...ids].sort((x, y) => x - y));
    });

    it('end when the conversation is closed or the customer writes again', async () => {
      const now = new Date('2026-03-02T09:00:00.000Z');
      const db = await openFresh({ clock: () => now });
      const account = await buildAccount(db);
      const asked = await ingestNew(
        db,
        account,
        buildMessage({ subject: 'Broken', messageId: '<ask@example.org>' }),
        1,
      );
      const other = await ingestNew(db, account, buildMessage({ from: 'Bea <bea@example.org>', subject: 'Other' }), 2);
      const later = new Date(now.getTime() + 24 * HOUR);
      await snoozeInteraction(db, asked.interactionId, later);
      await snoozeInteraction(db, other.interactionId, later);

      await ingestNew(
        db,
        account,
        buildMessage({ subject: 'Re: Broken', inReplyTo: '<ask@example.org>', references: '<ask@example.org>' }),
        3,
      );
      expect((await getInteraction(db, asked.interactionId))?.snoozedUntil).toBeNull();

      const closed = await closeInteraction(db, other.interactionId);
      expect(closed.status).toBe('closed');
      expect(closed.snoozedUntil).toBeNull();
    });
  });
});
