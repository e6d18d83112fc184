/**
 * What the reply composer inserts: the signature and canned answers, both filled by the server
 * for the conversation (its contact, account and reference, and the agent who writes).
 *
 * The signature — the agent's own, then the account's, a blank line between — is put under an
 * empty reply when the composer opens and again after a reply is sent, after the usual "-- " line
 * (RFC 3676 §4.3). It is ordinary text in the editor (escaped, its lines ended by `<br>`): the
 * agent may change or delete it. A restored draft already
 * holds what the agent left of it, so nothing is added to a draft; and the signature alone is not
 * a draft (it is not saved until the agent writes).
 *
 * Canned answer opens a type-to-filter picker (a combobox with a listbox, the ARIA pattern): the
 * arrows move, Enter inserts the answer at the editor's cursor (escaped, lines as `<br>`), Escape
 * closes.
 * @see https://www.w3.org/WAI/ARIA/apg/patterns/combobox/
 */
import type { JSX, RefObject } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client.js';
import { getComposerInserts, type ComposerInserts } from '../../api/canned-answers.js';
import { editorText, textToEditorHtml, type EditorHandle } from '../../components/rich-text-editor.js';
import { toApiError } from '../../lib/use-resource.js';

/** The line that opens a signature (RFC 3676 §4.3: dash, dash, space). */
export const SIGNATURE_SEPARATOR = '-- ';

/** The inserts of a conversation, loading or failed. */
export interface InsertsState {
  readonly data: ComposerInserts | undefined;
  readonly error: ApiError | undefined;
}

/** Whether a reply (editor HTML) holds nothing the agent wrote: blank, or the signature alone as it was put there. */
export function isBlankReply(html: string, inserts: InsertsState): boolean {
  const signature = inserts.data?.signature ?? null;
  const text = editorText(html);
  return text === '' || (signature !== null && text === editorText(signedHtml(signature)));
}

/** An empty reply with the signature under it, the cursor's place left empty above (editor HTML). */
export function signedHtml(signature: string): string {
  return `<div><br></div><div><br></div><div>${textToEditorHtml(`${SIGNATURE_SEPARATOR}\n${signature}`)}</div>`;
}

/**
 * Loads the conversation's inserts and puts the signature under the reply whenever a new reply
 * starts empty: once the draft is loaded (`ready`) and again for each new reply (`round`, the
 * composer's idempotency key, changes when a reply is sent).
 */
export function useComposerInserts(
  interactionId: number,
  reply: {
    ready: boolean;
    round: string;
    html: string;
    setHtml: (html: string) => void;
  },
): InsertsState {
  const [state, setState] = useState<InsertsState>({ data: undefined, error: undefined });
  const signed = useRef<string | undefined>(undefined);

  useEffect(() => {
    let current = true;
    getComposerInserts(interactionId).then(
      (data) => current && setState({ data, error: undefined }),
      (caught: unknown) => current && setState({ data: undefined, error: toApiError(caught) }),
    );
    return () => {
      current = false;
    };
  }, [interactionId]);

  const signature = state.data?.signature ?? null;
  useEffect(() => {
    if (!reply.ready || signature === null || state.data === undefined) return;
    const round = `${interactionId}:${reply.round}`;
    if (signed.current === round) return;
    signed.current = round;
    // A restored draft, or what the agent typed meanwhile, keeps its own text.
    // (The editor's cursor starts above it: a focused editor begins at its start.)
    if (reply.html !== '') return;
    reply.setHtml(signedHtml(signature));
  }, [reply.ready, reply.round, signature, state.data, interactionId]);

  return state;
}

/** The Canned answer button and its picker. */
export function CannedAnswerButton({
  inserts,
  editor,
}: {
  inserts: InsertsState;
  editor: RefObject<EditorHandle | null>;
}): JSX.Element {
  const [open, setOpen] = useState(false);
  const [filter, setFilter] = useState('');
  const [active, setActive] = useState(0);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const listId = useId();
  const inputId = useId();

  const wanted = filter.trim().toLowerCase();
  const answers = (inserts.data?.answers ?? []).filter(
    (answer) => wanted === '' || answer.title.toLowerCase().includes(wanted),
  );
  const chosen = answers[Math.min(active, answers.length - 1)];

  useEffect(() => {
    if (open) inputRef.current?.focus();
  }, [open]);

  const close = (): void => {
    setOpen(false);
    setFilter('');
    setActive(0);
  };

  const pick = (body: string): void => {
    close();
    // Where the agent's cursor was (replacing a selection); the cursor goes after it.
    editor.current?.insertHtml(textToEditorHtml(body));
  };

  const onKeyDown = (event: KeyboardEvent): void => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (answers.length === 0) return;
      const step = event.key === 'ArrowDown' ? 1 : -1;
      setActive((Math.min(active, answers.length - 1) + step + answers.length) % answers.length);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (chosen !== undefined) pick(chosen.body);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      close();
      buttonRef.current?.focus();
    }
  };

  const optionId = (id: number): string => `${listId}-${id}`;

  return (
    <div class="canned-picker">
      <button
        ref={buttonRef}
        type="button"
        class="button button-small"
        aria-expanded={open}
        aria-controls={open ? listId : undefined}
        onClick={() => (open ? close() : setOpen(true))}
      >
        Canned answer
      </button>
      {open ? (
        <div class="canned-popup card">
          <label for={inputId} class="visually-hidden">
            Find a canned answer by its title
          </label>
          <input
            ref={inputRef}
            id={inputId}
            type="text"
            class="canned-filter"
            role="combobox"
            aria-autocomplete="list"
            aria-expanded="true"
            aria-controls={listId}
            aria-activedescendant={chosen === undefined ? undefined : optionId(chosen.id)}
            placeholder="Type part of a title…"
            value={filter}
            autocomplete="off"
            spellcheck={false}
            onInput={(event) => {
              setFilter(event.currentTarget.value);
              setActive(0);
            }}
            onKeyDown={onKeyDown}
            onBlur={(event) => {
              // Leaving the picker (not for one of its options) closes it.
              const next = event.relatedTarget;
              if (!(next instanceof Node && event.currentTarget.parentElement?.contains(next) === true)) close();
            }}
          />
          <ul id={listId} role="listbox" aria-label="Canned answers" class="canned-list">
            {answers.map((answer) => (
              <li
                key={answer.id}
                id={optionId(answer.id)}
                role="option"
                aria-selected={answer === chosen}
                class={answer === chosen ? 'canned-option canned-option-active' : 'canned-option'}
                // The input keeps the focus: a mouse press must not blur it before the click.
                onMouseDown={(event) => event.preventDefault()}
                onClick={() => pick(answer.body)}
              >
                <span class="canned-title">{answer.title}</span>
                {answer.shared ? null : <span class="muted"> · personal</span>}
              </li>
            ))}
          </ul>
          {inserts.error !== undefined ? (
            <p class="field-problem" role="alert">
              Canned answers could not be loaded: {inserts.error.message}
            </p>
          ) : inserts.data === undefined ? (
            <p class="muted">Loading…</p>
          ) : answers.length === 0 ? (
            <p class="muted" role="status">
              {inserts.data.answers.length === 0
                ? 'No canned answers yet: add them on the Canned answers page.'
                : 'No canned answer has this in its title.'}
            </p>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
