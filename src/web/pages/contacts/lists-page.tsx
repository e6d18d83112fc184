/** Contact lists: where new senders are saved (each email account has a default list). */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { createList, deleteList, listLists, updateList } from '../../api/contacts.js';
import type { ContactList } from '../../api/schemas.js';
import { Loading, PageHeader } from '../../components/app-shell.js';
import { Dialog } from '../../components/dialog.js';
import { TextArea, TextField, problemsByField } from '../../components/fields.js';
import { ErrorNotice, Notice } from '../../components/notice.js';
import { useConfirm } from '../../components/confirm-dialog.js';
import { Link } from '../../lib/router.js';
import { useSession } from '../../lib/session.js';
import { useResource } from '../../lib/use-resource.js';
import { useSubmit } from '../../lib/use-submit.js';

export function ListsPage(): JSX.Element {
  const { user } = useSession();
  const admin = user.role === 'admin';
  const lists = useResource(() => listLists({ limit: 200 }), 'lists');
  const [editing, setEditing] = useState<ContactList | 'new' | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const removal = useSubmit();
  const [confirm, confirmation] = useConfirm();

  const remove = async (list: ContactList): Promise<void> => {
    if (!(await confirm({ title: `Delete the list "${list.name}"?`, action: 'Delete' }))) return;
    void removal.run(async () => {
      await deleteList(list.id);
      setMessage(`List ${list.name} deleted.`);
      await lists.reload();
    });
  };

  return (
    <section>
      <PageHeader
        title="Lists"
        actions={
          admin ? (
            <button type="button" class="button button-primary" onClick={() => setEditing('new')}>
              New list
            </button>
          ) : undefined
        }
      >
        <p class="lead">
          Contact lists. A sender Postern does not know yet is saved into the default list of the account that received
          the mail.
        </p>
      </PageHeader>
      {message === null ? null : (
        <Notice tone="success" onDismiss={() => setMessage(null)}>
          {message}
        </Notice>
      )}
      {removal.error === undefined ? null : <ErrorNotice error={removal.error} title="The list was not deleted" />}
      {lists.error === undefined ? null : <ErrorNotice error={lists.error} />}
      {lists.data === undefined ? (
        lists.error === undefined ? (
          <Loading what="lists" />
        ) : null
      ) : lists.data.items.length === 0 ? (
        <p class="empty card">No list yet.{admin ? ' Create one to hold your contacts.' : ''}</p>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">Contact lists</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col" class="numeric">
                  Contacts
                </th>
                {admin ? (
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {lists.data.items.map((list) => (
                <tr key={list.id}>
                  <th scope="row">
                    <Link to={`/contacts?listId=${list.id}`}>{list.name}</Link>
                  </th>
                  <td>{list.description ?? ''}</td>
                  <td class="numeric">{list.contactCount}</td>
                  {admin ? (
                    <td class="row-actions">
                      <button
                        type="button"
                        class="button button-small"
                        onClick={() => setEditing(list)}
                        aria-label={`Edit list ${list.name}`}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        class="button button-small button-danger"
                        onClick={() => void remove(list)}
                        aria-label={`Delete list ${list.name}`}
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
      <Dialog
        title={editing === 'new' ? 'New list' : editing === null ? 'List' : `Edit ${editing.name}`}
        open={editing !== null}
        onClose={() => setEditing(null)}
      >
        {editing === null ? null : (
          <ListForm
            key={editing === 'new' ? 'new' : editing.id}
            list={editing === 'new' ? null : editing}
            onClose={() => setEditing(null)}
            onSaved={(saved) => {
              setEditing(null);
              setMessage(`List ${saved.name} saved.`);
              void lists.reload();
            }}
          />
        )}
      </Dialog>
      {confirmation}
    </section>
  );
}

function ListForm({
  list,
  onClose,
  onSaved,
}: {
  list: ContactList | null;
  onClose: () => void;
  onSaved: (list: ContactList) => void;
}): JSX.Element {
  const [name, setName] = useState(list?.name ?? '');
  const [description, setDescription] = useState(list?.description ?? '');
  const submission = useSubmit();
  const problems = problemsByField(submission.error?.fields ?? []);
  const save = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void submission.run(async () => {
      const fields = { name: name.trim(), description: description.trim() === '' ? null : description.trim() };
      onSaved(list === null ? await createList(fields) : await updateList(list.id, fields));
    });
  };
  return (
    <form class="form" onSubmit={save}>
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      <TextField label="Name" value={name} onValue={setName} required problem={problems.name} />
      <TextArea label="Description" value={description} onValue={setDescription} problem={problems.description} />
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={submission.busy}>
          Save
        </button>
        <button type="button" class="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
