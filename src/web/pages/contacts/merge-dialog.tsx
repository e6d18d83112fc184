/**
 * "Merge into…": pick, by name or address, another contact of the same list; this contact's
 * addresses, notes and conversations move to it and this one is deleted.
 */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { mergeContact, searchContacts } from '../../api/contacts.js';
import type { Contact } from '../../api/schemas.js';
import { Dialog } from '../../components/dialog.js';
import { TextField } from '../../components/fields.js';
import { ErrorNotice } from '../../components/notice.js';
import { useResource } from '../../lib/use-resource.js';
import { useSubmit } from '../../lib/use-submit.js';

export interface MergeDialogProps {
  contact: Contact;
  listName: string;
  open: boolean;
  onClose: () => void;
  /** The contact kept, as the merge returned it. */
  onMerged: (kept: Contact) => void;
}

export function MergeDialog({ contact, listName, open, onClose, onMerged }: MergeDialogProps): JSX.Element {
  return (
    <Dialog title={`Merge ${contact.name} into…`} open={open} onClose={onClose}>
      {open ? <MergeForm contact={contact} listName={listName} onClose={onClose} onMerged={onMerged} /> : null}
    </Dialog>
  );
}

const CANDIDATES = 10;

function MergeForm({ contact, listName, onClose, onMerged }: Omit<MergeDialogProps, 'open'>): JSX.Element {
  const [typed, setTyped] = useState('');
  const [query, setQuery] = useState('');
  const [chosen, setChosen] = useState<Contact | null>(null);
  const submission = useSubmit();
  useEffect(() => {
    const timer = window.setTimeout(() => setQuery(typed.trim()), 250);
    return () => window.clearTimeout(timer);
  }, [typed]);
  // One more than shown: this contact may be among them.
  const candidates = useResource(
    () => searchContacts({ q: query, listId: contact.listId, limit: CANDIDATES + 1 }),
    `${contact.id}|${query}`,
  );
  const others = (candidates.data?.items ?? []).filter((other) => other.id !== contact.id).slice(0, CANDIDATES);

  const merge = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    if (chosen === null) return;
    void submission.run(async () => onMerged(await mergeContact(chosen.id, contact.id)));
  };

  return (
    <form class="form" onSubmit={merge}>
      <p>
        Pick the contact to keep, in the list {listName}. {contact.name}'s addresses, notes and conversations move to
        it, and {contact.name} is deleted. The contact kept keeps its name.
      </p>
      {submission.error === undefined ? null : (
        <ErrorNotice error={submission.error} title="The contacts were not merged" />
      )}
      <TextField
        label="Find a contact"
        type="search"
        value={typed}
        onValue={setTyped}
        placeholder="name or name@example.com"
      />
      {candidates.error === undefined ? null : <ErrorNotice error={candidates.error} />}
      <fieldset class="merge-candidates">
        <legend>Contact to keep</legend>
        {candidates.data === undefined ? null : others.length === 0 ? (
          <p class="muted" role="status">
            No other contact of this list matches.
          </p>
        ) : (
          others.map((other) => (
            <label key={other.id} class="merge-candidate">
              <input
                type="radio"
                name="merge-target"
                value={String(other.id)}
                checked={chosen?.id === other.id}
                onChange={() => setChosen(other)}
              />
              <span>
                <strong>{other.name}</strong> <span class="muted">{other.addresses.join(', ')}</span>
              </span>
            </label>
          ))
        )}
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={chosen === null || submission.busy}>
          {chosen === null ? 'Merge' : `Merge into ${chosen.name}`}
        </button>
        <button type="button" class="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
