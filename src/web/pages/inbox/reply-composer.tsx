/**
 * The reply composer: reply or reply all with the recipients shown and editable (To, Cc, Bcc:
 * reply fills To with the customer, reply all adds everyone else but the account itself; each
 * can be removed, others added), text, attachments. What the agent writes is saved on the server
 * as their draft while they type (and when they leave the conversation), restored when they come
 * back from anywhere, and deleted when the reply is queued. Sending queues the message (one
 * idempotency key per message, so a double click sends once) and follows its delivery state —
 * queued, sending, then sent or failed with the diagnosis and a Retry button.
 */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client.js';
import {
  deleteReplyDraft,
  getOutgoing,
  getReplyDraft,
  getReplyRecipients,
  saveReplyDraft,
  retryOutgoing,
  sendReply,
  type OutgoingAttachment,
} from '../../api/interactions.js';
import type { MailAddress, Outgoing } from '../../api/schemas.js';
import { CheckboxField } from '../../components/fields.js';
import { ErrorNotice } from '../../components/notice.js';
import { formatSize } from '../../lib/mail-format.js';
import { toApiError } from '../../lib/use-resource.js';
import { DeliveryState } from './delivery-state.js';
import { RecipientField } from './recipient-field.js';
import { CannedAnswerButton, isBlankReply, useComposerInserts } from './composer-inserts.js';

const POLL_MS = 1500;
/** How long after the last keystroke a draft is saved. */
const DRAFT_SAVE_MS = 600;

type Sending =
  { state: 'idle' } | { state: 'sending' } | { state: 'tracking'; messageId: number; outgoing: Outgoing | null };

export function ReplyComposer({
  interactionId,
  onQueued,
}: {
  interactionId: number;
  onQueued: () => void;
}): JSX.Element {
  const [text, setText] = useState('');
  const [replyAll, setReplyAll] = useState(false);
  const [quote, setQuote] = useState(true);
  const [files, setFiles] = useState<OutgoingAttachment[]>([]);
  const [to, setTo] = useState<MailAddress[]>([]);
  const [cc, setCc] = useState<MailAddress[]>([]);
  const [bcc, setBcc] = useState<MailAddress[]>([]);
  const [key, setKey] = useState(() => crypto.randomUUID());
  const [sending, setSending] = useState<Sending>({ state: 'idle' });
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const textId = useId();
  const fileId = useId();

  const [draftLoaded, setDraftLoaded] = useState(false);
  /** A draft that could not be loaded or saved: said apart from the reply's own errors. */
  const [draftError, setDraftError] = useState<{ title: string; error: ApiError } | undefined>(undefined);
  /** The saved draft could not be read: saving over it unseen would lose it, so nothing is saved. */
  const draftUnreadable = useRef(false);
  /** The agent changed the recipients: the draft keeps them, and the defaults no longer apply. */
  const [edited, setEdited] = useState(false);
  /** Something changed since the draft was loaded or saved. */
  const dirty = useRef(false);
  const saveTimer = useRef<number | undefined>(undefined);
  const saving = useRef<Promise<void>>(Promise.resolve());
  const latest = useRef({ text, replyAll, to, cc, bcc, edited });
  latest.current = { text, replyAll, to, cc, bcc, edited };
  const textRef = useRef<HTMLTextAreaElement>(null);
  const inserts = useComposerInserts(interactionId, { ready: draftLoaded, round: key, text, setText, textRef });

  const saveNow = (): Promise<void> => {
    window.clearTimeout(saveTimer.current);
    saveTimer.current = undefined;
    if (!dirty.current || draftUnreadable.current) return saving.current;
    dirty.current = false;
    const draft = latest.current;
    const empty = draft.text.trim() === '' && !draft.edited && !draft.replyAll;
    saving.current = saving.current
      .then(async (): Promise<void> => {
        if (empty) await deleteReplyDraft(interactionId);
        else
          await saveReplyDraft(interactionId, {
            text: draft.text,
            replyAll: draft.replyAll,
            recipients: draft.edited ? { to: draft.to, cc: draft.cc, bcc: draft.bcc } : null,
          });
        setDraftError(undefined);
      })
      .catch((caught: unknown) => {
        // Saved again at the next change; the reply itself can still be sent.
        dirty.current = true;
        setDraftError({ title: 'Your draft was not saved', error: toApiError(caught) });
      });
    return saving.current;
  };

  // The agent's draft of this reply, kept by the server: it survives a reload, another
  // conversation opened in between, and another device.
  useEffect(() => {
    let current = true;
    getReplyDraft(interactionId).then(
      ({ draft }) => {
        if (!current) return;
        // What the agent typed while the draft was on its way wins over the saved one.
        if (draft !== null && !dirty.current) {
          setText(draft.text);
          setReplyAll(draft.replyAll);
          if (draft.recipients !== null) {
            setTo(draft.recipients.to);
            setCc(draft.recipients.cc);
            setBcc(draft.recipients.bcc);
            setEdited(true);
          }
        }
        setDraftLoaded(true);
      },
      (caught: unknown) => {
        if (!current) return;
        draftUnreadable.current = true;
        setDraftError({ title: 'Your saved draft could not be loaded', error: toApiError(caught) });
        // The reply can still be written and sent, from the default recipients.
        setDraftLoaded(true);
      },
    );
    return () => {
      current = false;
      // Leaving the conversation saves what is not saved yet.
      void saveNow();
    };
  }, [interactionId]);

  // Saved while typing, a moment after the last change.
  useEffect(() => {
    if (!draftLoaded || !dirty.current) return;
    window.clearTimeout(saveTimer.current);
    saveTimer.current = window.setTimeout(() => void saveNow(), DRAFT_SAVE_MS);
  }, [text, replyAll, to, cc, bcc, edited, draftLoaded]);

  const change = <T,>(set: (value: T) => void, recipients = false) => {
    return (value: T): void => {
      dirty.current = true;
      if (recipients) setEdited(true);
      set(value);
    };
  };

  // Reply and reply all start from the server's recipients; switching mode starts over from them.
  useEffect(() => {
    if (!draftLoaded || edited) return undefined;
    let current = true;
    getReplyRecipients(interactionId, replyAll).then(
      (recipients) => {
        if (!current) return;
        setTo(recipients.to);
        setCc(recipients.cc);
      },
      (caught: unknown) => {
        if (current) setError(toApiError(caught));
      },
    );
    return () => {
      current = false;
    };
  }, [interactionId, replyAll, draftLoaded, edited]);

  useEffect(() => {
    if (sending.state !== 'tracking') return undefined;
    const final =
      sending.outgoing?.state === 'sent' ||
      sending.outgoing?.state === 'failed' ||
      sending.outgoing?.state === 'cancelled';
    if (final) {
      onQueued();
      return undefined;
    }
    const timer = window.setTimeout(() => {
      getOutgoing(sending.messageId).then(
        (outgoing) => setSending({ state: 'tracking', messageId: sending.messageId, outgoing }),
        (caught: unknown) => setError(toApiError(caught)),
      );
    }, POLL_MS);
    return () => window.clearTimeout(timer);
  }, [sending]);

  const submit = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const close = event.submitter instanceof HTMLElement && event.submitter.dataset['close'] === 'true';
    if ((isBlankReply(text, inserts) && files.length === 0) || to.length === 0) return;
    setError(undefined);
    setSending({ state: 'sending' });
    // A draft save still on its way must land before the reply deletes the draft, never after.
    window.clearTimeout(saveTimer.current);
    dirty.current = false;
    const sent = saving.current.then(() =>
      sendReply(interactionId, { text, replyAll, quote, attachments: files, to, cc, bcc, close }, key),
    );
    sent.then(
      (queued) => {
        setSending({ state: 'tracking', messageId: queued.id, outgoing: null });
        dirty.current = false;
        setEdited(false);
        setBcc([]);
        setText('');
        setFiles([]);
        setKey(crypto.randomUUID());
        onQueued();
      },
      (caught: unknown) => {
        setSending({ state: 'idle' });
        dirty.current = true;
        setError(toApiError(caught));
      },
    );
  };

  const switchMode = (all: boolean): void => {
    dirty.current = true;
    setEdited(false);
    setReplyAll(all);
  };

  const retry = (messageId: number): void => {
    retryOutgoing(messageId).then(
      (outgoing) => setSending({ state: 'tracking', messageId, outgoing }),
      (caught: unknown) => setError(toApiError(caught)),
    );
  };

  const addFiles = async (list: FileList | null): Promise<void> => {
    if (list === null) return;
    const read = await Promise.all(Array.from(list).map(readAttachment));
    setFiles((old) => [...old, ...read]);
  };

  return (
    <form class="composer card" onSubmit={submit} aria-label="Reply">
      <div class="composer-modes" role="radiogroup" aria-label="Reply to">
        <label>
          <input type="radio" name="reply-mode" checked={!replyAll} onChange={() => switchMode(false)} /> Reply
        </label>
        <label>
          <input type="radio" name="reply-mode" checked={replyAll} onChange={() => switchMode(true)} /> Reply all
        </label>
      </div>
      <div class="recipients">
        <RecipientField label="To" addresses={to} onChange={change(setTo, true)} />
        <RecipientField label="Cc" addresses={cc} onChange={change(setCc, true)} />
        <RecipientField label="Bcc" addresses={bcc} onChange={change(setBcc, true)} />
      </div>
      {error === undefined ? null : <ErrorNotice error={error} title="The reply was not sent" />}
      {draftError === undefined ? null : <ErrorNotice error={draftError.error} title={draftError.title} />}
      <label for={textId} class="visually-hidden">
        Your reply
      </label>
      <textarea
        ref={textRef}
        id={textId}
        class="composer-text"
        data-shortcut="reply"
        rows={6}
        value={text}
        onInput={(event) => change(setText)(event.currentTarget.value)}
        placeholder="Write your reply…"
      />
      <div class="composer-row">
        <label for={fileId} class="button button-small">
          Attach files
        </label>
        <input
          id={fileId}
          type="file"
          multiple
          class="visually-hidden"
          onChange={(event) => void addFiles(event.currentTarget.files)}
        />
        <CannedAnswerButton inserts={inserts} text={text} textRef={textRef} onText={change(setText)} />
        <CheckboxField label="Quote the message" checked={quote} onChecked={setQuote} />
        <button
          type="submit"
          class="button button-primary"
          data-shortcut="send"
          disabled={
            sending.state === 'sending' || (isBlankReply(text, inserts) && files.length === 0) || to.length === 0
          }
        >
          {sending.state === 'sending' ? 'Sending…' : replyAll ? 'Send to all' : 'Send'}
        </button>
        <button
          type="submit"
          class="button"
          data-close="true"
          disabled={
            sending.state === 'sending' || (isBlankReply(text, inserts) && files.length === 0) || to.length === 0
          }
        >
          Send and close
        </button>
      </div>
      {files.length === 0 ? null : (
        <ul class="attachments" aria-label="Attached files">
          {files.map((file, index) => (
            <li key={`${file.filename}-${index}`}>
              {file.filename} <span class="muted">{formatSize(Math.floor((file.contentBase64.length * 3) / 4))}</span>{' '}
              <button
                type="button"
                class="button button-small"
                onClick={() => setFiles(files.filter((_, i) => i !== index))}
                aria-label={`Remove ${file.filename}`}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {sending.state === 'tracking' ? <DeliveryState tracked={sending} onRetry={retry} /> : null}
    </form>
  );
}

export function readAttachment(file: File): Promise<OutgoingAttachment> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error ?? new Error(`could not read ${file.name}`));
    reader.onload = () => {
      const result = typeof reader.result === 'string' ? reader.result : '';
      resolve({
        filename: file.name,
        contentType: file.type === '' ? 'application/octet-stream' : file.type,
        contentBase64: result.slice(result.indexOf(',') + 1),
      });
    };
    reader.readAsDataURL(file);
  });
}
