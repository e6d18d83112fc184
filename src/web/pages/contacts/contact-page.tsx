/**
 * One contact: name, addresses, list and notes, its conversations in the reader's accounts (each
 * opening in the inbox), Edit (administrators) and "Merge into…" another contact of the same list.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { contactInteractions, getContact, listLists } from '../../api/contacts.js';
import { listAccounts } from '../../api/email-accounts.js';
import type { Interaction } from '../../api/schemas.js';
import { Loading, PageHeader } from '../../components/app-shell.js';
import { EmailAddress } from '../../components/email-address.js';
import { ErrorNotice, Notice } from '../../components/notice.js';
import { formatDateTime, plural } from '../../lib/format.js';
import { Link, navigate, useLocation } from '../../lib/router.js';
import { useSession } from '../../lib/session.js';
import { useResource } from '../../lib/use-resource.js';
import { ContactDialog } from './contact-dialog.js';
import { MergeDialog } from './merge-dialog.js';

export function ContactPage({ id }: { id: number }): JSX.Element {
  const { user } = useSession();
  const admin = user.role === 'admin';
  const location = useLocation();
  const merged = location.search.get('merged');
  const [dialog, setDialog] = useState<'edit' | 'merge' | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const resource = useResource(() => getContact(id), String(id));
  const lists = useResource(() => listLists({ limit: 200 }), 'lists');
  const contact = resource.data;

  if (contact === undefined) {
    return (
      <section>
        <p class="page-back">
          <Link to="/contacts">← Contacts</Link>
        </p>
        {resource.error === undefined ? <Loading what="the contact" /> : <ErrorNotice error={resource.error} />}
      </section>
    );
  }
  const listName = lists.data?.items.find((list) => list.id === contact.listId)?.name ?? `List ${contact.listId}`;

  return (
    <section>
      <p class="page-back">
        <Link to="/contacts">← Contacts</Link>
      </p>
      <PageHeader
        title={contact.name}
        actions={
          <>
            {admin ? (
              <button type="button" class="button" onClick={() => setDialog('edit')}>
                Edit
              </button>
            ) : null}
            <button type="button" class="button" onClick={() => setDialog('merge')}>
              Merge into…
            </button>
          </>
        }
      />
      {merged === null ? null : (
        <Notice tone="success" onDismiss={() => navigate(`/contacts/${contact.id}`, { replace: true })}>
          {merged} was merged into {contact.name}.
        </Notice>
      )}
      {message === null ? null : (
        <Notice tone="success" onDismiss={() => setMessage(null)}>
          {message}
        </Notice>
      )}
      {resource.error === undefined ? null : <ErrorNotice error={resource.error} />}
      <div class="columns">
        <section class="card" aria-labelledby="contact-details-title">
          <h2 id="contact-details-title">Details</h2>
          <dl class="facts">
            <dt>Addresses</dt>
            <dd>
              <ul class="plain contact-addresses">
                {contact.addresses.map((address) => (
                  <li key={address}>
                    <a href={`mailto:${address}`}>
                      <EmailAddress address={address} />
                    </a>
                  </li>
                ))}
              </ul>
            </dd>
            <dt>List</dt>
            <dd>
              <Link to={`/contacts?listId=${contact.listId}`}>{listName}</Link>
            </dd>
            <dt>Notes</dt>
            <dd class="contact-notes">{contact.notes === null || contact.notes === '' ? '—' : contact.notes}</dd>
            <dt>Added</dt>
            <dd>{formatDateTime(contact.createdAt)}</dd>
          </dl>
        </section>
        <ContactConversations contactId={contact.id} />
      </div>
      <ContactDialog
        contact={dialog === 'edit' ? contact : null}
        lists={lists.data?.items ?? []}
        defaultListId={contact.listId}
        onClose={() => setDialog(null)}
        onSaved={(saved) => {
          setDialog(null);
          setMessage(`Contact ${saved.name} saved.`);
          void resource.reload();
        }}
      />
      <MergeDialog
        contact={contact}
        listName={listName}
        open={dialog === 'merge'}
        onClose={() => setDialog(null)}
        onMerged={(kept) => {
          setDialog(null);
          navigate(`/contacts/${kept.id}?${new URLSearchParams({ merged: contact.name }).toString()}`);
        }}
      />
    </section>
  );
}

/** The contact's conversations, newest activity first, a page at a time. */
function ContactConversations({ contactId }: { contactId: number }): JSX.Element {
  const [more, setMore] = useState<{ items: Interaction[]; nextCursor: string | null } | null>(null);
  const first = useResource(async () => {
    setMore(null);
    return contactInteractions(contactId);
  }, String(contactId));
  const accounts = useResource(listAccounts, 'inbox-accounts');
  const [loadingMore, setLoadingMore] = useState(false);
  const items = [...(first.data?.items ?? []), ...(more?.items ?? [])];
  const nextCursor = more === null ? (first.data?.nextCursor ?? null) : more.nextCursor;
  const accountName = (accountId: number): string =>
    accounts.data?.find((account) => account.id === accountId)?.name ?? `Account ${accountId}`;
  const loadMore = (): void => {
    if (nextCursor === null) return;
    setLoadingMore(true);
    void contactInteractions(contactId, nextCursor)
      .then((page) => setMore({ items: [...(more?.items ?? []), ...page.items], nextCursor: page.nextCursor }))
      .finally(() => setLoadingMore(false));
  };

  return (
    <section class="card" aria-labelledby="contact-conversations-title">
      <h2 id="contact-conversations-title">Conversations</h2>
      {first.error === undefined ? null : <ErrorNotice error={first.error} />}
      {first.data === undefined ? (
        first.error === undefined ? (
          <Loading what="conversations" />
        ) : null
      ) : items.length === 0 ? (
        <p class="muted" role="status">
          No conversation with this contact in your accounts.
        </p>
      ) : (
        <>
          <p class="muted" role="status">
            {nextCursor === null ? plural(items.length, 'conversation') : `${items.length} conversations so far`}
          </p>
          <ul class="plain contact-conversations">
            {items.map((interaction) => (
              <li key={interaction.id}>
                <Link to={`/inbox/${interaction.accountId}/${interaction.id}`}>
                  {interaction.subject === '' ? '(no subject)' : interaction.subject}
                </Link>
                <span class="muted block">
                  {accountName(interaction.accountId)} · {interaction.status === 'open' ? 'Open' : 'Closed'} ·{' '}
                  {plural(interaction.messageCount, 'message')} · {formatDateTime(interaction.lastActivityAt)}
                </span>
              </li>
            ))}
          </ul>
          {nextCursor === null ? null : (
            <button type="button" class="button" onClick={loadMore} disabled={loadingMore}>
              More conversations
            </button>
          )}
        </>
      )}
    </section>
  );
}
