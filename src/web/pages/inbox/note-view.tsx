/**
 * Internal notes in a conversation's timeline: set apart from the mail (another colour, an
 * "Internal note" label, never addressed to anyone), with their author and time. Their author (or
 * an administrator) can change or delete them; the form under the timeline adds one.
 */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useId, useState } from 'preact/hooks';
import { addNote, deleteNote, editNote } from '../../api/interactions.js';
import type { Note } from '../../api/schemas.js';
import { ErrorNotice } from '../../components/notice.js';
import { formatDateTime } from '../../lib/format.js';
import { useSubmit } from '../../lib/use-submit.js';

/** Longest note the server keeps (LIMITS.noteChars). */
const NOTE_MAX_CHARS = 10_000;

export function NoteView({
  note,
  mine,
  canChange,
  onChanged,
}: {
  note: Note;
  /** Written by the viewer. */
  mine: boolean;
  /** The viewer may change or delete it (its author, or an administrator). */
  canChange: boolean;
  onChanged: () => void;
}): JSX.Element {
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [text, setText] = useState(note.body);
  const action = useSubmit();
  const textId = useId();
  const author = mine ? 'You' : (note.authorName ?? 'A deleted user');

  const save = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    if (text.trim() === '') return;
    void action
      .run(async () => {
        await editNote(note.id, text);
        onChanged();
      })
      .then((ok) => {
        if (ok) setEditing(false);
      });
  };

  return (
    <article class="note" aria-label={`Internal note by ${author}`}>
      <header class="note-header">
        <div>
          <span class="note-label">Internal note</span> <strong>{author}</strong>
        </div>
        <div class="message-meta">
          <time dateTime={note.createdAt}>{formatDateTime(note.createdAt)}</time>
          {note.updatedAt === note.createdAt ? null : <span>(edited)</span>}
        </div>
      </header>
      {editing ? (
        <form class="note-form" onSubmit={save} aria-label="Change the note">
          <label for={textId} class="visually-hidden">
            Note
          </label>
          <textarea
            id={textId}
            rows={3}
            maxLength={NOTE_MAX_CHARS}
            value={text}
            onInput={(event) => setText(event.currentTarget.value)}
          />
          <div class="composer-row">
            <button
              type="submit"
              class="button button-small button-primary"
              disabled={action.busy || text.trim() === ''}
            >
              Save note
            </button>
            <button
              type="button"
              class="button button-small"
              onClick={() => {
                setText(note.body);
                setEditing(false);
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <p class="message-text note-text">{note.body}</p>
      )}
      {action.error === undefined ? null : <ErrorNotice error={action.error} />}
      {!canChange || editing ? null : confirming ? (
        <p class="note-actions" role="group" aria-label="Delete this note?">
          Delete this note?{' '}
          <button
            type="button"
            class="button button-small button-danger"
            disabled={action.busy}
            onClick={() =>
              void action.run(async () => {
                await deleteNote(note.id);
                onChanged();
              })
            }
          >
            Delete
          </button>{' '}
          <button type="button" class="button button-small" onClick={() => setConfirming(false)}>
            Keep
          </button>
        </p>
      ) : (
        <p class="note-actions">
          <button
            type="button"
            class="button button-small"
            onClick={() => {
              setText(note.body);
              setEditing(true);
            }}
          >
            Edit note
          </button>{' '}
          <button type="button" class="button button-small" onClick={() => setConfirming(true)}>
            Delete note
          </button>
        </p>
      )}
    </article>
  );
}

/** The form that adds an internal note. */
export function NoteComposer({ interactionId, onAdded }: { interactionId: number; onAdded: () => void }): JSX.Element {
  const [text, setText] = useState('');
  const action = useSubmit();
  const textId = useId();
  const submit = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    if (text.trim() === '') return;
    void action
      .run(async () => {
        await addNote(interactionId, text);
        onAdded();
      })
      .then((ok) => {
        if (ok) setText('');
      });
  };
  return (
    <form class="note-composer" onSubmit={submit} aria-label="Internal note">
      <label for={textId} class="note-label">
        Internal note — only agents see it, never sent to the customer
      </label>
      <textarea
        id={textId}
        rows={2}
        maxLength={NOTE_MAX_CHARS}
        value={text}
        onInput={(event) => setText(event.currentTarget.value)}
        placeholder="Write a note for your colleagues…"
      />
      {action.error === undefined ? null : <ErrorNotice error={action.error} title="The note was not saved" />}
      <div class="composer-row">
        <button type="submit" class="button button-small" disabled={action.busy || text.trim() === ''}>
          Add note
        </button>
      </div>
    </form>
  );
}
