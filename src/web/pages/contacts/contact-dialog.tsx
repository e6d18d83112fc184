/** Create or edit a contact: its list, name, one or more addresses, notes. */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { createContact, updateContact } from '../../api/contacts.js';
import type { Contact, ContactList } from '../../api/schemas.js';
import { Dialog } from '../../components/dialog.js';
import { SelectField, TextArea, TextField, problemsByField } from '../../components/fields.js';
import { ErrorNotice } from '../../components/notice.js';
import { useSubmit } from '../../lib/use-submit.js';

export interface ContactDialogProps {
  contact: Contact | 'new' | null;
  lists: ContactList[];
  defaultListId: number | undefined;
  onClose: () => void;
  onSaved: (contact: Contact) => void;
}

export function ContactDialog({ contact, lists, defaultListId, onClose, onSaved }: ContactDialogProps): JSX.Element {
  const title = contact === 'new' ? 'New contact' : contact === null ? 'Contact' : `Edit ${contact.name}`;
  return (
    <Dialog title={title} open={contact !== null} onClose={onClose}>
      {contact === null ? null : (
        <ContactForm
          key={contact === 'new' ? 'new' : contact.id}
          contact={contact === 'new' ? null : contact}
          lists={lists}
          defaultListId={defaultListId}
          onClose={onClose}
          onSaved={onSaved}
        />
      )}
    </Dialog>
  );
}

function ContactForm({
  contact,
  lists,
  defaultListId,
  onClose,
  onSaved,
}: {
  contact: Contact | null;
  lists: ContactList[];
  defaultListId: number | undefined;
  onClose: () => void;
  onSaved: (contact: Contact) => void;
}): JSX.Element {
  const [listId, setListId] = useState(String(contact?.listId ?? defaultListId ?? lists[0]?.id ?? ''));
  const [name, setName] = useState(contact?.name ?? '');
  const [addresses, setAddresses] = useState(contact?.addresses.join('\n') ?? '');
  const [notes, setNotes] = useState(contact?.notes ?? '');
  const submission = useSubmit();
  const problems = problemsByField(submission.error?.fields ?? []);

  const save = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const fields = {
      listId: Number(listId),
      name: name.trim(),
      addresses: addresses
        .split(/[\s,;]+/)
        .map((a) => a.trim())
        .filter((a) => a !== ''),
      notes: notes.trim() === '' ? null : notes,
    };
    void submission.run(async () =>
      onSaved(contact === null ? await createContact(fields) : await updateContact(contact.id, fields)),
    );
  };

  return (
    <form class="form" onSubmit={save}>
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      <SelectField
        label="List"
        value={listId}
        onValue={setListId}
        options={lists.map((l) => ({ value: String(l.id), label: l.name }))}
        required
        problem={problems.listId}
      />
      <TextField label="Name" value={name} onValue={setName} required problem={problems.name} />
      <TextArea
        label="Email addresses"
        value={addresses}
        onValue={setAddresses}
        rows={3}
        required
        help="One per line. An address belongs to one contact only."
        problem={problems.addresses}
      />
      <TextArea label="Notes" value={notes} onValue={setNotes} rows={3} problem={problems.notes} />
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
