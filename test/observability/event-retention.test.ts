import { pino } from 'pino';
import { beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/store/database.js';
import { appendEvent, listEvents } from '../../src/store/index.js';
import { EventRetentionService } from '../../src/services/events/event-retention-service.js';
import { EventRetention } from '../../src/workers/event-retention.js';
import { forEachEngine } from '../helpers/store.js';

forEachEngine((_engine, openFresh) => {
  let db: Database;
  let now = new Date('2026-01-01T00:00:00.000Z');
  beforeAll(async () => {
    db = await openFresh({ clock: () => now });
  });

  it('deletes the events older than the retention, and only those', async () => {
    await appendEvent(db, { scope: 'system', type: 'retention.old', message: 'old' });
    now = new Date('2026-03-01T00:00:00.000Z');
    await appendEvent(db, { scope: 'system', type: 'retention.recent', message: 'recent' });
    now = new Date('2026-04-01T00:00:00.000Z');
    const retention = new EventRetention(new EventRetentionService(db), pino({ level: 'silent' }), {
      retentionDays: 60,
    });
    expect(await retention.runOnce()).toBe(1);
    expect((await listEvents(db)).items.map((e) => e.type)).toEqual(['retention.recent']);
    expect(await retention.runOnce()).toBe(0);
  });
});
