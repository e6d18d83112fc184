/**
 * One message of a conversation: who wrote to whom, when, the body, attachments, delivery, and a
 * Forward button (the latest message's is the one the `f` key presses).
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { retryOutgoing } from '../../api/interactions.js';
import type { Message } from '../../api/schemas.js';
import { ErrorNotice } from '../../components/notice.js';
import { useSubmit } from '../../lib/use-submit.js';
import { deliveryWords } from '../../lib/delivery-words.js';
import { formatDateTime, formatTimeSoon } from '../../lib/format.js';
import { countRemoteImages, formatAddresses, formatSize, withRemoteImages } from '../../lib/mail-format.js';
import { DeliveryDetails } from './delivery-state.js';
import { MailFrame } from './mail-frame.js';

export function MessageView({
  message,
  onRetried,
  onForward,
  latest = false,
}: {
  message: Message;
  onRetried: () => void;
  onForward?: () => void;
  /** The conversation's latest message: its Forward button is the keyboard's. */
  latest?: boolean;
}): JSX.Element {
  const [showImages, setShowImages] = useState(false);
  const retry = useSubmit();
  const remote = message.html === null ? 0 : countRemoteImages(message.html);
  const bounced = message.bounces.filter((bounce) => bounce.action === 'failed');
  const words =
    message.deliveryState === null
      ? null
      : deliveryWords(message.deliveryState, message.delivery, message.deliveryError, formatTimeSoon);
  const badge =
    bounced.length > 0 ? { text: 'Bounced', tone: 'error' } : words && { text: words.badge, tone: words.tone };
  const files = message.attachments.filter((a) => !a.inline || a.contentId === null);
  return (
    <article
      class={`message message-${message.direction}`}
      aria-label={`${message.direction === 'in' ? 'Message from' : 'Reply by'} ${formatAddresses(message.from)}`}
    >
      <header class="message-header">
        <div>
          <strong>{formatAddresses(message.from)}</strong>
          {message.direction === 'out' && message.authorName !== null ? (
            <span class="muted block message-author">Written by {message.authorName}</span>
          ) : null}
          <span class="muted block">To {formatAddresses(message.to)}</span>
          {message.cc.length === 0 ? null : <span class="muted block">Cc {formatAddresses(message.cc)}</span>}
        </div>
        <div class="message-meta">
          <time dateTime={message.date ?? message.receivedAt}>
            {formatDateTime(message.date ?? message.receivedAt)}
          </time>
          {badge === null ? null : <span class={`badge badge-${badge.tone}`}>{badge.text}</span>}
          {message.automated.autoReply ? <span class="badge badge-neutral">Automatic reply</span> : null}
          {message.automated.bounce ? <span class="badge badge-warn">Bounce</span> : null}
          {message.junk ? <span class="badge badge-warn">Junk</span> : null}
        </div>
      </header>
      {words === null || (words.sentence === null && words.details === null) ? null : (
        <div
          class={`notice delivery-notice ${words.tone === 'error' ? 'notice-error' : words.tone === 'warn' ? 'notice-warn' : 'notice-info'}`}
          role={words.tone === 'error' ? 'alert' : 'status'}
        >
          <div class="notice-body">
            {words.sentence === null ? null : <p>{words.sentence}</p>}
            {words.remedy === null ? null : (
              <p class="notice-remedy">
                <strong>What to do:</strong> {words.remedy}
              </p>
            )}
            <DeliveryDetails details={words.details} />
            {message.deliveryState === 'failed' || message.deliveryState === 'cancelled' ? (
              <button
                type="button"
                class="button button-small"
                disabled={retry.busy}
                onClick={() =>
                  void retry.run(async () => {
                    await retryOutgoing(message.id);
                    onRetried();
                  })
                }
              >
                Retry
              </button>
            ) : null}
          </div>
        </div>
      )}
      {retry.error === undefined ? null : <ErrorNotice error={retry.error} />}
      {message.bounces.length === 0 ? null : (
        <div class={`notice ${bounced.length > 0 ? 'notice-error' : 'notice-warn'}`} role="status">
          <div class="notice-body">
            {message.bounces.map((bounce) => (
              <p key={bounce.address}>
                <strong>
                  {bounce.action === 'failed' ? 'Not delivered to' : 'Delivery delayed to'} {bounce.address}
                </strong>
                {bounce.diagnostic === null ? null : <span class="block muted">{bounce.diagnostic}</span>}
                <span class="block">{bounce.advice}</span>
              </p>
            ))}
          </div>
        </div>
      )}
      {message.html !== null ? (
        <>
          {remote > 0 && !showImages ? (
            <p class="remote-images">
              {remote === 1 ? '1 remote image is' : `${remote} remote images are`} blocked, so the sender cannot see
              that you read this.{' '}
              <button type="button" class="button button-small" onClick={() => setShowImages(true)}>
                Show remote images
              </button>
            </p>
          ) : null}
          <MailFrame
            {...(showImages ? withRemoteImages(message.html) : { html: message.html, sources: [] })}
            title={`Body of the message from ${formatAddresses(message.from)}`}
          />
        </>
      ) : (
        <pre class="message-text">{message.text ?? ''}</pre>
      )}
      {files.length === 0 ? null : (
        <ul class="attachments" aria-label="Attachments">
          {files.map((file) => (
            <li key={file.id}>
              {file.removed ? (
                <>
                  {file.filename ?? `attachment ${file.id}`}{' '}
                  <span class="muted">removed after the account's retention period</span>
                </>
              ) : (
                <>
                  <a href={file.url} download={file.filename ?? undefined}>
                    {file.filename ?? `attachment ${file.id}`}
                  </a>{' '}
                  <span class="muted">{formatSize(file.size)}</span>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <p class="message-links">
        {message.originalRemovedAt === null ? (
          <a href={message.rawUrl} download>
            Download original (.eml)
          </a>
        ) : (
          <span class="muted">
            Original removed {formatDateTime(message.originalRemovedAt)} after the account's retention period; the text
            above is kept.
          </span>
        )}
        {onForward === undefined ? null : (
          <button
            type="button"
            class="button button-small"
            onClick={onForward}
            {...(latest ? { 'data-shortcut': 'forward' } : {})}
          >
            Forward
          </button>
        )}
      </p>
    </article>
  );
}
