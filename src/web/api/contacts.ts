import { request, send } from './client.js';
import {
  contact,
  contactList,
  interactionPage,
  pageOf,
  type Contact,
  type ContactList,
  type InteractionPage,
  type Page,
} from './schemas.js';

export interface ListFields {
  name: string;
  description: string | null;
}

export interface ContactFields {
  listId: number;
  name: string;
  addresses: string[];
  notes: string | null;
}

export function listLists(query: { q?: string; limit?: number; offset?: number } = {}): Promise<Page<ContactList>> {
  return request('GET', '/api/lists', pageOf(contactList), { query });
}

export function createList(fields: ListFields): Promise<ContactList> {
  return request('POST', '/api/lists', contactList, { body: fields });
}

export function updateList(id: number, fields: ListFields): Promise<ContactList> {
  return request('PATCH', `/api/lists/${id}`, contactList, { body: fields });
}

export function deleteList(id: number): Promise<void> {
  return send('DELETE', `/api/lists/${id}`);
}

export function searchContacts(query: {
  q?: string;
  listId?: number;
  limit?: number;
  offset?: number;
}): Promise<Page<Contact>> {
  return request('GET', '/api/contacts', pageOf(contact), { query });
}

export function createContact(fields: ContactFields): Promise<Contact> {
  return request('POST', '/api/contacts', contact, { body: fields });
}

export function updateContact(id: number, fields: Partial<ContactFields>): Promise<Contact> {
  return request('PATCH', `/api/contacts/${id}`, contact, { body: fields });
}

export function deleteContact(id: number): Promise<void> {
  return send('DELETE', `/api/contacts/${id}`);
}

export function getContact(id: number): Promise<Contact> {
  return request('GET', `/api/contacts/${id}`, contact);
}

/** Merges contact `from` into contact `id`: `from` is deleted, its addresses and conversations move. */
export function mergeContact(id: number, from: number): Promise<Contact> {
  return request('POST', `/api/contacts/${id}/merge`, contact, { body: { from } });
}

/** The contact's conversations in the caller's accounts, newest activity first. */
export function contactInteractions(id: number, cursor?: string): Promise<InteractionPage> {
  return request('GET', `/api/contacts/${id}/interactions`, interactionPage, {
    query: cursor === undefined ? {} : { cursor },
  });
}
