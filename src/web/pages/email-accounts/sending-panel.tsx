/** Sending: the limits Exchange Online imposes, what the account uses of them, and its outbox. */
import type { JSX } from 'preact';
import { accountSending } from '../../api/email-accounts.js';
import { ErrorNotice } from '../../components/notice.js';
import { formatSize } from '../../lib/mail-format.js';
import { useLiveRefresh } from '../../lib/live.js';
import { useResource } from '../../lib/use-resource.js';

export function SendingPanel({ accountId }: { accountId: number }): JSX.Element {
  const sending = useResource(() => accountSending(accountId), String(accountId));
  // The outbox counts and usage move with each delivery of the account.
  useLiveRefresh(
    () => sending.reload(),
    (event) => event.accountId === accountId && (event.kind === 'delivery' || event.kind === 'account'),
  );
  const data = sending.data;
  return (
    <section class="card" aria-labelledby="sending-title">
      <h2 id="sending-title">Sending</h2>
      {sending.error === undefined ? null : <ErrorNotice error={sending.error} />}
      {data === undefined ? null : (
        <dl class="facts">
          <dt>This minute</dt>
          <dd>
            {data.usage.messagesLastMinute} of {data.sendPerMinute} messages
          </dd>
          <dt>Last 24 hours</dt>
          <dd>
            {data.usage.recipientsLastDay.toLocaleString()} of {data.recipientsPerDay.toLocaleString()} recipients
          </dd>
          <dt>Outbox</dt>
          <dd>
            {data.outbox.queued} queued, {data.outbox.sending} sending, {data.outbox.sent} sent, {data.outbox.failed}{' '}
            failed
            {data.outbox.cancelled === 0 ? '' : `, ${data.outbox.cancelled} cancelled`}
          </dd>
          <dt>Per message</dt>
          <dd>
            at most {data.maxRecipientsPerMessage} recipients and {formatSize(data.maxMessageBytes)}
          </dd>
          <dt>Retries</dt>
          <dd>for {data.retryForHours} hours, then the message fails</dd>
        </dl>
      )}
    </section>
  );
}
