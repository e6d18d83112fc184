/**
 * The reply composer: reply or reply all with the recipients shown and editable (To, Cc, Bcc:
 * reply fills To with the customer, reply all adds everyone else but the account itself; each
 * can be removed, others added), formatted text (the editor's HTML; the server derives the text
 * part), attachments by the button or dropped on it. What the agent writes is saved on the server
 * as their draft while they type (and when they leave the conversation), restored when they come
 * back from anywhere, and deleted when the reply is queued. Sending queues the message (one
 * idempotency key per message, so a double click sends once) and follows its delivery state —
 * queued, sending, then sent or failed with the diagnosis and a Retry button.
 */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client.js';
import {
  deleteReplyDraft,
  getOutgoing,
  getReplyDraft,
  getReplyRecipients,
  saveReplyDraft,
  retryOutgoing,
  sendReply,
} from '../../api/interactions.js';
import type { MailAddress, Outgoing } from '../../api/schemas.js';
import { CheckboxField } from '../../components/fields.js';
import { ErrorNotice } from '../../components/notice.js';
import { editorText, RichTextEditor, textToEditorHtml, type EditorHandle } from '../../components/rich-text-editor.js';
import { toApiError } from '../../lib/use-resource.js';
import { DeliveryState } from './delivery-state.js';
import { CannedAnswerButton, isBlankReply, useComposerInserts } from './composer-inserts.js';
import {
  AttachButton,
  AttachedFiles,
  DropZone,
  RecipientRows,
  useAttachments,
  useMaxMessageBytes,
} from './composer-parts.js';

const POLL_MS = 1500;
/** How long after the last keystroke a draft is saved. */
const DRAFT_SAVE_MS = 600;

type Sending =
  { state: 'idle' } | { state: 'sending' } | { state: 'tracking'; messageId: number; outgoing: Outgoing | null };

export function ReplyComposer({
  interactionId,
  accountId,
  onQueued,
}: {
  interactionId: number;
  /** The conversation's account: its maximum message size is shown by Attach files. */
  accountId: number;
  onQueued: () => void;
}): JSX.Element {
  /** The editor's HTML. */
  const [html, setHtml] = useState('');
  const [replyAll, setReplyAll] = useState(false);
  const [quote, setQuote] = useState(true);
  const attachments = useAttachments(useMaxMessageBytes(accountId));
  const files = attachments.files;
  const [to, setTo] = useState<MailAddress[]>([]);
  const [cc, setCc] = useState<MailAddress[]>([]);
  const [bcc, setBcc] = useState<MailAddress[]>([]);
  const [key, setKey] = useState(() => crypto.randomUUID());
  const [sending, setSending] = useState<Sending>({ state: 'idle' });
  const [error, setError] = useState<ApiError | undefined>(undefined);

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
  const latest = useRef({ html, replyAll, to, cc, bcc, edited });
  latest.current = { html, replyAll, to, cc, bcc, edited };
  const editor = useRef<EditorHandle>(null);
  const inserts = useComposerInserts(interactionId, { ready: draftLoaded, round: key, html, setHtml });

  const saveNow = (): Promise<void> => {
    window.clearTimeout(saveTimer.current);
    saveTimer.current = undefined;
    if (!dirty.current || draftUnreadable.current) return saving.current;
    dirty.current = false;
    const draft = latest.current;
    const text = editorText(draft.html);
    const empty = text === '' && !draft.edited && !draft.replyAll;
    saving.current = saving.current
      .then(async (): Promise<void> => {
        if (empty) await deleteReplyDraft(interactionId);
        else
          await saveReplyDraft(interactionId, {
            text,
            html: draft.html === '' ? null : draft.html,
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
          // A draft saved as plain text (before the editor) comes back as its lines.
          setHtml(draft.html ?? textToEditorHtml(draft.text));
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
  }, [html, replyAll, to, cc, bcc, edited, draftLoaded]);

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
    const blank = isBlankReply(html, inserts);
    if ((blank && files.length === 0) || to.length === 0) return;
    setError(undefined);
    setSending({ state: 'sending' });
    // A draft save still on its way must land before the reply deletes the draft, never after.
    window.clearTimeout(saveTimer.current);
    dirty.current = false;
    const sent = saving.current.then(() =>
      sendReply(
        interactionId,
        { html: blank ? null : html, replyAll, quote, attachments: files, to, cc, bcc, close },
        key,
      ),
    );
    sent.then(
      (queued) => {
        setSending({ state: 'tracking', messageId: queued.id, outgoing: null });
        dirty.current = false;
        setEdited(false);
        setBcc([]);
        setHtml('');
        attachments.clear();
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

  const unsendable =
    sending.state === 'sending' || (isBlankReply(html, inserts) && files.length === 0) || to.length === 0;

  return (
    <form class="composer card" onSubmit={submit} aria-label="Reply" {...attachments.dropTarget}>
      <DropZone attachments={attachments} />
      <div class="composer-modes" role="radiogroup" aria-label="Reply to">
        <label>
          <input type="radio" name="reply-mode" checked={!replyAll} onChange={() => switchMode(false)} /> Reply
        </label>
        <label>
          <input type="radio" name="reply-mode" checked={replyAll} onChange={() => switchMode(true)} /> Reply all
        </label>
      </div>
      <RecipientRows
        to={to}
        cc={cc}
        bcc={bcc}
        onTo={change(setTo, true)}
        onCc={change(setCc, true)}
        onBcc={change(setBcc, true)}
      />
      {error === undefined ? null : <ErrorNotice error={error} title="The reply was not sent" />}
      {draftError === undefined ? null : <ErrorNotice error={draftError.error} title={draftError.title} />}
      <RichTextEditor
        label="Your reply"
        value={html}
        onChange={change(setHtml)}
        placeholder="Write your reply…"
        shortcut="reply"
        handle={editor}
      />
      <div class="composer-row">
        <AttachButton attachments={attachments} />
        <CannedAnswerButton inserts={inserts} editor={editor} />
        <CheckboxField label="Quote the message" checked={quote} onChecked={setQuote} />
        <button type="submit" class="button button-primary" data-shortcut="send" disabled={unsendable}>
          {sending.state === 'sending' ? 'Sending…' : replyAll ? 'Send to all' : 'Send'}
        </button>
        <button type="submit" class="button" data-close="true" disabled={unsendable}>
          Send and close
        </button>
      </div>
      <AttachedFiles attachments={attachments} />
      {sending.state === 'tracking' ? <DeliveryState tracked={sending} onRetry={retry} /> : null}
    </form>
  );
}
