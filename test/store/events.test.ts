import { beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/store/database.js';
import { appendEvent, deleteEventsBefore, listEvents } from '../../src/store/events.js';
import { forEachEngine } from '../helpers/store.js';

forEachEngine((_engine, openFresh) => {
  let db: Database;
  let now = new Date('2026-06-01T00:00:00.000Z');
  beforeAll(async () => {
    db = await openFresh({ clock: () => now });
    const tick = (): void => {
      now = new Date(now.getTime() + 60_000);
    };
    await appendEvent(db, { scope: 'system', type: 'system.started', message: 'Postern started' });
    tick();
    await appendEvent(db, {
      scope: 'account',
      scopeId: 1,
      type: 'account.connected',
      message: 'Connected to outlook.office365.com',
    });
    tick();
    await appendEvent(db, {
      scope: 'grant',
      scopeId: 7,
      type: 'grant.reauth_required',
      level: 'error',
      message: 'Re-authentication required',
      data: { aadsts: 'AADSTS700082', reason: 'inactivity', days: 90, nested: { ok: true, list: [1, null] } },
    });
    tick();
    await appendEvent(db, {
      scope: 'account',
      scopeId: 1,
      type: 'account.disconnected',
      level: 'warn',
      message: 'Connection lost',
    });
    tick();
    await appendEvent(db, { scope: 'account', scopeId: 2, type: 'account.connected', message: 'Connected' });
  });

  it('appends events with their data, stamped by the clock', async () => {
    const page = await listEvents(db, { scope: 'grant' });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({
      scope: 'grant',
      scopeId: 7,
      type: 'grant.reauth_required',
      level: 'error',
      createdAt: '2026-06-01T00:02:00.000Z',
      data: { aadsts: 'AADSTS700082', reason: 'inactivity', days: 90, nested: { ok: true, list: [1, null] } },
    });
    expect((await listEvents(db, { scope: 'system' })).items[0]).toMatchObject({
      scopeId: null,
      level: 'info',
      data: null,
    });
  });

  it("lists one scope's timeline, newest first", async () => {
    const page = await listEvents(db, { scope: 'account', scopeId: 1 });
    expect(page.items.map((e) => e.type)).toEqual(['account.disconnected', 'account.connected']);
    expect(page.nextBefore).toBeNull();
  });

  it('filters by type, level and time', async () => {
    expect((await listEvents(db, { types: ['account.connected'] })).items.map((e) => e.scopeId)).toEqual([2, 1]);
    expect((await listEvents(db, { levels: ['warn', 'error'] })).items.map((e) => e.level)).toEqual(['warn', 'error']);
    const since = await listEvents(db, { since: new Date('2026-06-01T00:03:00.000Z') });
    expect(since.items.map((e) => e.type)).toEqual(['account.connected', 'account.disconnected']);
  });

  it('pages with an id cursor until the oldest event', async () => {
    const seen: string[] = [];
    let before: number | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await listEvents(db, { limit: 2, ...(before === undefined ? {} : { before }) });
      seen.push(...page.items.map((e) => e.type));
      if (page.nextBefore === null) break;
      before = page.nextBefore;
    }
    expect(seen).toEqual([
      'account.connected',
      'account.disconnected',
      'grant.reauth_required',
      'account.connected',
      'system.started',
    ]);
  });

  it('deletes events older than a retention date', async () => {
    expect(await deleteEventsBefore(db, new Date('2026-06-01T00:01:00.000Z'))).toBe(1);
    expect((await listEvents(db, { scope: 'system' })).items).toEqual([]);
  });
});
