import { beforeAll, describe, expect, it } from 'vitest';
import { isPosternError, type PosternError } from '../../src/errors/index.js';
import {
  createContact,
  deleteContact,
  findContactByAddress,
  getContact,
  mergeContacts,
  searchContacts,
  updateContact,
  type NewContact,
} from '../../src/store/contacts.js';
import type { Database } from '../../src/store/database.js';
import { createEmailAccount } from '../../src/store/email-accounts.js';
import { createInteraction, getInteraction } from '../../src/store/interactions.js';
import { createList, deleteList, getList, listLists, updateList } from '../../src/store/lists.js';
import { forEachEngine } from '../helpers/store.js';

async function failure(promise: Promise<unknown>): Promise<PosternError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPosternError(error)) throw new Error(`expected a PosternError, got ${String(error)}`);
  return error;
}

forEachEngine((_engine, openFresh) => {
  let db: Database;
  let listId: number;
  let serial = 0;
  const buildContact = (overrides: Partial<NewContact> = {}): NewContact => {
    serial += 1;
    return { listId, name: `Contact ${serial}`, addresses: [`c${serial}@example.com`], ...overrides };
  };

  beforeAll(async () => {
    db = await openFresh();
    listId = (await createList(db, { name: 'Customers', description: 'Everyone who writes in' })).id;
  });

  describe('lists', () => {
    it('creates, renames and counts contacts', async () => {
      const list = await createList(db, { name: 'Suppliers' });
      expect(list).toMatchObject({ name: 'Suppliers', description: null, contactCount: 0 });
      await createContact(db, buildContact({ listId: list.id }));
      const renamed = await updateList(db, list.id, { name: 'Vendors', description: 'Who we buy from' });
      expect(renamed).toMatchObject({ name: 'Vendors', description: 'Who we buy from', contactCount: 1 });
    });

    it('refuses a name that differs only in case', async () => {
      await createList(db, { name: 'Partners' });
      expect((await failure(createList(db, { name: 'PARTNERS' }))).code).toBe('RESOURCE_CONFLICT');
      const other = await createList(db, { name: 'Prospects' });
      expect((await failure(updateList(db, other.id, { name: 'partners' }))).code).toBe('RESOURCE_CONFLICT');
    });

    it('pages by limit and offset with the total, and filters by name', async () => {
      for (const name of ['Page A', 'Page B', 'Page C']) await createList(db, { name });
      const page = await listLists(db, { query: 'page ', limit: 2, offset: 1 });
      expect(page.total).toBe(3);
      expect(page.items.map((l) => l.name)).toEqual(['Page B', 'Page C']);
      expect(page).toMatchObject({ limit: 2, offset: 1 });
    });

    it('treats LIKE wildcards in a search as plain characters', async () => {
      await createList(db, { name: '100% done' });
      await createList(db, { name: '1000 done' });
      const page = await listLists(db, { query: '0%' });
      expect(page.items.map((l) => l.name)).toEqual(['100% done']);
    });

    it('deletes an empty list but not one with contacts', async () => {
      const empty = await createList(db, { name: 'Empty' });
      await deleteList(db, empty.id);
      expect(await getList(db, empty.id)).toBeUndefined();
      expect((await failure(deleteList(db, empty.id))).code).toBe('RESOURCE_NOT_FOUND');
      const full = await createList(db, { name: 'Full' });
      await createContact(db, buildContact({ listId: full.id }));
      expect((await failure(deleteList(db, full.id))).code).toBe('RESOURCE_CONFLICT');
    });
  });

  describe('contacts', () => {
    it('creates a contact with several addresses, stored lower-case and de-duplicated', async () => {
      const contact = await createContact(db, {
        listId,
        name: 'Mario Rossi',
        notes: 'VIP',
        addresses: ['Mario.Rossi@Example.com', 'm.rossi@example.org', 'MARIO.ROSSI@example.com'],
      });
      expect(contact).toMatchObject({ name: 'Mario Rossi', notes: 'VIP', listId });
      expect(contact.addresses).toEqual(['mario.rossi@example.com', 'm.rossi@example.org']);
      expect(await getContact(db, contact.id)).toEqual(contact);
    });

    it('finds the contact of an address regardless of case', async () => {
      const contact = await createContact(db, buildContact({ addresses: ['Lookup@Example.com'] }));
      expect((await findContactByAddress(db, 'LOOKUP@example.COM'))?.id).toBe(contact.id);
      expect(await findContactByAddress(db, 'nobody@example.com')).toBeUndefined();
    });

    it('refuses an address another contact has, in any case, naming that contact', async () => {
      const owner = await createContact(db, buildContact({ name: 'Owner', addresses: ['shared@example.com'] }));
      const error = await failure(
        createContact(db, buildContact({ addresses: ['new@example.com', 'SHARED@Example.com'] })),
      );
      expect(error.code).toBe('CONTACT_ADDRESS_TAKEN');
      expect(error.remedy).toContain('merge them');
      expect(error.message).toContain('shared@example.com');
      expect(error.message).toContain('Owner');
      expect(error.details).toMatchObject({ address: 'shared@example.com', contactId: owner.id, contactName: 'Owner' });
      // Nothing of the refused contact was kept.
      expect(await findContactByAddress(db, 'new@example.com')).toBeUndefined();
    });

    it('lets the database itself refuse a duplicate address that differs only in case', async () => {
      const now = new Date().toISOString();
      const owner = await createContact(db, buildContact({ addresses: ['direct@example.com'] }));
      await expect(
        db.kysely
          .insertInto('contact_addresses')
          .values({ contact_id: owner.id, address: 'DIRECT@example.com'.toLowerCase(), created_at: now })
          .execute(),
      ).rejects.toThrow();
    });

    it('replaces addresses on update, keeping its own and refusing others', async () => {
      const contact = await createContact(db, buildContact({ addresses: ['keep@example.com', 'drop@example.com'] }));
      const other = await createContact(db, buildContact({ addresses: ['other@example.com'] }));
      const updated = await updateContact(db, contact.id, {
        name: 'Renamed',
        addresses: ['KEEP@example.com', 'added@example.com'],
      });
      expect(updated.name).toBe('Renamed');
      expect(updated.addresses).toEqual(['keep@example.com', 'added@example.com']);
      expect(await findContactByAddress(db, 'drop@example.com')).toBeUndefined();
      const error = await failure(updateContact(db, contact.id, { addresses: ['Other@example.com'] }));
      expect(error.details).toMatchObject({ contactId: other.id });
      expect((await getContact(db, contact.id))?.addresses).toEqual(['keep@example.com', 'added@example.com']);
    });

    it('refuses a contact without addresses, in a missing list, or missing', async () => {
      expect((await failure(createContact(db, buildContact({ addresses: ['  '] })))).code).toBe('VALIDATION_FAILED');
      expect((await failure(createContact(db, buildContact({ listId: 999_999 })))).code).toBe('RESOURCE_NOT_FOUND');
      expect((await failure(updateContact(db, 999_999, { name: 'x' }))).code).toBe('RESOURCE_NOT_FOUND');
      expect((await failure(deleteContact(db, 999_999))).code).toBe('RESOURCE_NOT_FOUND');
    });

    it('deletes a contact with its addresses, freeing them', async () => {
      const contact = await createContact(db, buildContact({ addresses: ['freed@example.com'] }));
      await deleteContact(db, contact.id);
      expect(await getContact(db, contact.id)).toBeUndefined();
      const again = await createContact(db, buildContact({ addresses: ['freed@example.com'] }));
      expect(again.addresses).toEqual(['freed@example.com']);
    });

    it('searches by name or address regardless of case, by list, paginated with the total', async () => {
      const list = await createList(db, { name: 'Search' });
      await createContact(db, { listId: list.id, name: 'Zoe Quartz', addresses: ['zoe@quartz.example'] });
      await createContact(db, { listId: list.id, name: 'Adam Smith', addresses: ['adam@QUARTZ.example'] });
      await createContact(db, { listId: list.id, name: 'Bea Quartzite', addresses: ['bea@elsewhere.example'] });
      await createContact(db, { listId: list.id, name: 'Carl', addresses: ['carl@elsewhere.example'] });

      const byText = await searchContacts(db, { listId: list.id, query: 'QUARTZ' });
      expect(byText.total).toBe(3);
      expect(byText.items.map((c) => c.name)).toEqual(['Adam Smith', 'Bea Quartzite', 'Zoe Quartz']);
      expect(byText.items[0]?.addresses).toEqual(['adam@quartz.example']);

      const paged = await searchContacts(db, { listId: list.id, limit: 2, offset: 2 });
      expect(paged).toMatchObject({ total: 4, limit: 2, offset: 2 });
      expect(paged.items.map((c) => c.name)).toEqual(['Carl', 'Zoe Quartz']);

      const everywhere = await searchContacts(db, { query: 'zoe@' });
      expect(everywhere.items.map((c) => c.name)).toEqual(['Zoe Quartz']);
    });
  });

  describe('text search through the trigram indexes (migration 0035)', () => {
    /** What the filter means, asked of every contact in the list: the reference the indexes must give. */
    const scanned = async (search: Database, id: number, text: string): Promise<string[]> => {
      const all = await searchContacts(search, { listId: id, limit: 1000 });
      const needle = text.trim().toLowerCase();
      return all.items
        .filter((c) => c.name.toLowerCase().includes(needle) || c.addresses.some((a) => a.includes(needle)))
        .map((c) => c.name);
    };

    it('finds what a scan of every name and address finds, through renames, new addresses, merges and deletes', async () => {
      const list = await createList(db, { name: 'Trigrams' });
      const add = (name: string, addresses: string[]) => createContact(db, { listId: list.id, name, addresses });
      const ada = await add('Ada Lovelace', ['ada@analytical.example', 'countess@lovelace.example']);
      const grace = await add('Grace "Amazing" Hopper', ['grace@navy.example']);
      await add('Lin_Ma 50%', ['lin@percent.example']);
      const old = await add('Émile Zola', ['emile@zola.example']);
      const gone = await add('Gone Person', ['gone@lovelace.example']);
      await updateContact(db, grace.id, { name: 'Grace Brewster "Amazing" Hopper', addresses: ['gbh@navy.example'] });
      await updateContact(db, old.id, { name: 'Emile Zola' });
      await deleteContact(db, gone.id);
      const other = await add('Ada Twin', ['twin@analytical.example']);
      await mergeContacts(db, ada.id, other.id);

      const texts = [
        'a',
        'la',
        'ada',
        'ADA',
        'lovelace',
        'love',
        'analytical',
        'navy.example',
        'gbh@',
        'grace@',
        '"amazing"',
        'brewster',
        '_ma',
        '50%',
        'n_m',
        'émile',
        'emile',
        'zola.ex',
        'gone',
        'twin',
        ' ace ',
        'nowhere',
      ];
      for (const text of texts) {
        const found = await searchContacts(db, { listId: list.id, query: text, limit: 1000 });
        const expected = await scanned(db, list.id, text);
        expect({ text, names: found.items.map((c) => c.name), total: found.total }).toEqual({
          text,
          names: expected,
          total: expected.length,
        });
      }
      expect((await searchContacts(db, { listId: list.id, query: 'gbh@navy' })).items.map((c) => c.name)).toEqual([
        'Grace Brewster "Amazing" Hopper',
      ]);
      expect((await searchContacts(db, { listId: list.id, query: 'grace@navy' })).total).toBe(0);
      expect((await searchContacts(db, { listId: list.id, query: 'twin@' })).items.map((c) => c.name)).toEqual([
        'Ada Lovelace',
      ]);
    });
  });

  describe('merge', () => {
    const conversationWith = async (contactId: number): Promise<number> => {
      serial += 1;
      const account = await createEmailAccount(db, {
        name: `Merge ${serial}`,
        key: `M${serial}`.slice(0, 5),
        emailAddress: `merge${serial}@contoso.example`,
        username: `merge${serial}@contoso.example`,
      });
      const conversation = await createInteraction(db, {
        accountId: account.id,
        contactId,
        subject: 'Order',
        tokenCheck: 'ABCD',
        at: new Date('2026-01-02T03:04:05Z'),
      });
      return conversation.id;
    };

    it("moves the other's addresses, conversations and notes to this contact and deletes the other", async () => {
      const kept = await createContact(
        db,
        buildContact({ name: 'Ada', notes: 'Calls on Mondays', addresses: ['ada@one.example', 'ada@two.example'] }),
      );
      const other = await createContact(
        db,
        buildContact({ name: 'A. Lovelace', notes: 'VIP', addresses: ['lovelace@three.example'] }),
      );
      const keptConversation = await conversationWith(kept.id);
      const movedConversation = await conversationWith(other.id);

      const { contact: merged, moved } = await mergeContacts(db, kept.id, other.id);
      expect(moved).toEqual([{ interactionId: movedConversation, accountId: expect.any(Number) }]);
      expect(merged).toMatchObject({ id: kept.id, name: 'Ada', listId, notes: 'Calls on Mondays\n\nVIP' });
      expect(merged.addresses).toEqual(['ada@one.example', 'ada@two.example', 'lovelace@three.example']);
      expect(await getContact(db, other.id)).toBeUndefined();
      expect((await findContactByAddress(db, 'LOVELACE@three.example'))?.id).toBe(kept.id);
      expect((await getInteraction(db, movedConversation))?.contactId).toBe(kept.id);
      expect((await getInteraction(db, keptConversation))?.contactId).toBe(kept.id);
    });

    it('refuses two contacts of different lists, changing nothing', async () => {
      const elsewhere = await createList(db, { name: `Elsewhere ${serial}` });
      const kept = await createContact(db, buildContact());
      const other = await createContact(db, buildContact({ listId: elsewhere.id }));
      const conversation = await conversationWith(other.id);
      const error = await failure(mergeContacts(db, kept.id, other.id));
      expect(error.code).toBe('CONTACT_MERGE_LIST_MISMATCH');
      expect(error.status).toBe(409);
      expect(error.remedy).toContain('Move one of them');
      expect(error.details).toMatchObject({ listId, otherListId: elsewhere.id });
      expect(await getContact(db, other.id)).toEqual(other);
      expect((await getInteraction(db, conversation))?.contactId).toBe(other.id);
    });

    it('refuses a contact merged with itself or with one that does not exist', async () => {
      const kept = await createContact(db, buildContact());
      expect((await failure(mergeContacts(db, kept.id, kept.id))).code).toBe('VALIDATION_FAILED');
      expect((await failure(mergeContacts(db, kept.id, 999_999))).code).toBe('RESOURCE_NOT_FOUND');
      expect((await failure(mergeContacts(db, 999_999, kept.id))).code).toBe('RESOURCE_NOT_FOUND');
      expect(await getContact(db, kept.id)).toEqual(kept);
    });

    it('names the merge in the remedy of an address taken in the same list, and not across lists', async () => {
      const owner = await createContact(db, buildContact({ addresses: ['taken@merge.example'] }));
      const sameList = await failure(createContact(db, buildContact({ addresses: ['taken@merge.example'] })));
      expect(sameList).toMatchObject({ code: 'CONTACT_ADDRESS_TAKEN', status: 409 });
      expect(sameList.remedy).toContain('merge them');
      expect(sameList.details).toMatchObject({ contactId: owner.id, contactListId: listId });
      const elsewhere = await createList(db, { name: `Other list ${serial}` });
      const otherList = await failure(
        createContact(db, buildContact({ listId: elsewhere.id, addresses: ['TAKEN@merge.example'] })),
      );
      expect(otherList.code).toBe('CONTACT_ADDRESS_TAKEN');
      expect(otherList.remedy).toContain('is in another list');
    });
  });
});
