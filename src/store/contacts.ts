/**
 * Contacts and their email addresses. An address (compared regardless of case, stored
 * lower-case) belongs to one contact only: that is what lets ingest find the sender's contact.
 *
 * Who sees a contact: an administrator every one; an agent those that corresponded with one of
 * the agent's accounts (an interaction there) or sit in the default list of one of them (where
 * ingest creates a new sender, and where an administrator files a contact for that account).
 * Read functions take a {@link ContactScope}; what is outside it is "not found".
 */
import type { ExpressionBuilder } from 'kysely';
import { PosternError } from '../errors/index.js';
import type { Database } from './database.js';
import { contactTextCondition } from './contact-search.js';
import { normalizePage, type Page, type PageRequest } from './pagination.js';
import type { DB, Row, Timestamp } from './schema.js';
import { readConstraintViolation } from './sql-errors.js';
import { toDbTime } from './time.js';
import { deleteUnlessReferenced } from './delete-row.js';

/** A contact with its addresses (lower-case, in the order given). */
export interface ContactRecord {
  readonly id: number;
  readonly listId: number;
  readonly name: string;
  readonly notes: string | null;
  readonly addresses: string[];
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
}

/** What creating a contact needs: at least one address. */
export interface NewContact {
  readonly listId: number;
  readonly name: string;
  readonly notes?: string | null;
  readonly addresses: readonly string[];
}

/** Fields of a contact that can change; `addresses` replaces the whole set. */
export interface ContactChanges {
  readonly listId?: number;
  readonly name?: string;
  readonly notes?: string | null;
  readonly addresses?: readonly string[];
}

/** Search criteria: `query` matches the name or an address, regardless of case. */
export interface ContactSearch extends PageRequest {
  readonly query?: string | undefined;
  readonly listId?: number | undefined;
  /** Whose contacts; every contact when omitted. */
  readonly scope?: ContactScope | undefined;
}

/**
 * The contacts a reader may see: all of them, or those of one agent's accounts (see the module
 * comment). Services build it from the caller; the store only applies it.
 */
export type ContactScope = { readonly all: true } | { readonly agentUserId: number };

/**
 * True for a contact row of `contacts` that the agent may see: it has an interaction on one of the
 * agent's accounts, or its list is the default list of one of them.
 */
export function contactVisibleTo(eb: ExpressionBuilder<DB, 'contacts'>, agentUserId: number) {
  return eb.or([
    eb.exists(
      eb
        .selectFrom('interactions')
        .innerJoin('account_agents', 'account_agents.account_id', 'interactions.account_id')
        .select('interactions.id')
        .whereRef('interactions.contact_id', '=', 'contacts.id')
        .where('account_agents.user_id', '=', agentUserId),
    ),
    eb.exists(
      eb
        .selectFrom('email_accounts')
        .innerJoin('account_agents', 'account_agents.account_id', 'email_accounts.id')
        .select('email_accounts.id')
        .whereRef('email_accounts.default_list_id', '=', 'contacts.list_id')
        .where('account_agents.user_id', '=', agentUserId),
    ),
  ]);
}

/**
 * Creates a contact with its addresses, atomically.
 *
 * @throws PosternError CONTACT_ADDRESS_TAKEN naming the address and the contact that has it;
 *   RESOURCE_NOT_FOUND when the list does not exist; VALIDATION_FAILED without an address.
 */
export async function createContact(db: Database, contact: NewContact): Promise<ContactRecord> {
  const addresses = normalizeAddresses(contact.addresses);
  return withAddressConflicts(db, addresses, contact.listId, () =>
    db.transaction(async (tx) => {
      await assertListExists(tx, contact.listId);
      await assertAddressesFree(tx, addresses, contact.listId);
      const now = toDbTime(tx.now());
      const row = await tx.kysely
        .insertInto('contacts')
        .values({
          list_id: contact.listId,
          name: contact.name,
          notes: contact.notes ?? null,
          created_at: now,
          updated_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await insertAddresses(tx, row.id, addresses);
      return requireContact(tx, row.id);
    }),
  );
}

/** A new sender's contact gathered by a group commit, with the id drawn for it (see group-writes.ts). */
export interface DrawnSenderContact {
  readonly id: number;
  readonly listId: number;
  readonly name: string;
  /** Normalised ({@link senderContactAddress}). */
  readonly address: string;
}

/**
 * The stored form of a new sender's address.
 * @throws PosternError VALIDATION_FAILED for an empty address
 */
export function senderContactAddress(address: string): string {
  const [normalized = ''] = normalizeAddresses([address]);
  return normalized;
}

/**
 * Writes the new senders' contacts a group commit gathered: two statements for all of them.
 * Returns false, having written some of them, when another writer saved one of the addresses
 * meanwhile: the caller rolls back and runs the group again.
 *
 * @throws PosternError RESOURCE_NOT_FOUND when a contact's list is gone
 */
export async function insertSenderContacts(db: Database, contacts: readonly DrawnSenderContact[]): Promise<boolean> {
  if (contacts.length === 0) return true;
  const now = toDbTime(db.now());
  await db.kysely
    .insertInto('contacts')
    .values(
      contacts.map((contact) => ({
        id: contact.id,
        list_id: contact.listId,
        name: contact.name,
        notes: null,
        created_at: now,
        updated_at: now,
      })),
    )
    .execute()
    .catch((error: unknown) => {
      // The account's list was deleted after the worker read the account.
      throw readConstraintViolation(error)?.kind === 'foreign_key'
        ? listNotFound(contacts[0]?.listId ?? 0, error)
        : error;
    });
  const saved = await db.kysely
    .insertInto('contact_addresses')
    .values(
      contacts.map((contact) => ({ contact_id: contact.id, address: contact.address, position: 0, created_at: now })),
    )
    .onConflict((conflict) => conflict.doNothing())
    .returning('contact_id')
    .execute();
  return saved.length === contacts.length;
}

/**
 * Changes a contact; given `addresses` replace its set.
 *
 * @throws PosternError RESOURCE_NOT_FOUND (contact or list), CONTACT_ADDRESS_TAKEN for an address
 *   of another contact, VALIDATION_FAILED for an empty address set.
 */
export async function updateContact(db: Database, id: number, changes: ContactChanges): Promise<ContactRecord> {
  const addresses = changes.addresses === undefined ? undefined : normalizeAddresses(changes.addresses);
  return withAddressConflicts(db, addresses ?? [], changes.listId, () =>
    db.transaction(async (tx) => {
      const current = await requireContact(tx, id);
      if (changes.listId !== undefined) await assertListExists(tx, changes.listId);
      await tx.kysely
        .updateTable('contacts')
        .set({
          ...(changes.listId === undefined ? {} : { list_id: changes.listId }),
          ...(changes.name === undefined ? {} : { name: changes.name }),
          ...(changes.notes === undefined ? {} : { notes: changes.notes }),
          updated_at: toDbTime(tx.now()),
        })
        .where('id', '=', id)
        .execute();
      if (addresses !== undefined) await replaceAddresses(tx, id, addresses, changes.listId ?? current.listId);
      return requireContact(tx, id);
    }),
  );
}

/**
 * Deletes a contact and its addresses.
 *
 * @throws PosternError RESOURCE_NOT_FOUND, or RESOURCE_CONFLICT when conversations refer to it.
 */
export async function deleteContact(db: Database, id: number): Promise<void> {
  await deleteUnlessReferenced(db, 'contacts', id, {
    resource: 'contact',
    notFound: () => contactNotFound(id),
    inUse: { message: `Contact ${id} has conversations and cannot be deleted.` },
  });
}

/** The most notes a merge keeps: what the API accepts for one contact. */
export const CONTACT_NOTES_MAX = 10_000;

/**
 * Merges contact `otherId` into contact `id`, in one transaction: the other's addresses are
 * appended to this one's, its conversations become this one's, its notes are appended to this
 * one's (up to {@link CONTACT_NOTES_MAX} characters), and it is deleted. This contact keeps its
 * name and list. Both must be in the same list: a list is an address book of its own, and a merge
 * across two would move conversations out of the view of the agents of the other list's accounts.
 *
 * @throws PosternError RESOURCE_NOT_FOUND (either contact), CONTACT_MERGE_LIST_MISMATCH,
 *   VALIDATION_FAILED when both ids are the same.
 */
/** A merge's outcome: the contact kept, and the conversations that moved to it from the other. */
export interface MergedContacts {
  readonly contact: ContactRecord;
  readonly moved: ReadonlyArray<{ readonly interactionId: number; readonly accountId: number }>;
}

export async function mergeContacts(db: Database, id: number, otherId: number): Promise<MergedContacts> {
  if (id === otherId) {
    throw new PosternError('VALIDATION_FAILED', {
      message: 'A contact cannot be merged with itself.',
      details: { in: 'body', fields: [{ field: 'otherId', problem: 'is this contact itself' }] },
    });
  }
  return db.transaction(async (tx) => {
    const [kept, other] = [await requireContact(tx, id), await requireContact(tx, otherId)];
    if (kept.listId !== other.listId) {
      throw new PosternError('CONTACT_MERGE_LIST_MISMATCH', {
        message: `Contact "${kept.name}" (${kept.id}) is in list ${kept.listId} and contact "${other.name}" (${other.id}) in list ${other.listId}: they cannot be merged.`,
        details: { id: kept.id, listId: kept.listId, otherId: other.id, otherListId: other.listId },
      });
    }
    const last = await tx.kysely
      .selectFrom('contact_addresses')
      .select((eb) => eb.fn.max('position').as('position'))
      .where('contact_id', '=', id)
      .executeTakeFirst();
    const shift = Number(last?.position ?? 0) + 1;
    await tx.kysely
      .updateTable('contact_addresses')
      .set((eb) => ({ contact_id: id, position: eb('position', '+', shift) }))
      .where('contact_id', '=', otherId)
      .execute();
    const now = toDbTime(tx.now());
    const moved = await tx.kysely
      .updateTable('interactions')
      .set({ contact_id: id, updated_at: now })
      .where('contact_id', '=', otherId)
      .returning(['id', 'account_id'])
      .execute();
    await tx.kysely
      .updateTable('contacts')
      .set({ notes: mergedNotes(kept.notes, other.notes), updated_at: now })
      .where('id', '=', id)
      .execute();
    await tx.kysely.deleteFrom('contacts').where('id', '=', otherId).execute();
    return {
      contact: await requireContact(tx, id),
      moved: moved.map((row) => ({ interactionId: Number(row.id), accountId: Number(row.account_id) })),
    };
  });
}

/** This contact's notes, then the other's; null when neither has any. */
function mergedNotes(kept: string | null, other: string | null): string | null {
  const parts = [kept, other].map((notes) => notes?.trim() ?? '').filter((notes) => notes !== '');
  return parts.length === 0 ? null : parts.join('\n\n').slice(0, CONTACT_NOTES_MAX);
}

/** The contact with this id, if it exists and is within `scope` (default: every contact). */
export async function getContact(
  db: Database,
  id: number,
  scope: ContactScope = { all: true },
): Promise<ContactRecord | undefined> {
  let query = db.kysely.selectFrom('contacts').selectAll().where('contacts.id', '=', id);
  if ('agentUserId' in scope) query = query.where((eb) => contactVisibleTo(eb, scope.agentUserId));
  const row = await query.executeTakeFirst();
  if (row === undefined) return undefined;
  const [contact] = await attachAddresses(db, [row]);
  return contact;
}

/**
 * The contact with this id, within `scope` (default: every contact).
 * @throws PosternError RESOURCE_NOT_FOUND, the same for a contact outside the scope.
 */
export async function requireContact(
  db: Database,
  id: number,
  scope: ContactScope = { all: true },
): Promise<ContactRecord> {
  const contact = await getContact(db, id, scope);
  if (contact === undefined) throw contactNotFound(id);
  return contact;
}

/** Rows of an `in (…)` list per query: far below either engine's limit on parameters. */
const ADDRESSES_PER_QUERY = 500;

/**
 * The contacts that own any of these addresses, keyed by the address lower-cased and trimmed
 * (see {@link contactAddressKey}); addresses no contact owns are absent. A group commit's sender
 * lookup: one query for the group instead of one per message.
 */
export async function findContactIdsByAddresses(
  db: Database,
  addresses: readonly string[],
): Promise<Map<string, number>> {
  const keys = [...new Set(addresses.map(contactAddressKey))];
  const owners = new Map<string, number>();
  for (let start = 0; start < keys.length; start += ADDRESSES_PER_QUERY) {
    const rows = await db.kysely
      .selectFrom('contact_addresses')
      .select(['address', 'contact_id'])
      .where('address', 'in', keys.slice(start, start + ADDRESSES_PER_QUERY))
      .execute();
    for (const row of rows) owners.set(row.address, row.contact_id);
  }
  return owners;
}

/** How an address is stored and compared in `contact_addresses`: trimmed, lower-cased. */
export function contactAddressKey(address: string): string {
  return normalizeAddress(address);
}

/** The contact that owns an address, compared regardless of case. */
export async function findContactByAddress(db: Database, address: string): Promise<ContactRecord | undefined> {
  const owner = await db.kysely
    .selectFrom('contact_addresses')
    .select('contact_id')
    .where('address', '=', normalizeAddress(address))
    .executeTakeFirst();
  return owner === undefined ? undefined : getContact(db, owner.contact_id);
}

/** A contact's name with its first address (in the contact's order), if it has any. */
export async function findContactFirstAddress(
  db: Database,
  contactId: number,
): Promise<{ name: string; address: string } | undefined> {
  return db.kysely
    .selectFrom('contact_addresses')
    .innerJoin('contacts', 'contacts.id', 'contact_addresses.contact_id')
    .select(['contacts.name', 'contact_addresses.address'])
    .where('contact_addresses.contact_id', '=', contactId)
    .orderBy('contact_addresses.position')
    .orderBy('contact_addresses.id')
    .executeTakeFirst();
}

/** Contacts by name, within the scope, filtered by list and by a text found in the name or an address. */
export async function searchContacts(db: Database, search: ContactSearch = {}): Promise<Page<ContactRecord>> {
  const { limit, offset } = normalizePage(search);
  const base = filteredContacts(db, search);
  const [totalRow, rows] = await Promise.all([
    base.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
    base
      .selectAll('contacts')
      .orderBy((eb) => eb.fn('lower', ['contacts.name']))
      .orderBy('contacts.id')
      .limit(limit)
      .offset(offset)
      .execute(),
  ]);
  return { items: await attachAddresses(db, rows), total: Number(totalRow.total), limit, offset };
}

function filteredContacts(db: Database, search: ContactSearch) {
  let query = db.kysely.selectFrom('contacts');
  const scope = search.scope;
  if (scope !== undefined && 'agentUserId' in scope) {
    query = query.where((eb) => contactVisibleTo(eb, scope.agentUserId));
  }
  if (search.listId !== undefined) query = query.where('contacts.list_id', '=', search.listId);
  const text = search.query?.trim() ?? '';
  if (text !== '') query = query.where(contactTextCondition(db.engine, text));
  return query;
}

/** Lower-cased, trimmed, de-duplicated; at least one. */
function normalizeAddresses(addresses: readonly string[]): string[] {
  const normalized = [...new Set(addresses.map(normalizeAddress))].filter((a) => a !== '');
  if (normalized.length === 0) {
    throw new PosternError('VALIDATION_FAILED', {
      message: 'A contact needs at least one email address.',
      details: { field: 'addresses' },
    });
  }
  return normalized;
}

function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

async function assertListExists(db: Database, listId: number): Promise<void> {
  const list = await db.kysely.selectFrom('lists').select('id').where('id', '=', listId).executeTakeFirst();
  if (list === undefined) throw listNotFound(listId);
}

function listNotFound(listId: number, cause?: unknown): PosternError {
  return new PosternError('RESOURCE_NOT_FOUND', {
    message: `There is no list ${listId}.`,
    details: { resource: 'list', id: listId },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Throws the friendly conflict when an address belongs to another contact; `listId` is the list
 * of the contact being written (the remedy differs when the owner is in another one).
 */
async function assertAddressesFree(
  db: Database,
  addresses: readonly string[],
  listId: number | undefined,
  exceptContactId?: number,
): Promise<void> {
  const taken = await findAddressOwner(db, addresses, exceptContactId);
  if (taken !== undefined) throw addressConflict(taken.address, listId, taken);
}

/** An address's owner, as a conflict names it. */
interface AddressOwner {
  readonly address: string;
  readonly id: number;
  readonly name: string;
  readonly listId: number;
}

/** The first of `addresses` that a contact (other than `exceptContactId`) owns, and its owner. */
async function findAddressOwner(
  db: Database,
  addresses: readonly string[],
  exceptContactId?: number,
): Promise<AddressOwner | undefined> {
  if (addresses.length === 0) return undefined;
  let query = db.kysely
    .selectFrom('contact_addresses')
    .innerJoin('contacts', 'contacts.id', 'contact_addresses.contact_id')
    .select(['contact_addresses.address', 'contacts.id', 'contacts.name', 'contacts.list_id as listId'])
    .where('contact_addresses.address', 'in', [...addresses]);
  if (exceptContactId !== undefined) query = query.where('contacts.id', '!=', exceptContactId);
  return query.orderBy('contact_addresses.address').executeTakeFirst();
}

async function insertAddresses(db: Database, contactId: number, addresses: readonly string[], from = 0): Promise<void> {
  if (addresses.length === 0) return;
  const now = toDbTime(db.now());
  await db.kysely
    .insertInto('contact_addresses')
    .values(
      addresses.map((address, index) => ({ contact_id: contactId, address, position: from + index, created_at: now })),
    )
    .execute();
}

async function replaceAddresses(
  db: Database,
  contactId: number,
  addresses: readonly string[],
  listId: number,
): Promise<void> {
  await assertAddressesFree(db, addresses, listId, contactId);
  await db.kysely.deleteFrom('contact_addresses').where('contact_id', '=', contactId).execute();
  await insertAddresses(db, contactId, addresses);
}

async function attachAddresses(db: Database, rows: readonly Row<'contacts'>[]): Promise<ContactRecord[]> {
  if (rows.length === 0) return [];
  const addressRows = await db.kysely
    .selectFrom('contact_addresses')
    .select(['contact_id', 'address'])
    .where(
      'contact_id',
      'in',
      rows.map((row) => row.id),
    )
    .orderBy('contact_id')
    .orderBy('position')
    .orderBy('id')
    .execute();
  const byContact = new Map<number, string[]>();
  for (const { contact_id: contactId, address } of addressRows) {
    byContact.set(contactId, [...(byContact.get(contactId) ?? []), address]);
  }
  return rows.map((row) => toContactRecord(row, byContact.get(row.id) ?? []));
}

/**
 * Runs a write and turns a unique violation that slipped past the pre-check (a concurrent
 * writer) into the same conflict. The owner is named when it can still be read: not inside a
 * caller's transaction, which PostgreSQL has aborted.
 */
async function withAddressConflicts<T>(
  db: Database,
  addresses: readonly string[],
  listId: number | undefined,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (readConstraintViolation(error)?.kind !== 'unique') throw error;
    const owner = db.inTransaction ? undefined : await findAddressOwner(db, addresses);
    throw addressConflict(owner?.address ?? addresses.join(', '), listId, owner, error);
  }
}

/**
 * CONTACT_ADDRESS_TAKEN. The catalogue's remedy (merge them) holds when the owner is in the same
 * list as the contact written; across lists a merge is refused, so the remedy says so.
 */
function addressConflict(
  address: string,
  listId: number | undefined,
  owner: AddressOwner | undefined,
  cause?: unknown,
): PosternError {
  const whose = owner === undefined ? 'another contact' : `contact "${owner.name}" (${owner.id})`;
  const otherList = owner !== undefined && listId !== undefined && owner.listId !== listId;
  return new PosternError('CONTACT_ADDRESS_TAKEN', {
    message: `The address ${address} already belongs to ${whose}.`,
    ...(otherList
      ? {
          remedy: `An address belongs to one contact only, and ${whose} is in another list: remove the address from it first, or move it into this list and merge the two.`,
        }
      : {}),
    details: {
      field: 'addresses',
      address,
      ...(owner === undefined ? {} : { contactId: owner.id, contactName: owner.name, contactListId: owner.listId }),
    },
    cause,
  });
}

function contactNotFound(id: number): PosternError {
  return new PosternError('RESOURCE_NOT_FOUND', {
    message: `There is no contact ${id}.`,
    details: { resource: 'contact', id },
  });
}

function toContactRecord(row: Row<'contacts'>, addresses: string[]): ContactRecord {
  return {
    id: row.id,
    listId: row.list_id,
    name: row.name,
    notes: row.notes,
    addresses,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
