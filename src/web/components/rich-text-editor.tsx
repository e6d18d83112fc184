/**
 * A small formatted-text editor: a contentEditable box (role="textbox", multi-line, labelled) and
 * a toolbar for bold, italic, bulleted and numbered lists, a link and a quote. Ctrl/Cmd+B and
 * Ctrl/Cmd+I format, Ctrl/Cmd+Enter sends the form the editor is in (its `data-shortcut="send"`
 * button). The browser's own editing commands do the formatting: no dependency.
 *
 * The editor is not controlled keystroke by keystroke: it reports its HTML on every change, and
 * takes a new `value` only when it differs from what it last reported (a restored draft, a
 * signature put in, a reset after sending). Anything that comes in — a value, pasted or dropped
 * HTML — is first reduced to a small whitelist by walking the tree DOMParser builds (no regular
 * expression over HTML): p, br, div, b/strong, i/em, u, ul/ol/li, a with an http, https or mailto
 * address, blockquote; other elements leave their text. The server sanitizes again when it sends.
 */
import type { JSX, RefObject } from 'preact';
import { useEffect, useId, useImperativeHandle, useLayoutEffect, useRef, useState } from 'preact/hooks';

/** Elements kept from pasted or restored HTML. */
const KEPT = new Set(['p', 'br', 'div', 'b', 'strong', 'i', 'em', 'u', 'ul', 'ol', 'li', 'a', 'blockquote']);
/** Elements whose content is no text a person pasted. */
const DROPPED = new Set(['script', 'style', 'head', 'title', 'template', 'noscript', 'iframe', 'object', 'svg']);
/** Blocks that become a div: their text keeps its own line. */
const BLOCKS = new Set([
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'pre',
  'section',
  'article',
  'header',
  'footer',
  'tr',
  'table',
  'dt',
  'dd',
  'figure',
  'address',
]);
const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);
const INLINE = new Set(['b', 'strong', 'i', 'em', 'u', 'a', 'span', 'font', 'code', 'small', 'sub', 'sup']);

/** `value` when it is an http, https or mailto URL; otherwise null. */
export function safeLink(value: string): string | null {
  try {
    const url = new URL(value.trim());
    return LINK_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/** `html` reduced to the editor's whitelist (see the module's comment), as HTML. */
export function cleanEditorHtml(html: string): string {
  const source = new DOMParser().parseFromString(html, 'text/html');
  const target = document.implementation.createHTMLDocument('');
  const out = target.createElement('div');
  copyChildren(source.body, out, target);
  return out.innerHTML;
}

function copyChildren(from: Node, to: Node, doc: Document): void {
  for (let child = from.firstChild; child !== null; child = child.nextSibling) {
    if (child.nodeType === Node.TEXT_NODE) {
      to.appendChild(doc.createTextNode(child.textContent ?? ''));
      continue;
    }
    if (!(child instanceof Element)) continue;
    const name = child.localName;
    if (DROPPED.has(name)) continue;
    if (KEPT.has(name)) {
      const copy = doc.createElement(name);
      if (name === 'a') {
        const href = safeLink(child.getAttribute('href') ?? '');
        if (href === null) {
          copyChildren(child, to, doc);
          continue;
        }
        copy.setAttribute('href', href);
      }
      copyChildren(child, copy, doc);
      to.appendChild(copy);
    } else if (BLOCKS.has(name)) {
      const copy = doc.createElement('div');
      copyChildren(child, copy, doc);
      to.appendChild(copy);
    } else {
      copyChildren(child, to, doc);
    }
  }
}

/** The editor's words, a line per block or `<br>` (to tell an empty reply, or the signature alone). */
export function editorText(html: string): string {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const lines: string[] = [''];
  const walk = (node: Node): void => {
    for (let child = node.firstChild; child !== null; child = child.nextSibling) {
      if (child.nodeType === Node.TEXT_NODE) lines[lines.length - 1] += child.textContent ?? '';
      else if (child instanceof Element) {
        if (child.localName === 'br') lines.push('');
        else {
          const block = !INLINE.has(child.localName);
          if (block && lines[lines.length - 1] !== '') lines.push('');
          walk(child);
          if (block && lines[lines.length - 1] !== '') lines.push('');
        }
      }
    }
  };
  walk(doc.body);
  return lines
    .map((line) => line.replace(/\u00a0/g, ' '))
    .join('\n')
    .trim();
}

/** Plain text as editor HTML: escaped, each line a `<br>`. */
export function textToEditorHtml(text: string): string {
  const div = document.createElement('div');
  text.split('\n').forEach((line, index) => {
    if (index > 0) div.appendChild(document.createElement('br'));
    if (line !== '') div.appendChild(document.createTextNode(line));
  });
  return div.innerHTML;
}

/**
 * Puts `html` (reduced to the whitelist) in place of the selection, the cursor after it. Not the
 * browser's insertHTML command: Chromium's wraps what it inserts in spans with inline styles.
 */
function insertClean(html: string): void {
  const selection = window.getSelection();
  if (selection === null || selection.rangeCount === 0) return;
  const range = selection.getRangeAt(0);
  range.deleteContents();
  const template = document.createElement('template');
  template.innerHTML = cleanEditorHtml(html);
  const last = template.content.lastChild;
  range.insertNode(template.content);
  if (last === null) return;
  range.setStartAfter(last);
  range.collapse(true);
  selection.removeAllRanges();
  selection.addRange(range);
}

/** What a composer can do to its editor. */
export interface EditorHandle {
  /** Puts `html` (already editor HTML) where the cursor was last, or at the start. */
  insertHtml: (html: string) => void;
  focus: () => void;
}

type Command = 'bold' | 'italic' | 'insertUnorderedList' | 'insertOrderedList' | 'quote';

const BUTTONS: readonly { command: Command; text: JSX.Element | string; keys?: string }[] = [
  { command: 'bold', text: <b>Bold</b>, keys: 'Control+B' },
  { command: 'italic', text: <i>Italic</i>, keys: 'Control+I' },
  { command: 'insertUnorderedList', text: 'Bulleted list' },
  { command: 'insertOrderedList', text: 'Numbered list' },
  { command: 'quote', text: 'Quote' },
];

/** The formatted editor with its toolbar. */
export function RichTextEditor({
  label,
  value,
  onChange,
  placeholder,
  shortcut,
  handle,
  rows = 6,
}: {
  /** The text box's accessible name (shown to screen readers). */
  label: string;
  value: string;
  onChange: (html: string) => void;
  placeholder?: string;
  /** `data-shortcut` of the text box (the inbox's `r` key focuses `reply`). */
  shortcut?: string;
  handle?: RefObject<EditorHandle | null>;
  rows?: number;
}): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const reported = useRef<string | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;
  const range = useRef<Range | null>(null);
  const [pressed, setPressed] = useState<ReadonlySet<Command>>(new Set());
  const [linking, setLinking] = useState(false);
  const labelId = useId();
  const boxId = useId();
  const toolbarId = useId();

  // In the render's own task: an effect run after paint could see the next keystroke's report
  // and take this render's value, one keystroke old, for a new one — resetting the box and its
  // cursor while the agent types.
  useLayoutEffect(() => {
    const element = box.current;
    if (element === null || value === reported.current) return;
    element.innerHTML = cleanEditorHtml(value);
    reported.current = value;
  }, [value]);

  const report = (): void => {
    const element = box.current;
    if (element === null) return;
    // An editor emptied by the agent keeps a lone <br>: that is empty too.
    const html = element.textContent === '' && element.querySelector('li,blockquote') === null ? '' : element.innerHTML;
    reported.current = html;
    changed.current(html);
  };

  const remember = (): void => {
    const element = box.current;
    const selection = window.getSelection();
    if (element === null || selection === null || selection.rangeCount === 0) return;
    const current = selection.getRangeAt(0);
    if (!element.contains(current.commonAncestorContainer)) return;
    range.current = current.cloneRange();
    setPressed(stateOf(element));
  };

  // Toolbar states follow the cursor.
  useEffect(() => {
    document.addEventListener('selectionchange', remember);
    return () => document.removeEventListener('selectionchange', remember);
  }, []);

  /** Focuses the editor with the cursor where it last was (or at its start, above a signature). */
  const restore = (): void => {
    const element = box.current;
    if (element === null) return;
    element.focus();
    const selection = window.getSelection();
    if (selection === null) return;
    let target = range.current;
    if (target === null || !element.contains(target.commonAncestorContainer)) {
      // Into the first line itself (its empty div), not before it.
      let first: Node = element;
      while (first.firstChild instanceof HTMLElement && first.firstChild.localName !== 'br') first = first.firstChild;
      target = document.createRange();
      target.setStart(first, 0);
      target.collapse(true);
    }
    selection.removeAllRanges();
    selection.addRange(target);
  };

  const run = (command: Command): void => {
    restore();
    if (command === 'quote') {
      const element = box.current;
      if (element !== null && stateOf(element).has('quote')) document.execCommand('outdent');
      else document.execCommand('formatBlock', false, 'blockquote');
    } else document.execCommand(command);
    remember();
    report();
  };

  const insertHtml = (html: string): void => {
    restore();
    insertClean(html);
    remember();
    report();
  };

  useImperativeHandle(handle ?? null, () => ({ insertHtml, focus: restore }), []);

  const onKeyDown = (event: KeyboardEvent): void => {
    const mod = event.ctrlKey || event.metaKey;
    if (!mod || event.altKey) return;
    const key = event.key.toLowerCase();
    if (key === 'b' || key === 'i') {
      event.preventDefault();
      run(key === 'b' ? 'bold' : 'italic');
    } else if (event.key === 'Enter' && !event.shiftKey) {
      const form = box.current?.closest('form');
      const send = form?.querySelector<HTMLButtonElement>('button[data-shortcut="send"]:not([disabled])');
      if (form === null || form === undefined || send === null || send === undefined) return;
      event.preventDefault();
      form.requestSubmit(send);
    }
  };

  const onPaste = (event: ClipboardEvent): void => {
    const data = event.clipboardData;
    if (data === null) return;
    event.preventDefault();
    const html = data.getData('text/html');
    if (html !== '') {
      insertClean(html);
      remember();
      report();
    } else document.execCommand('insertText', false, data.getData('text/plain'));
  };

  const onDrop = (event: DragEvent): void => {
    const data = event.dataTransfer;
    // Files go to the composer's drop zone; dropped text is reduced as pasted text is.
    if (data === null || data.types.includes('Files')) return;
    event.preventDefault();
    const at = document.caretRangeFromPoint(event.clientX, event.clientY);
    if (at !== null) range.current = at;
    restore();
    const html = data.getData('text/html');
    if (html !== '') {
      insertClean(html);
      remember();
      report();
    } else document.execCommand('insertText', false, data.getData('text/plain'));
  };

  return (
    <div class="editor">
      <div class="editor-toolbar" role="toolbar" id={toolbarId} aria-label={`Formatting of ${label.toLowerCase()}`}>
        {BUTTONS.map((button) => (
          <button
            key={button.command}
            type="button"
            class="button button-small editor-button"
            aria-pressed={pressed.has(button.command)}
            {...(button.keys === undefined ? {} : { 'aria-keyshortcuts': button.keys })}
            // The editor keeps its selection: a press must not move the focus before the click.
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => run(button.command)}
          >
            {button.text}
          </button>
        ))}
        <button
          type="button"
          class="button button-small editor-button"
          aria-expanded={linking}
          onMouseDown={(event) => event.preventDefault()}
          onClick={() => setLinking(!linking)}
        >
          Link
        </button>
      </div>
      {linking ? (
        <LinkForm
          onCancel={() => {
            setLinking(false);
            restore();
          }}
          onLink={(href) => {
            setLinking(false);
            restore();
            const selection = window.getSelection();
            if (selection === null || selection.isCollapsed) {
              const a = document.createElement('a');
              a.href = href;
              a.textContent = href.startsWith('mailto:') ? href.slice('mailto:'.length) : href;
              insertClean(a.outerHTML);
            } else document.execCommand('createLink', false, href);
            remember();
            report();
          }}
        />
      ) : null}
      <span id={labelId} class="visually-hidden">
        {label}
      </span>
      <div
        ref={box}
        id={boxId}
        class="composer-text editor-box"
        role="textbox"
        aria-multiline="true"
        aria-labelledby={labelId}
        contentEditable
        data-placeholder={placeholder}
        {...(shortcut === undefined ? {} : { 'data-shortcut': shortcut })}
        style={{ minHeight: `${rows * 1.5 + 1}em` }}
        onInput={report}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
        onDrop={onDrop}
        onKeyUp={remember}
        onMouseUp={remember}
      />
    </div>
  );
}

/** Which toolbar states hold where the cursor is. */
function stateOf(element: HTMLElement): Set<Command> {
  const pressed = new Set<Command>();
  const selection = window.getSelection();
  const anchor = selection?.anchorNode ?? null;
  if (anchor === null || !element.contains(anchor)) return pressed;
  for (const command of ['bold', 'italic', 'insertUnorderedList', 'insertOrderedList'] as const)
    if (document.queryCommandState(command)) pressed.add(command);
  for (let node: Node | null = anchor; node !== null && node !== element; node = node.parentNode)
    if (node instanceof Element && node.localName === 'blockquote') pressed.add('quote');
  return pressed;
}

/** The link's address, typed in the page (no prompt): http, https or mailto only. */
function LinkForm({ onLink, onCancel }: { onLink: (href: string) => void; onCancel: () => void }): JSX.Element {
  const [address, setAddress] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const inputId = useId();
  const problemId = useId();
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const apply = (): void => {
    const typed = address.trim();
    const href = safeLink(/^[^\s@:/]+@[^\s@/]+$/.test(typed) ? `mailto:${typed}` : typed);
    if (href === null) {
      setProblem('Give an address that starts with https://, http:// or mailto:.');
      return;
    }
    onLink(href);
  };
  return (
    <div class="editor-link">
      <label for={inputId}>Link address</label>
      <input
        ref={input}
        id={inputId}
        type="text"
        inputMode="url"
        value={address}
        placeholder="https://…"
        aria-invalid={problem !== null}
        aria-describedby={problem === null ? undefined : problemId}
        onInput={(event) => {
          setAddress(event.currentTarget.value);
          setProblem(null);
        }}
        onKeyDown={(event) => {
          // The link's own Enter, not the reply form's.
          if (event.key === 'Enter') {
            event.preventDefault();
            apply();
          } else if (event.key === 'Escape') {
            event.preventDefault();
            event.stopPropagation();
            onCancel();
          }
        }}
      />
      <button type="button" class="button button-small" onClick={apply}>
        Add link
      </button>
      <button type="button" class="button button-small" onClick={onCancel}>
        Cancel
      </button>
      {problem === null ? null : (
        <p id={problemId} class="field-problem" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
