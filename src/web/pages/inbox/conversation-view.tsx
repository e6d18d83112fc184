/**
 * A conversation: subject, contact, status and assignee with their actions, the messages in
 * order, and the reply composer. Opening it marks its messages read; it is read again every few
 * seconds so that new mail and delivery states show without a reload.
 */
import type { JSX } from 'preact';
import { useEffect } from 'preact/hooks';
import { assignInteraction, getInteraction, markInteractionRead, setInteractionOpen } from '../../api/interactions.js';
import type { InteractionDetail } from '../../api/schemas.js';
import { Loading } from '../../components/app-shell.js';
import { Badge } from '../../components/badge.js';
import { ErrorNotice } from '../../components/notice.js';
import { Link } from '../../lib/router.js';
import { useSession } from '../../lib/session.js';
import { usePolling } from '../../lib/use-polling.js';
import { useResource } from '../../lib/use-resource.js';
import { useSubmit } from '../../lib/use-submit.js';
import { ContactCard } from './contact-card.js';
import { MessageView } from './message-view.js';
import { ReplyComposer } from './reply-composer.js';

const REFRESH_MS = 5000;

export function ConversationView({
  id,
  accountId,
  onChanged,
}: {
  id: number;
  accountId: number;
  onChanged: () => void;
}): JSX.Element {
  const { user } = useSession();
  const conversation = useResource(() => getInteraction(id), String(id));
  const action = useSubmit();
  usePolling(() => void conversation.reload(), REFRESH_MS, String(id));
  const data = conversation.data?.id === id ? conversation.data : undefined;

  useEffect(() => {
    if (data !== undefined && data.unreadCount > 0) {
      markInteractionRead(id).then(onChanged, () => undefined);
    }
  }, [data?.id, data?.unreadCount]);

  if (data === undefined) {
    return (
      <section class="conversation">
        {conversation.error === undefined ? (
          <Loading what="the conversation" />
        ) : (
          <ErrorNotice error={conversation.error} />
        )}
      </section>
    );
  }

  const act = (run: () => Promise<unknown>): void => {
    void action.run(async () => {
      await run();
      await conversation.reload();
      onChanged();
    });
  };

  return (
    <section class="conversation" aria-labelledby="conversation-subject">
      <header class="conversation-header">
        <p class="back-link">
          <Link to={`/inbox/${accountId}`}>← All conversations</Link>
        </p>
        <h2 id="conversation-subject">{data.subject === '' ? '(no subject)' : data.subject}</h2>
        <div class="conversation-state">
          <Badge badge={data.status === 'open' ? { tone: 'ok', text: 'Open' } : { tone: 'neutral', text: 'Closed' }} />
          <span class="muted">{assigneeText(data, user.id)}</span>
          {data.subjectToken === null ? null : (
            <span class="conversation-reference" title="The reference Postern writes in the subject of its replies">
              Reference <code>{data.subjectToken}</code>
            </span>
          )}
        </div>
        <div class="conversation-actions">
          {data.assignedUserId === user.id ? (
            <button
              type="button"
              class="button button-small"
              disabled={action.busy}
              onClick={() => act(() => assignInteraction(id, null))}
            >
              Unassign
            </button>
          ) : (
            <button
              type="button"
              class="button button-small"
              disabled={action.busy}
              onClick={() => act(() => assignInteraction(id, user.id))}
            >
              Assign to me
            </button>
          )}
          {data.status === 'open' ? (
            <button
              type="button"
              class="button button-small"
              disabled={action.busy}
              onClick={() => act(() => setInteractionOpen(id, false))}
            >
              Close
            </button>
          ) : (
            <button
              type="button"
              class="button button-small"
              disabled={action.busy}
              onClick={() => act(() => setInteractionOpen(id, true))}
            >
              Reopen
            </button>
          )}
        </div>
      </header>
      {action.error === undefined ? null : <ErrorNotice error={action.error} />}
      <div class="conversation-body">
        <div class="messages">
          {data.messages.map((message) => (
            <MessageView
              key={message.id}
              message={message}
              onRetried={() => {
                void conversation.reload();
                onChanged();
              }}
            />
          ))}
          <ReplyComposer
            interactionId={id}
            onQueued={() => {
              void conversation.reload();
              onChanged();
            }}
          />
        </div>
        <ContactCard contact={data.contact} />
      </div>
    </section>
  );
}

function assigneeText(data: InteractionDetail, me: number): string {
  if (data.assignedUserId === null) return 'Not assigned';
  return data.assignedUserId === me ? 'Assigned to you' : 'Assigned to another agent';
}
