/**
 * Graph inbound (src/mail/graph/graph-sync*.ts) against the emulated Graph API over loopback TLS,
 * with andrea@'s delegated token on the shared mailbox developers@: mail becomes an interaction
 * and a contact with the raw MIME byte for byte, a reply threads, after-fetch actions reach the
 * mailbox, an oversize message is moved aside with its header stored, an expired delta link starts
 * the folder over without duplicates, and throttling and 503s are recovered from.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  countAccountMessages,
  findContactByAddress,
  findMessageByMessageId,
  getDeltaLink,
  getMessageRaw,
  listInteractions,
  requireMessage,
  type Database,
} from '../../src/store/index.js';
import { createGraphSyncStore } from '../../src/services/inbound/graph-sync-store.js';
import { forEachEngine } from '../helpers/store.js';
import {
  buildGraphSync,
  customerMessage,
  ensureFolder,
  eventually,
  graphAccount,
  startGraphMail,
  type GraphMail,
} from './inbound-helpers.js';

let mail: GraphMail;

beforeAll(async () => {
  mail = await startGraphMail();
});
afterAll(async () => {
  await mail?.stop();
});

forEachEngine((engine, openFresh) => {
  let db: Database;
  let folders = 0;
  const folder = (what: string): string => {
    folders += 1;
    return `Graph ${what} ${engine} ${folders}`;
  };

  beforeAll(async () => {
    db = await openFresh();
  });

  it('reads developers@ through Graph as its delegate: an interaction, a contact, the raw MIME as delivered, and a reply threaded into it', async () => {
    const name = folder('shared');
    const account = await graphAccount(mail, db, name);
    const id = `<graph-shared-${engine}@example.org>`;
    const delivered = mail.deliver(
      name,
      customerMessage({ from: 'Nadia Customer <nadia.graph@example.org>', subject: 'Invoice missing', id }),
    );
    const { sync } = buildGraphSync(mail, db, account);
    const [report] = await sync.syncOnce();
    expect(report).toMatchObject({ folder: name, reset: 'first-sync', stored: 1, duplicates: 0 });

    const stored = await findMessageByMessageId(db, account.id, id);
    if (stored === undefined) throw new Error('not stored');
    expect((await getMessageRaw(db, stored.id)).equals(delivered)).toBe(true);
    const contact = await findContactByAddress(db, 'nadia.graph@example.org');
    expect(contact?.name).toBe('Nadia Customer');
    expect(contact?.listId).toBe(account.defaultListId);
    const record = await requireMessage(db, stored.id);
    expect(record).toMatchObject({ folder: name, uid: null, uidValidity: null });
    // The default after-fetch action: marked read in the mailbox.
    expect(mail.messages(name).map((m) => m.seen)).toEqual([true]);
    expect(await getDeltaLink(db, account.id, name)).toMatchObject({
      deltaLink: expect.stringContaining('$deltatoken='),
    });

    mail.deliver(
      name,
      customerMessage({
        from: 'Nadia Customer <nadia.graph@example.org>',
        subject: 'Re: Invoice missing',
        inReplyTo: id,
      }),
    );
    const [again] = await sync.syncOnce();
    // The first message came back as "updated" (marked read): known, not fetched again.
    expect(again).toMatchObject({ reset: null, stored: 1, duplicates: 0 });
    const interactions = await listInteractions(db, { accountIds: [account.id] });
    expect(interactions.items).toHaveLength(1);
    expect(interactions.items[0]?.messageCount).toBe(2);
    expect(await countAccountMessages(db, account.id)).toBe(2);
  });

  it('applies the after-fetch actions in the mailbox: move to a folder, delete', async () => {
    const moving = folder('move');
    const archive = `${moving} archive`;
    ensureFolder(mail, archive);
    const mover = await graphAccount(mail, db, moving, { afterFetchAction: 'move', afterFetchFolder: archive });
    mail.deliver(moving, customerMessage());
    mail.deliver(moving, customerMessage());
    expect((await buildGraphSync(mail, db, mover).sync.syncOnce())[0]).toMatchObject({ stored: 2, actionsApplied: 2 });
    expect(mail.messages(moving)).toEqual([]);
    expect(mail.messages(archive)).toHaveLength(2);

    const deleting = folder('delete');
    const deleter = await graphAccount(mail, db, deleting, { afterFetchAction: 'delete' });
    mail.deliver(deleting, customerMessage());
    expect((await buildGraphSync(mail, db, deleter).sync.syncOnce())[0]).toMatchObject({
      stored: 1,
      actionsApplied: 1,
    });
    expect(mail.messages(deleting)).toEqual([]);
    expect(await countAccountMessages(db, deleter.id)).toBe(1);
  });

  it('stores only the header of a message over the limit and moves it to the oversize folder', async () => {
    const name = folder('oversize');
    ensureFolder(mail, 'Postern Oversize');
    const account = await graphAccount(mail, db, name, { maxMessageBytes: 1_048_576 });
    const id = `<graph-big-${engine}@example.org>`;
    const big = customerMessage({ subject: 'A big one', id, body: 'x'.repeat(1_100_000) });
    mail.deliver(name, big);
    mail.deliver(name, customerMessage({ subject: 'A small one' }));
    const built = buildGraphSync(mail, db, account);
    const [report] = await built.sync.syncOnce();
    expect(report).toMatchObject({ stored: 2 });
    expect(built.oversize).toHaveLength(1);
    expect(built.oversize[0]).toMatchObject({ folder: name, limit: 1_048_576, movedTo: 'Postern Oversize' });
    expect(built.oversize[0]?.size).toBeGreaterThan(1_048_576);
    const stored = await findMessageByMessageId(db, account.id, id);
    if (stored === undefined) throw new Error('oversize message not stored');
    const record = await requireMessage(db, stored.id);
    expect(record.subject).toBe('A big one');
    expect(record.rawSize).toBeGreaterThan(1_048_576);
    const raw = await getMessageRaw(db, stored.id);
    expect(raw.length).toBeLessThan(4096);
    expect(raw.toString()).toContain('Subject: A big one');
    expect(mail.messages('Postern Oversize').some((m) => m.raw.toString().includes(id))).toBe(true);
    // The small one stays, marked read.
    expect(mail.messages(name).map((m) => m.seen)).toEqual([true]);
  });

  it('reads the folder again when Graph forgot its delta link, and stores nothing twice', async () => {
    const name = folder('expired');
    const account = await graphAccount(mail, db, name, { afterFetchAction: 'none' });
    for (let i = 0; i < 3; i += 1) mail.deliver(name, customerMessage());
    const { sync } = buildGraphSync(mail, db, account);
    expect((await sync.syncOnce())[0]).toMatchObject({ stored: 3 });
    mail.deliver(name, customerMessage());
    await mail.emu.control('POST', '/graph/delta/expire');
    const [report] = await sync.syncOnce();
    // The three stored ones are recognised by their Graph ids and not fetched again.
    expect(report).toMatchObject({ reset: 'delta-expired', stored: 1, known: 3 });
    const totals = await sql<{ total: number; ids: number }>`
      select count(*) as total, count(distinct graph_id) as ids from messages where account_id = ${account.id}`.execute(
      db.kysely,
    );
    expect(totals.rows.map((row) => [Number(row.total), Number(row.ids)])).toEqual([[4, 4]]);
    // The next round goes on from the new link.
    mail.deliver(name, customerMessage());
    expect((await sync.syncOnce())[0]).toMatchObject({ reset: null, stored: 1, known: 0 });
  });

  it('an account on "new mail only" loses nothing when it crashes while reading the folder again after an expired link', async () => {
    const name = folder('expired-new');
    const account = await graphAccount(mail, db, name, { firstSync: { kind: 'new' }, afterFetchAction: 'none' });
    mail.deliver(name, customerMessage());
    expect((await buildGraphSync(mail, db, account).sync.syncOnce())[0]).toMatchObject({ stored: 0 });
    const id = `<graph-after-expiry-${engine}@example.org>`;
    mail.deliver(name, customerMessage({ id }));
    await mail.emu.control('POST', '/graph/delta/expire');
    // The resync dies before its first commit, as a killed process would.
    const store = createGraphSyncStore(db, account);
    const dying = buildGraphSync(mail, db, account, {
      store: { ...store, ingestMany: () => Promise.reject(new Error('killed')) },
    });
    await expect(dying.sync.syncOnce()).rejects.toThrow();
    const [report] = await buildGraphSync(mail, db, account).sync.syncOnce();
    // The window reaches back to the day before the old link (as IMAP's resync after a UIDVALIDITY
    // change): the message that was there before the first sync comes in too, as an import.
    expect(report).toMatchObject({ reset: 'delta-expired', stored: 2 });
    expect(await findMessageByMessageId(db, account.id, id)).toBeDefined();
  });

  it('takes in the first-sync window: the last N days by receivedDateTime, or only mail that comes later', async () => {
    const recent = folder('days');
    const windowed = await graphAccount(mail, db, recent, { firstSync: { kind: 'days', days: 7 } });
    const old = `<graph-old-${engine}@example.org>`;
    const fresh = `<graph-fresh-${engine}@example.org>`;
    mail.deliver(recent, customerMessage({ id: old }), { internalDate: new Date(Date.now() - 30 * 86_400_000) });
    mail.deliver(recent, customerMessage({ id: fresh }));
    expect((await buildGraphSync(mail, db, windowed).sync.syncOnce())[0]).toMatchObject({ stored: 1 });
    expect(await findMessageByMessageId(db, windowed.id, old)).toBeUndefined();
    expect(await findMessageByMessageId(db, windowed.id, fresh)).toBeDefined();

    const later = folder('new');
    const newOnly = await graphAccount(mail, db, later, { firstSync: { kind: 'new' } });
    mail.deliver(later, customerMessage());
    const { sync } = buildGraphSync(mail, db, newOnly);
    expect((await sync.syncOnce())[0]).toMatchObject({ reset: 'first-sync', stored: 0 });
    const arrived = `<graph-later-${engine}@example.org>`;
    mail.deliver(later, customerMessage({ id: arrived }));
    expect((await sync.syncOnce())[0]).toMatchObject({ reset: null, stored: 1 });
    expect(await findMessageByMessageId(db, newOnly.id, arrived)).toBeDefined();
    // Old mail was left as it was: not marked read.
    expect(mail.messages(later).map((m) => m.seen)).toEqual([false, true]);
  });

  it('scans Junk when asked: mail there is stored as junk', async () => {
    const name = folder('junk');
    const account = await graphAccount(mail, db, name, { scanJunk: true, afterFetchAction: 'none' });
    const id = `<graph-junk-${engine}@example.org>`;
    mail.deliver('Junk Email', customerMessage({ id, subject: 'You won' }));
    const reports = await buildGraphSync(mail, db, account).sync.syncOnce();
    expect(reports.map((report) => report.folder)).toEqual([name, 'Junk Email']);
    const stored = await findMessageByMessageId(db, account.id, id);
    if (stored === undefined) throw new Error('junk not stored');
    expect(await requireMessage(db, stored.id)).toMatchObject({ isJunk: true, folder: 'Junk Email' });
  });

  it('polls for new mail, and recovers from a 429 storm and from 503s', { timeout: 60_000 }, async () => {
    const name = folder('storm');
    const account = await graphAccount(mail, db, name);
    const built = buildGraphSync(mail, db, account, { throttleBudgetMs: 1_500 });
    built.sync.start();
    try {
      await eventually(() => built.statuses.some((s) => s.status === 'connected'), 15_000, 'connected');
      mail.deliver(name, customerMessage());
      await eventually(async () => (await countAccountMessages(db, account.id)) === 1, 15_000, 'the first message');

      // More 429s than the client's waiting budget: the engine reports it and tries again.
      await mail.emu.control('POST', '/graph/faults', { kind: 'throttle', count: 4, retryAfterSeconds: 1 });
      await eventually(
        () => built.statuses.some((s) => s.error?.code === 'GRAPH_THROTTLED'),
        15_000,
        'GRAPH_THROTTLED reported',
      );
      await mail.emu.control('POST', '/graph/faults', { kind: 'unavailable', count: 3 });
      mail.deliver(name, customerMessage());
      await eventually(async () => (await countAccountMessages(db, account.id)) === 2, 30_000, 'the second message');
      await eventually(() => built.sync.status.status === 'connected', 15_000, 'connected again');
      expect(await mail.emu.control('GET', '/graph/faults')).toMatchObject({ faults: [] });
    } finally {
      await built.sync.stop();
      await mail.emu.control('DELETE', '/graph/faults');
    }
    expect(built.sync.status.status).toBe('stopped');
  });
});
