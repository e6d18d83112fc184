/**
 * The reply composer: reply or reply all with the recipients shown and editable (To, Cc, Bcc:
 * reply fills To with the customer, reply all adds everyone else but the account itself; each
 * can be removed, others added), text, attachments. Sending queues the message (one
 * idempotency key per message, so a double click sends once) and follows its delivery state —
 * queued, sending, then sent or failed with the diagnosis and a Retry button.
 */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client.js';
import {
  getOutgoing,
  getReplyRecipients,
  retryOutgoing,
  sendReply,
  type OutgoingAttachment,
} from '../../api/interactions.js';
import type { MailAddress, Outgoing } from '../../api/schemas.js';
import { CheckboxField } from '../../components/fields.js';
import { ErrorNotice } from '../../components/notice.js';
import { formatSize } from '../../lib/mail-format.js';
import { toApiError } from '../../lib/use-resource.js';
import { RecipientField } from './recipient-field.js';

const POLL_MS = 1500;

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

  // Reply and reply all start from the server's recipients; switching mode starts over from them.
  useEffect(() => {
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
  }, [interactionId, replyAll]);

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
    if ((text.trim() === '' && files.length === 0) || to.length === 0) return;
    setError(undefined);
    setSending({ state: 'sending' });
    sendReply(interactionId, { text, replyAll, quote, attachments: files, to, cc, bcc }, key).then(
      (queued) => {
        setSending({ state: 'tracking', messageId: queued.id, outgoing: null });
        setText('');
        setFiles([]);
        setKey(crypto.randomUUID());
        onQueued();
      },
      (caught: unknown) => {
        setSending({ state: 'idle' });
        setError(toApiError(caught));
      },
    );
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
          <input type="radio" name="reply-mode" checked={!replyAll} onChange={() => setReplyAll(false)} /> Reply
        </label>
        <label>
          <input type="radio" name="reply-mode" checked={replyAll} onChange={() => setReplyAll(true)} /> Reply all
        </label>
      </div>
      <div class="recipients">
        <RecipientField label="To" addresses={to} onChange={setTo} />
        <RecipientField label="Cc" addresses={cc} onChange={setCc} />
        <RecipientField label="Bcc" addresses={bcc} onChange={setBcc} />
      </div>
      {error === undefined ? null : <ErrorNotice error={error} title="The reply was not sent" />}
      <label for={textId} class="visually-hidden">
        Your reply
      </label>
      <textarea
        id={textId}
        class="composer-text"
        rows={6}
        value={text}
        onInput={(event) => setText(event.currentTarget.value)}
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
        <CheckboxField label="Quote the message" checked={quote} onChecked={setQuote} />
        <button
          type="submit"
          class="button button-primary"
          disabled={sending.state === 'sending' || (text.trim() === '' && files.length === 0) || to.length === 0}
        >
          {sending.state === 'sending' ? 'Sending…' : replyAll ? 'Send to all' : 'Send'}
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

function DeliveryState({
  tracked,
  onRetry,
}: {
  tracked: { messageId: number; outgoing: Outgoing | null };
  onRetry: (id: number) => void;
}): JSX.Element {
  const state = tracked.outgoing?.state ?? 'queued';
  const failure = tracked.outgoing?.delivery?.error ?? null;
  if (state === 'sent') {
    return (
      <p class="delivery delivery-sent" role="status">
        Sent
        {tracked.outgoing?.delivery?.serverResponse == null ? '.' : ` — ${tracked.outgoing.delivery.serverResponse}`}
      </p>
    );
  }
  if (state === 'failed' || state === 'cancelled') {
    return (
      <div class="notice notice-error" role="alert">
        <div class="notice-body">
          <p class="notice-title">{state === 'failed' ? 'The reply could not be sent.' : 'The reply was cancelled.'}</p>
          {failure === null ? null : <p>{failure.message}</p>}
          {failure?.remedy == null ? null : (
            <p class="notice-remedy">
              <strong>What to do:</strong> {failure.remedy}
            </p>
          )}
          {failure === null ? null : (
            <p class="notice-code">
              Error code: <code>{failure.code}</code>
            </p>
          )}
          <button type="button" class="button" onClick={() => onRetry(tracked.messageId)}>
            Retry
          </button>
        </div>
      </div>
    );
  }
  const attempts = tracked.outgoing?.delivery?.attempts ?? 0;
  return (
    <p class="delivery" role="status">
      <span class="spinner" aria-hidden="true" /> {state === 'sending' ? 'Sending…' : 'Queued'}
      {attempts > 0 ? ` (attempt ${attempts + 1})` : ''}
      {tracked.outgoing?.delivery?.error == null ? '' : ` — last try: ${tracked.outgoing.delivery.error.message}`}
    </p>
  );
}

function readAttachment(file: File): Promise<OutgoingAttachment> {
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
