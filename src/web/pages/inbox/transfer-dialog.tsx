/**
 * "Transfer…": hand the conversation to a named agent of the account with a note for them. The
 * assignment and the note are saved together (the note reads "Assigned to Dora: …"), and the new
 * owner sees both at once through the live stream.
 */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { assignInteraction } from '../../api/interactions.js';
import type { Assignees } from '../../api/schemas.js';
import { Dialog } from '../../components/dialog.js';
import { SelectField, TextArea, problemsByField } from '../../components/fields.js';
import { ErrorNotice } from '../../components/notice.js';
import { useSubmit } from '../../lib/use-submit.js';

/** The API's cap on a note. */
const NOTE_MAX = 10_000;

export function TransferDialog({
  interactionId,
  currentOwner,
  me,
  people,
  open,
  onClose,
  onDone,
}: {
  interactionId: number;
  currentOwner: number | null;
  me: number;
  people: Assignees['items'];
  open: boolean;
  onClose: () => void;
  onDone: () => void;
}): JSX.Element {
  return (
    <Dialog title="Transfer the conversation" open={open} onClose={onClose}>
      {open ? (
        <TransferForm
          interactionId={interactionId}
          people={people.filter((person) => person.id !== currentOwner)}
          me={me}
          onClose={onClose}
          onDone={onDone}
        />
      ) : null}
    </Dialog>
  );
}

function TransferForm({
  interactionId,
  people,
  me,
  onClose,
  onDone,
}: {
  interactionId: number;
  people: Assignees['items'];
  me: number;
  onClose: () => void;
  onDone: () => void;
}): JSX.Element {
  const [to, setTo] = useState(people[0] === undefined ? '' : String(people[0].id));
  const [note, setNote] = useState('');
  const submission = useSubmit();
  const problems = problemsByField(submission.error?.fields ?? []);
  const save = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void submission.run(async () => {
      await assignInteraction(interactionId, Number(to), note.trim() === '' ? undefined : note);
      onDone();
    });
  };
  if (people.length === 0) {
    return <p>Nobody else can be assigned this conversation: add agents to the email account first.</p>;
  }
  return (
    <form class="form" onSubmit={save} aria-label="Transfer">
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      <SelectField
        label="Transfer to"
        value={to}
        onValue={setTo}
        options={people.map((person) => ({
          value: String(person.id),
          label: person.id === me ? `${person.displayName} (you)` : person.displayName,
        }))}
        problem={problems.userId}
      />
      <TextArea
        label="Note for them"
        value={note}
        onValue={setNote}
        rows={4}
        maxLength={NOTE_MAX}
        help="Saved as an internal note with the transfer; never sent to the customer."
        problem={problems.note}
      />
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={submission.busy || to === ''}>
          {submission.busy ? 'Transferring…' : 'Transfer'}
        </button>
        <button type="button" class="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
