/**
 * The composer for mail that is not a reply: a forward of a message of the conversation, or a new
 * email from one of the agent's accounts (an administrator's: any). Both have To, Cc and Bcc
 * (empty to start with), a subject and formatted text (the editor's HTML; the server derives the
 * text part), and files by the button or dropped on it. A forward starts with `Fw: <topic>` and shows the
 * forwarded block the server puts below the text (From, Date, Subject, To, Cc of the original, then
 * its body) and the original's attachments, which go with it unless the agent removes them; the
 * server reads them from the store, the browser never uploads them again. A new email opens a new
 * conversation, which the inbox then shows. Sending queues the message once (one idempotency key
 * per composer) and closes the composer; the message's delivery state shows in the conversation.
 *
 * The reply composer (reply-composer.tsx) stays apart: it owns the reply's drafts and recipients;
 * what both show the same way is in composer-parts.tsx.
 */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client.js';
import { forwardMessage, sendNewMessage } from '../../api/interactions.js';
import type { EmailAccount, MailAddress, Message, Queued } from '../../api/schemas.js';
import { ErrorNotice } from '../../components/notice.js';
import { editorText, RichTextEditor } from '../../components/rich-text-editor.js';
import { formatDateTime } from '../../lib/format.js';
import { formatAddresses, formatSize } from '../../lib/mail-format.js';
import { toApiError } from '../../lib/use-resource.js';
import {
  AttachButton,
  AttachedFiles,
  DropZone,
  RecipientRows,
  useAttachments,
  useMaxMessageBytes,
} from './composer-parts.js';

/** What the composer writes: a forward of `message` in its conversation, or a new email. */
export type ComposeMode =
  | {
      readonly kind: 'forward';
      readonly interactionId: number;
      readonly accountId: number;
      readonly message: Message;
      readonly topic: string;
    }
  | { readonly kind: 'new'; readonly accounts: readonly EmailAccount[]; readonly accountId: number };

const FORWARD_SEPARATOR = '---------- Forwarded message ----------';

export function MailComposer({
  mode,
  onSent,
  onCancel,
}: {
  mode: ComposeMode;
  /** The message was queued (from `accountId`, for a new email). */
  onSent: (queued: Queued, accountId: number | null) => void;
  onCancel: () => void;
}): JSX.Element {
  const forward = mode.kind === 'forward' ? mode : undefined;
  const [accountId, setAccountId] = useState(mode.kind === 'new' ? mode.accountId : 0);
  const [to, setTo] = useState<MailAddress[]>([]);
  const [cc, setCc] = useState<MailAddress[]>([]);
  const [bcc, setBcc] = useState<MailAddress[]>([]);
  const [subject, setSubject] = useState(forward === undefined ? '' : `Fw: ${forward.topic}`);
  /** The editor's HTML. */
  const [html, setHtml] = useState('');
  const [carried, setCarried] = useState(() =>
    forward === undefined ? [] : forward.message.attachments.filter((a) => !a.inline || a.contentId === null),
  );
  const attachments = useAttachments(
    useMaxMessageBytes(forward === undefined ? accountId : forward.accountId),
    carried.reduce((sum, file) => sum + file.size, 0),
  );
  const files = attachments.files;
  const [key] = useState(() => crypto.randomUUID());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const fromId = useId();
  const subjectId = useId();
  const name = forward === undefined ? 'New email' : 'Forward';
  const blank = editorText(html) === '';
  const empty = forward === undefined && blank && files.length === 0;
  const form = useRef<HTMLFormElement>(null);

  // Opened by a button or a key: the agent types the first recipient at once.
  useEffect(() => {
    const first = form.current?.querySelector<HTMLInputElement>('input.recipient-input');
    first?.focus();
    form.current?.scrollIntoView({ block: 'nearest' });
  }, []);

  const submit = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    if (busy || to.length === 0 || empty) return;
    setBusy(true);
    setError(undefined);
    const fields = { to, cc, bcc, subject, html: blank ? null : html, attachments: files };
    const sent =
      forward === undefined
        ? sendNewMessage(accountId, fields, key)
        : forwardMessage(
            forward.interactionId,
            { ...fields, messageId: forward.message.id, attachmentIds: carried.map((a) => a.id) },
            key,
          );
    sent.then(
      (queued) => onSent(queued, forward === undefined ? accountId : null),
      (caught: unknown) => {
        setBusy(false);
        setError(toApiError(caught));
      },
    );
  };

  return (
    <form
      ref={form}
      class="composer mail-composer card"
      onSubmit={submit}
      aria-label={name}
      {...attachments.dropTarget}
    >
      <DropZone attachments={attachments} />
      <h3 class="composer-title">{forward === undefined ? 'New email' : 'Forward'}</h3>
      <RecipientRows
        to={to}
        cc={cc}
        bcc={bcc}
        onTo={setTo}
        onCc={setCc}
        onBcc={setBcc}
        before={
          mode.kind === 'new' ? (
            <div class="recipient-field">
              <label class="recipient-label" for={fromId}>
                From
              </label>
              <select
                id={fromId}
                class="composer-from"
                value={String(accountId)}
                onChange={(event) => setAccountId(Number(event.currentTarget.value))}
              >
                {mode.accounts.map((account) => (
                  <option key={account.id} value={String(account.id)}>
                    {account.key} — {account.name} &lt;{account.emailAddress}&gt;
                  </option>
                ))}
              </select>
            </div>
          ) : null
        }
      >
        <div class="recipient-field">
          <label class="recipient-label" for={subjectId}>
            Subject
          </label>
          <input
            id={subjectId}
            class="recipient-input"
            value={subject}
            maxLength={240}
            onInput={(event) => setSubject(event.currentTarget.value)}
          />
        </div>
      </RecipientRows>
      {error === undefined ? null : (
        <ErrorNotice
          error={error}
          title={forward === undefined ? 'The email was not sent' : 'The forward was not sent'}
        />
      )}
      <RichTextEditor
        label="Your message"
        value={html}
        onChange={setHtml}
        shortcut="compose"
        rows={forward === undefined ? 8 : 4}
        placeholder={forward === undefined ? 'Write your email…' : 'Add a note above the forwarded message (optional)…'}
      />
      {forward === undefined ? null : <ForwardedBlock message={forward.message} />}
      {carried.length === 0 ? null : (
        <ul class="attachments" aria-label="Forwarded attachments">
          {carried.map((file) => (
            <li key={file.id}>
              {file.filename ?? `attachment ${file.id}`} <span class="muted">{formatSize(file.size)}</span>{' '}
              <button
                type="button"
                class="button button-small"
                onClick={() => setCarried(carried.filter((a) => a.id !== file.id))}
                aria-label={`Remove ${file.filename ?? `attachment ${file.id}`}`}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <AttachedFiles attachments={attachments} />
      <div class="composer-row">
        <AttachButton attachments={attachments} />
        <button type="button" class="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button
          type="submit"
          class="button button-primary"
          data-shortcut="send"
          disabled={busy || to.length === 0 || empty}
        >
          {busy ? 'Sending…' : forward === undefined ? 'Send' : 'Forward'}
        </button>
      </div>
    </form>
  );
}

/** The forwarded message as the server puts it below the agent's text. */
function ForwardedBlock({ message }: { message: Message }): JSX.Element {
  const when = message.date ?? message.receivedAt;
  return (
    <div class="forwarded" role="group" aria-label="Forwarded message">
      <p class="forwarded-separator">{FORWARD_SEPARATOR}</p>
      <dl class="forwarded-headers">
        <dt>From:</dt>
        <dd>{formatAddresses(message.from)}</dd>
        <dt>Date:</dt>
        <dd>
          <time dateTime={when}>{formatDateTime(when)}</time>
        </dd>
        <dt>Subject:</dt>
        <dd>{message.subject === '' ? '(no subject)' : message.subject}</dd>
        <dt>To:</dt>
        <dd>{formatAddresses(message.to)}</dd>
        {message.cc.length === 0 ? null : (
          <>
            <dt>Cc:</dt>
            <dd>{formatAddresses(message.cc)}</dd>
          </>
        )}
      </dl>
      {message.text === null ? (
        <p class="muted">The message's HTML goes with it as it is.</p>
      ) : (
        <pre class="forwarded-text">{message.text}</pre>
      )}
    </div>
  );
}
