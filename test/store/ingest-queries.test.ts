/**
 * The store functions a group commit of the ingest writes with (store/row-ids.ts,
 * store/group-writes.ts), on both engines: ids drawn ahead, new senders' contacts written together,
 * several messages counted in their conversations with one statement, and a conversation created
 * with its first message counted (the outbound path's).
 */
import { beforeAll, expect, it } from 'vitest';
import {
  closeInteraction,
  createContact,
  createEmailAccount,
  createInteraction,
  createList,
  findContactByAddress,
  insertSenderContacts,
  newInteractionRow,
  recordInteractionActivities,
  requireInteraction,
  RowIds,
  senderContactAddress,
  toDbTime,
  type Database,
} from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';

forEachEngine((engine, openFresh) => {
  let db: Database;
  let accountId: number;
  let contactId: number;
  let listId: number;

  beforeAll(async () => {
    db = await openFresh();
    listId = (await createList(db, { name: 'Customers' })).id;
    accountId = (
      await createEmailAccount(db, {
        name: 'Support',
        key: 'SUP',
        emailAddress: 'support@contoso.com',
        username: 'support@contoso.com',
      })
    ).id;
    contactId = (await createContact(db, { listId, name: 'Ada', addresses: [`Ada.${engine}@Example.org`] })).id;
  });

  it('draws ids no row has had, ascending, and never the same one twice in a transaction', async () => {
    const before = await createInteraction(db, {
      accountId,
      contactId,
      subject: 'Before',
      tokenCheck: 'ABCD',
      at: new Date(),
    });
    const drawn = await db.transaction(async (tx) => {
      const ids = new RowIds();
      const first = await ids.draw(tx, { interactions: 3, contacts: 2 });
      const second = await ids.draw(tx, { interactions: 2 });
      return { first, second };
    });
    const interactions = [...drawn.first.interactions, ...drawn.second.interactions];
    expect(interactions).toHaveLength(5);
    expect(new Set(interactions).size).toBe(5);
    expect(drawn.first.interactions).toEqual([...drawn.first.interactions].sort((a, b) => a - b));
    expect(Math.min(...interactions)).toBeGreaterThan(before.id);
    expect(Math.min(...drawn.first.contacts)).toBeGreaterThan(contactId);
    expect(drawn.first.messages).toEqual([]);

    // A row written with a drawn id: the next conversation created the usual way comes after it.
    const highest = Math.max(...interactions);
    await db.kysely
      .insertInto('interactions')
      .values(
        newInteractionRow(
          highest,
          { accountId, contactId, subject: 'Drawn', tokenCheck: 'WXYZ', at: new Date() },
          toDbTime(db.now()),
        ),
      )
      .execute();
    const after = await createInteraction(db, {
      accountId,
      contactId,
      subject: 'After',
      tokenCheck: 'ABCD',
      at: new Date(),
    });
    expect(after.id).toBeGreaterThan(highest);
    expect((await requireInteraction(db, highest)).subjectToken).toBe(`#P${highest}-WXYZ`);
  });

  it('writes new senders together, and says so when another writer saved one of the addresses', async () => {
    const [first = 0, second = 0, third = 0] = await db.transaction(
      async (tx) => (await new RowIds().draw(tx, { contacts: 3 })).contacts,
    );
    expect(
      await insertSenderContacts(db, [
        { id: first, listId, name: 'Grace', address: senderContactAddress(` Grace.${engine}@Example.ORG `) },
        { id: second, listId, name: 'Linus', address: senderContactAddress(`linus.${engine}@example.org`) },
      ]),
    ).toBe(true);
    expect((await findContactByAddress(db, `grace.${engine}@example.org`))?.id).toBe(first);

    // The same address again (another writer won): false, and the caller's transaction rolls back.
    const saved = await db
      .transaction(async (tx) => {
        const ok = await insertSenderContacts(tx, [
          { id: third, listId, name: 'Grace again', address: `grace.${engine}@example.org` },
        ]);
        if (!ok) throw new Error('raced');
        return ok;
      })
      .catch((error: unknown) => (error instanceof Error ? error.message : 'other'));
    expect(saved).toBe('raced');
    expect((await findContactByAddress(db, `grace.${engine}@example.org`))?.name).toBe('Grace');

    await expect(
      insertSenderContacts(db, [
        { id: third, listId: 987_654, name: 'Nobody', address: `nobody.${engine}@example.org` },
      ]),
    ).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
    expect(() => senderContactAddress('   ')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('counts several messages in several conversations with one statement: sums, latest time, reopened when asked', async () => {
    const at = new Date(Date.UTC(2025, 0, 15, 9));
    const closed = await createInteraction(db, {
      accountId,
      contactId,
      subject: 'Closed',
      tokenCheck: 'ABCD',
      at,
      firstMessage: { unread: false },
    });
    await closeInteraction(db, closed.id);
    const quiet = await createInteraction(db, {
      accountId,
      contactId,
      subject: 'Quiet',
      tokenCheck: 'ABCD',
      at,
      firstMessage: { unread: true },
    });
    await closeInteraction(db, quiet.id);

    await recordInteractionActivities(db, [
      { id: closed.id, messages: 3, unread: 2, at: '2025-01-16T10:00:00.000Z', reopen: true },
      { id: quiet.id, messages: 1, unread: 0, at: '2025-01-14T10:00:00.000Z', reopen: false },
    ]);
    expect(await requireInteraction(db, closed.id)).toMatchObject({
      messageCount: 4,
      unreadCount: 2,
      status: 'open',
      closedAt: null,
      lastActivityAt: '2025-01-16T10:00:00.000Z',
    });
    // Older mail never moves the activity back, and it does not reopen unless asked.
    expect(await requireInteraction(db, quiet.id)).toMatchObject({
      messageCount: 2,
      unreadCount: 1,
      status: 'closed',
      lastActivityAt: at.toISOString(),
    });

    await expect(
      recordInteractionActivities(db, [
        { id: 987_654, messages: 1, unread: 1, at: '2025-01-16T10:00:00.000Z', reopen: false },
      ]),
    ).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
  });

  it('creates a conversation with its first message already counted, unread or not', async () => {
    const at = new Date(Date.UTC(2025, 0, 15, 9));
    const unread = await createInteraction(db, {
      accountId,
      contactId,
      subject: 'Order',
      tokenCheck: 'ABCD',
      at,
      firstMessage: { unread: true },
    });
    expect(unread).toMatchObject({ messageCount: 1, unreadCount: 1, status: 'open', lastActivityAt: at.toISOString() });
    const read = await createInteraction(db, {
      accountId,
      contactId,
      subject: 'Order',
      tokenCheck: 'ABCD',
      at,
      firstMessage: { unread: false },
    });
    expect(read).toMatchObject({ messageCount: 1, unreadCount: 0 });
    const empty = await createInteraction(db, { accountId, contactId, subject: 'Order', tokenCheck: 'ABCD', at });
    expect(empty).toMatchObject({ messageCount: 0, unreadCount: 0 });
  });
});
