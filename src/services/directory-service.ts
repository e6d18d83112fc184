import { PosternError } from '../errors/index.js';
import {
  createContact,
  createList,
  deleteContact,
  deleteList,
  requireContact,
  requireList,
  searchContacts,
  listLists,
  updateContact,
  updateList,
  type ContactChanges,
  type ContactRecord,
  type Database,
  type ListChanges,
  type ListRecord,
  type NewContact,
  type NewList,
  type Page,
} from '../store/index.js';

/** Contact lists and contacts: the address book agents answer from and ingest fills. */
export class DirectoryService {
  constructor(private readonly db: Database) {}

  readonly lists = {
    list: (query: { limit?: number; offset?: number; q?: string | undefined }): Promise<Page<ListRecord>> =>
      listLists(this.db, { limit: query.limit, offset: query.offset, query: query.q }),
    create: (list: NewList): Promise<ListRecord> => createList(this.db, list),
    get: (id: number): Promise<ListRecord> => requireList(this.db, id),
    update: (id: number, changes: ListChanges): Promise<ListRecord> => updateList(this.db, id, changes),
    remove: (id: number): Promise<void> => deleteList(this.db, id),
  };

  readonly contacts = {
    search: (query: {
      limit?: number;
      offset?: number;
      q?: string | undefined;
      listId?: number | undefined;
    }): Promise<Page<ContactRecord>> =>
      searchContacts(this.db, { limit: query.limit, offset: query.offset, query: query.q, listId: query.listId }),
    create: async (contact: NewContact): Promise<ContactRecord> => {
      await this.requireListForContact(contact.listId);
      return createContact(this.db, contact);
    },
    get: (id: number): Promise<ContactRecord> => requireContact(this.db, id),
    update: async (id: number, changes: ContactChanges): Promise<ContactRecord> => {
      if (changes.listId !== undefined) await this.requireListForContact(changes.listId);
      return updateContact(this.db, id, changes);
    },
    remove: (id: number): Promise<void> => deleteContact(this.db, id),
  };

  private async requireListForContact(listId: number): Promise<void> {
    try {
      await requireList(this.db, listId);
    } catch (error) {
      throw new PosternError('VALIDATION_FAILED', {
        message: `The request body is invalid: listId: there is no list ${listId}.`,
        details: { in: 'body', fields: [{ field: 'listId', problem: `there is no list ${listId}` }] },
        cause: error,
      });
    }
  }
}
