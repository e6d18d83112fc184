/**
 * The store functions ingest uses to spend fewer queries per message, on both engines: the
 * sender's contact id in one query, a conversation created with its first message counted, and
 * the removal of a conversation whose first message lost a race.
 */
import { beforeAll, expect, it } from 'vitest';
import {
  createContact,
  createEmailAccount,
  createInteraction,
  createList,
  discardInteraction,
  findContactIdByAddress,
  getInteraction,
  requireInteraction,
  type Database,
} from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';

forEachEngine((engine, openFresh) => {
  let db: Database;
  let accountId: number;
  let contactId: number;

  beforeAll(async () => {
    db = await openFresh();
    const list = await createList(db, { name: 'Customers' });
    accountId = (
      await createEmailAccount(db, {
        name: 'Support',
        key: 'SUP',
        emailAddress: 'support@contoso.com',
        username: 'support@contoso.com',
      })
    ).id;
    contactId = (await createContact(db, { listId: list.id, name: 'Ada', addresses: [`Ada.${engine}@Example.org`] }))
      .id;
  });

  it('finds the id of the contact owning an address, regardless of case', async () => {
    expect(await findContactIdByAddress(db, `ADA.${engine}@example.ORG`)).toBe(contactId);
    expect(await findContactIdByAddress(db, 'nobody@example.org')).toBeUndefined();
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

  it('discards a conversation created in the same transaction, and only that one', async () => {
    const at = new Date();
    const kept = await createInteraction(db, { accountId, contactId, subject: 'Kept', tokenCheck: 'ABCD', at });
    const discarded = await db.transaction(async (tx) => {
      const created = await createInteraction(tx, {
        accountId,
        contactId,
        subject: 'Lost race',
        tokenCheck: 'ABCD',
        at,
        firstMessage: { unread: true },
      });
      await discardInteraction(tx, created.id);
      return created.id;
    });
    expect(await getInteraction(db, discarded)).toBeUndefined();
    expect((await requireInteraction(db, kept.id)).subject).toBe('Kept');
  });
});
