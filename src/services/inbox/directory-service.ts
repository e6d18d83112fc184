import { PosternError } from '../../errors/index.js';
import {
  createContact,
  createList,
  deleteContact,
  deleteList,
  isAgentDefaultList,
  listAgentAccountIds,
  listEmailAccounts,
  listInteractions,
  mergeContacts,
  requireContact,
  requireList,
  searchContacts,
  listLists,
  updateContact,
  updateList,
  type ContactChanges,
  type ContactRecord,
  type ContactScope,
  type Database,
  type InteractionPage,
  type ListChanges,
  type ListRecord,
  type NewContact,
  type NewList,
  type Page,
  type UserRole,
} from '../../store/index.js';

/** Who reads the address book; the HTTP layer's Principal satisfies it. */
export interface DirectoryReader {
  readonly userId: number;
  readonly role: UserRole;
}

/**
 * An administrator reads every contact and list; an agent those of the accounts assigned to them
 * (see store/contacts.ts). Anything else is "not found", as an id that does not exist.
 */
export function contactScopeOf(reader: DirectoryReader): ContactScope {
  return reader.role === 'admin' ? { all: true } : { agentUserId: reader.userId };
}

/** Contact lists and contacts: the address book agents answer from and ingest fills. */
export class DirectoryService {
  /**
   * @param contactMoved told of each conversation that changed contact in a merge, once it is
   *   committed (the live stream tells the agents looking at it).
   */
  constructor(
    private readonly db: Database,
    private readonly contactMoved: (moved: { interactionId: number; accountId: number }) => void = () => undefined,
  ) {}

  readonly lists = {
    list: (
      reader: DirectoryReader,
      query: { limit?: number; offset?: number; q?: string | undefined },
    ): Promise<Page<ListRecord>> =>
      listLists(this.db, { limit: query.limit, offset: query.offset, query: query.q, scope: contactScopeOf(reader) }),
    create: (list: NewList): Promise<ListRecord> => createList(this.db, list),
    get: (reader: DirectoryReader, id: number): Promise<ListRecord> => requireList(this.db, id, contactScopeOf(reader)),
    update: (id: number, changes: ListChanges): Promise<ListRecord> => updateList(this.db, id, changes),
    remove: (id: number): Promise<void> => deleteList(this.db, id),
  };

  readonly contacts = {
    /** @throws PosternError RESOURCE_NOT_FOUND when `listId` names a list the reader does not see. */
    search: async (
      reader: DirectoryReader,
      query: { limit?: number; offset?: number; q?: string | undefined; listId?: number | undefined },
    ): Promise<Page<ContactRecord>> => {
      const scope = contactScopeOf(reader);
      if (query.listId !== undefined) await requireList(this.db, query.listId, scope);
      return searchContacts(this.db, {
        limit: query.limit,
        offset: query.offset,
        query: query.q,
        listId: query.listId,
        scope,
      });
    },
    create: async (contact: NewContact): Promise<ContactRecord> => {
      await this.requireListForContact(contact.listId);
      return createContact(this.db, contact);
    },
    get: (reader: DirectoryReader, id: number): Promise<ContactRecord> =>
      requireContact(this.db, id, contactScopeOf(reader)),
    update: async (id: number, changes: ContactChanges): Promise<ContactRecord> => {
      if (changes.listId !== undefined) await this.requireListForContact(changes.listId);
      return updateContact(this.db, id, changes);
    },
    remove: (id: number): Promise<void> => deleteContact(this.db, id),
    /**
     * Merges contact `from` into contact `id` (see store/contacts.ts's mergeContacts): `from`'s
     * addresses, conversations and notes become this one's, and `from` is deleted. For an
     * administrator, or an agent whose account files into the contacts' list.
     *
     * @throws PosternError RESOURCE_NOT_FOUND (either contact, or one the reader does not see),
     *   VALIDATION_FAILED for a contact merged with itself, AUTH_FORBIDDEN for an agent outside the
     *   list, CONTACT_MERGE_LIST_MISMATCH.
     */
    merge: async (reader: DirectoryReader, id: number, from: number): Promise<ContactRecord> => {
      if (id === from) {
        throw new PosternError('VALIDATION_FAILED', {
          message: 'The request body is invalid: from: a contact cannot be merged with itself.',
          details: { in: 'body', fields: [{ field: 'from', problem: 'is the contact merged into' }] },
        });
      }
      const scope = contactScopeOf(reader);
      const kept = await requireContact(this.db, id, scope);
      await requireContact(this.db, from, scope);
      if (reader.role !== 'admin' && !(await isAgentDefaultList(this.db, kept.listId, reader.userId))) {
        throw new PosternError('AUTH_FORBIDDEN', {
          message: `Contacts of list ${kept.listId} can be merged by an administrator, or an agent of an account that files new contacts into it.`,
          details: { listId: kept.listId },
        });
      }
      const merged = await mergeContacts(this.db, id, from);
      for (const conversation of merged.moved) this.contactMoved(conversation);
      return merged.contact;
    },
    /**
     * The contact's conversations in the reader's accounts, newest activity first.
     * @throws PosternError RESOURCE_NOT_FOUND for a contact the reader does not see.
     */
    interactions: async (
      reader: DirectoryReader,
      id: number,
      page: { cursor?: string | undefined; limit?: number | undefined },
    ): Promise<InteractionPage> => {
      await requireContact(this.db, id, contactScopeOf(reader));
      const accountIds =
        reader.role === 'admin'
          ? (await listEmailAccounts(this.db)).map((account) => account.id)
          : await listAgentAccountIds(this.db, reader.userId);
      return listInteractions(this.db, {
        accountIds,
        contactId: id,
        ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
        ...(page.limit === undefined ? {} : { limit: page.limit }),
      });
    },
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
