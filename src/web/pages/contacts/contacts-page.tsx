/** Contacts: search by name or address, filter by list, create, edit and delete; a name opens the contact's page. */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { deleteContact, listLists, searchContacts } from '../../api/contacts.js';
import type { Contact } from '../../api/schemas.js';
import { Loading, PageHeader } from '../../components/app-shell.js';
import { SelectField, TextField } from '../../components/fields.js';
import { ErrorNotice, Notice } from '../../components/notice.js';
import { useConfirm } from '../../components/confirm-dialog.js';
import { plural } from '../../lib/format.js';
import { Link, navigate, useLocation } from '../../lib/router.js';
import { useSession } from '../../lib/session.js';
import { useResource } from '../../lib/use-resource.js';
import { useSubmit } from '../../lib/use-submit.js';
import { ContactDialog } from './contact-dialog.js';

const PAGE_SIZE = 50;

export function ContactsPage(): JSX.Element {
  const { user } = useSession();
  const admin = user.role === 'admin';
  const location = useLocation();
  const listId = location.search.get('listId') ?? '';
  const query = location.search.get('q') ?? '';
  const offset = Number(location.search.get('offset') ?? '0') || 0;
  const [typed, setTyped] = useState(query);
  const [editing, setEditing] = useState<Contact | 'new' | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const removal = useSubmit();
  const [confirm, confirmation] = useConfirm();

  const lists = useResource(() => listLists({ limit: 200 }), 'lists');
  const contacts = useResource(
    () => searchContacts({ q: query, limit: PAGE_SIZE, offset, ...(listId === '' ? {} : { listId: Number(listId) }) }),
    `${query}|${listId}|${offset}`,
  );

  const go = (change: { q?: string; listId?: string; offset?: number }): void => {
    const params = new URLSearchParams();
    const q = change.q ?? query;
    const list = change.listId ?? listId;
    const from = change.offset ?? 0;
    if (q !== '') params.set('q', q);
    if (list !== '') params.set('listId', list);
    if (from > 0) params.set('offset', String(from));
    const text = params.toString();
    navigate(`/contacts${text === '' ? '' : `?${text}`}`, { replace: true });
  };

  // Search as the user types, once they pause.
  useEffect(() => {
    if (typed === query) return undefined;
    const timer = window.setTimeout(() => go({ q: typed.trim() }), 300);
    return () => window.clearTimeout(timer);
  }, [typed]);

  const listName = (id: number): string => lists.data?.items.find((l) => l.id === id)?.name ?? `List ${id}`;
  const remove = async (contact: Contact): Promise<void> => {
    const question = {
      title: `Delete the contact "${contact.name}"?`,
      body: 'Their conversations stay, without a contact.',
      action: 'Delete',
    };
    if (!(await confirm(question))) return;
    void removal.run(async () => {
      await deleteContact(contact.id);
      setMessage(`Contact ${contact.name} deleted.`);
      await contacts.reload();
    });
  };
  const page = contacts.data;

  return (
    <section>
      <PageHeader
        title="Contacts"
        actions={
          admin ? (
            <button
              type="button"
              class="button button-primary"
              onClick={() => setEditing('new')}
              disabled={(lists.data?.items.length ?? 0) === 0}
            >
              New contact
            </button>
          ) : undefined
        }
      />
      <form
        role="search"
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          go({ q: typed.trim() });
        }}
      >
        <TextField
          label="Search by name or address"
          type="search"
          value={typed}
          onValue={setTyped}
          placeholder="name or name@example.com"
        />
        <SelectField
          label="List"
          value={listId}
          onValue={(value) => go({ listId: value })}
          options={[
            { value: '', label: 'All lists' },
            ...(lists.data?.items ?? []).map((l) => ({ value: String(l.id), label: l.name })),
          ]}
        />
      </form>
      {message === null ? null : (
        <Notice tone="success" onDismiss={() => setMessage(null)}>
          {message}
        </Notice>
      )}
      {removal.error === undefined ? null : <ErrorNotice error={removal.error} title="The contact was not deleted" />}
      {contacts.error === undefined ? null : <ErrorNotice error={contacts.error} />}
      {page === undefined ? (
        contacts.error === undefined ? (
          <Loading what="contacts" />
        ) : null
      ) : (
        <>
          <p class="muted" role="status">
            {page.total === 0
              ? 'No contact matches.'
              : `${plural(page.total, 'contact')}${page.total > page.items.length ? `, showing ${page.offset + 1}–${page.offset + page.items.length}` : ''}`}
          </p>
          {page.items.length === 0 ? null : (
            <div class="table-wrap">
              <table class="table">
                <caption class="visually-hidden">Contacts</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Addresses</th>
                    <th scope="col">List</th>
                    {admin ? (
                      <th scope="col">
                        <span class="visually-hidden">Actions</span>
                      </th>
                    ) : null}
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((contact) => (
                    <tr key={contact.id}>
                      <th scope="row">
                        <Link to={`/contacts/${contact.id}`}>{contact.name}</Link>
                        {contact.notes === null || contact.notes === '' ? null : (
                          <span class="muted block">{contact.notes}</span>
                        )}
                      </th>
                      <td>
                        {contact.addresses.map((a) => (
                          <span key={a} class="block">
                            {a}
                          </span>
                        ))}
                      </td>
                      <td>{listName(contact.listId)}</td>
                      {admin ? (
                        <td class="row-actions">
                          <button
                            type="button"
                            class="button button-small"
                            onClick={() => setEditing(contact)}
                            aria-label={`Edit ${contact.name}`}
                          >
                            Edit
                          </button>
                          <button
                            type="button"
                            class="button button-small button-danger"
                            onClick={() => void remove(contact)}
                            aria-label={`Delete ${contact.name}`}
                            disabled={removal.busy}
                          >
                            Delete
                          </button>
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {page.offset === 0 && page.items.length >= page.total ? null : (
            <nav class="pager" aria-label="Pages of contacts">
              <button
                type="button"
                class="button"
                disabled={page.offset === 0}
                onClick={() => go({ offset: Math.max(0, page.offset - PAGE_SIZE) })}
              >
                Previous
              </button>
              <button
                type="button"
                class="button"
                disabled={page.offset + page.items.length >= page.total}
                onClick={() => go({ offset: page.offset + PAGE_SIZE })}
              >
                Next
              </button>
            </nav>
          )}
        </>
      )}
      <ContactDialog
        contact={editing}
        lists={lists.data?.items ?? []}
        defaultListId={listId === '' ? undefined : Number(listId)}
        onClose={() => setEditing(null)}
        onSaved={(saved) => {
          setEditing(null);
          setMessage(`Contact ${saved.name} saved.`);
          void contacts.reload();
          void lists.reload();
        }}
      />
      {confirmation}
    </section>
  );
}
