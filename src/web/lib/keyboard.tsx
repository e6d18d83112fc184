/**
 * The inbox's keyboard: `j`/`k` move through the conversation list and Enter opens the one
 * focused; `r` writes a reply, `f` forwards the conversation's latest message, `a` assigns the open conversation to me, `e` closes it, `/` goes to
 * the search, Ctrl+Enter (⌘+Enter) in the reply (or a forward or new email) sends it, `?` lists all of them. A key typed into
 * a field is the field's (only Ctrl+Enter is taken from the reply's text), and keys with a
 * modifier are the browser's.
 *
 * The shortcuts press the same buttons a mouse would (found by their `data-shortcut` attribute),
 * so a shortcut never does what the page does not offer at that moment: no reply box, no reply.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Dialog } from '../components/dialog.js';

/** Every shortcut, as the `?` overlay lists them. */
export const SHORTCUTS: ReadonlyArray<{ readonly keys: readonly string[]; readonly does: string }> = [
  { keys: ['j'], does: 'Next conversation in the list' },
  { keys: ['k'], does: 'Previous conversation in the list' },
  { keys: ['Enter'], does: 'Open the conversation chosen with j or k' },
  { keys: ['r'], does: 'Write a reply' },
  { keys: ['f'], does: 'Forward the latest message' },
  { keys: ['a'], does: 'Assign the conversation to me' },
  { keys: ['e'], does: 'Close the conversation' },
  { keys: ['/'], does: 'Search conversations' },
  { keys: ['Ctrl', 'Enter'], does: 'Send the reply, forward or email (⌘ Enter on a Mac)' },
  { keys: ['?'], does: 'Show this list' },
];

/** True when a key typed here belongs to the element (text fields, lists, editable content). */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (!(target instanceof HTMLInputElement)) return false;
  return !['button', 'checkbox', 'radio', 'submit', 'reset', 'file', 'range', 'color'].includes(target.type);
}

/** The conversation links of the list, in order. */
function conversationLinks(): HTMLAnchorElement[] {
  return Array.from(document.querySelectorAll<HTMLAnchorElement>('.conversations a.conversation-item'));
}

/** Moves the focus `step` conversations down (1) or up (-1) from the focused or open one. */
function moveInList(step: 1 | -1): void {
  const links = conversationLinks();
  if (links.length === 0) return;
  const focused = links.findIndex((link) => link === document.activeElement);
  const from = focused >= 0 ? focused : links.findIndex((link) => link.getAttribute('aria-current') === 'page');
  const to = from < 0 ? (step === 1 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, from + step));
  const link = links[to];
  link?.focus();
  link?.scrollIntoView({ block: 'nearest' });
}

/** Presses the enabled button marked `data-shortcut="name"`, if the page shows one. */
function press(name: string): boolean {
  const button = document.querySelector<HTMLButtonElement>(`button[data-shortcut="${name}"]:not([disabled])`);
  if (button === null) return false;
  button.click();
  return true;
}

/** Focuses the element marked `data-shortcut="name"`, if the page shows one. */
function focusOn(name: string): boolean {
  const element = document.querySelector<HTMLElement>(`[data-shortcut="${name}"]`);
  if (element === null) return false;
  element.focus();
  return true;
}

/** Sends the form of the reply (forward, email) text being typed, as its main send button would. */
function sendReply(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLTextAreaElement)) return false;
  if (target.dataset['shortcut'] !== 'reply' && target.dataset['shortcut'] !== 'compose') return false;
  const form = target.form;
  const send = form?.querySelector<HTMLButtonElement>('button[data-shortcut="send"]:not([disabled])');
  if (form === null || form === undefined || send === null || send === undefined) return false;
  form.requestSubmit(send);
  return true;
}

/** What each plain key does (see the module comment). */
const ACTIONS: Readonly<Record<string, () => boolean>> = {
  j: () => (moveInList(1), true),
  k: () => (moveInList(-1), true),
  r: () => focusOn('reply'),
  f: () => press('forward'),
  a: () => press('assign-me'),
  e: () => press('close'),
  '/': () => focusOn('search'),
};

/** The inbox's shortcuts, and the `?` overlay that lists them (also opened by its button). */
export function InboxShortcuts(): JSX.Element {
  const [help, setHelp] = useState(false);
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.defaultPrevented || event.isComposing) return;
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey) {
        if (sendReply(event.target)) event.preventDefault();
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
      if (document.querySelector('dialog[open]') !== null) return;
      if (event.key === '?') {
        event.preventDefault();
        setHelp(true);
        return;
      }
      const action = ACTIONS[event.key];
      if (action !== undefined && action()) event.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
  return (
    <>
      <button type="button" class="button button-small shortcuts-button" onClick={() => setHelp(true)}>
        Keyboard shortcuts <kbd>?</kbd>
      </button>
      <Dialog title="Keyboard shortcuts" open={help} onClose={() => setHelp(false)}>
        <table class="shortcuts">
          <tbody>
            {SHORTCUTS.map((shortcut) => (
              <tr key={shortcut.does}>
                <th scope="row">
                  {shortcut.keys.map((key, index) => (
                    <span key={key}>
                      {index > 0 ? ' + ' : null}
                      <kbd>{key}</kbd>
                    </span>
                  ))}
                </th>
                <td>{shortcut.does}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Dialog>
    </>
  );
}
