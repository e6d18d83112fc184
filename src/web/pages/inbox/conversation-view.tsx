/**
 * A conversation: subject, contact, status and assignee with their actions, the messages and
 * internal notes in order, the note form and the reply composer — or, once a message's Forward is
 * pressed, the forward composer in the reply's place until it is sent or cancelled. Opening it marks its messages
 * read; it is read again when the live stream says it changed (new mail, a delivery state, an
 * action of another agent, a note, a colleague starting or stopping a reply). "X is replying" is
 * shown while a colleague's draft is fresh, and read again when the server says it would lapse.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import {
  assignInteraction,
  getInteraction,
  listAssignees,
  markInteractionRead,
  setInteractionOpen,
} from '../../api/interactions.js';
import type { InteractionDetail, Message, Note, Replying } from '../../api/schemas.js';
import { Loading } from '../../components/app-shell.js';
import { Badge } from '../../components/badge.js';
import { ErrorNotice } from '../../components/notice.js';
import { Link } from '../../lib/router.js';
import { useSession } from '../../lib/session.js';
import { useLiveRefresh } from '../../lib/live.js';
import { useResource } from '../../lib/use-resource.js';
import { useSubmit } from '../../lib/use-submit.js';
import { ContactCard } from './contact-card.js';
import { MailComposer } from './mail-composer.js';
import { MessageView } from './message-view.js';
import { NoteComposer, NoteView } from './note-view.js';
import { ReplyComposer } from './reply-composer.js';
import { SnoozeControl } from './snooze-control.js';
import { TransferDialog } from './transfer-dialog.js';

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
  const assignable = useResource(() => listAssignees(accountId), String(accountId));
  const [transferring, setTransferring] = useState(false);
  useLiveRefresh(
    () => conversation.reload(),
    (event) => event.kind !== 'account' && event.interactionId === id,
  );
  const data = conversation.data?.id === id ? conversation.data : undefined;
  /** The message being forwarded: the forward composer shows instead of the reply's. */
  const [forwarding, setForwarding] = useState<Message | undefined>(undefined);

  // A colleague's "is replying" lapses unless their draft is saved again (which the live stream
  // tells): read the conversation again when the first one would, by the server's reckoning.
  const lapse = data === undefined || data.replying.length === 0 ? undefined : firstLapse(data.replying);
  useEffect(() => {
    if (lapse === undefined) return undefined;
    const timer = window.setTimeout(() => void conversation.reload(), lapse + 1_000);
    return () => window.clearTimeout(timer);
  }, [data, lapse]);

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
          <span class="muted" data-testid="assignee">
            {assigneeText(data, user.id)}
          </span>
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
              data-shortcut="assign-me"
              onClick={() => act(() => assignInteraction(id, user.id))}
            >
              Assign to me
            </button>
          )}
          <label class="assign-to">
            <span class="visually-hidden">Assign to</span>
            <select
              aria-label="Assign to"
              value={data.assignedUserId === null ? '' : String(data.assignedUserId)}
              disabled={action.busy || assignable.data === undefined}
              onChange={(event) => {
                const value = event.currentTarget.value;
                act(() => assignInteraction(id, value === '' ? null : Number(value)));
              }}
            >
              <option value="">Nobody</option>
              {(assignable.data?.items ?? []).map((person) => (
                <option key={person.id} value={String(person.id)}>
                  {person.displayName}
                  {person.id === user.id ? ' (you)' : ''}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            class="button button-small"
            disabled={action.busy || assignable.data === undefined}
            onClick={() => setTransferring(true)}
          >
            Transfer…
          </button>
          <TransferDialog
            interactionId={id}
            currentOwner={data.assignedUserId}
            me={user.id}
            people={assignable.data?.items ?? []}
            open={transferring}
            onClose={() => setTransferring(false)}
            onDone={() => {
              setTransferring(false);
              void conversation.reload();
              onChanged();
            }}
          />
          <SnoozeControl conversation={data} busy={action.busy} act={act} />
          {data.status === 'open' ? (
            <button
              type="button"
              class="button button-small"
              disabled={action.busy}
              data-shortcut="close"
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
          {timelineOf(data.messages, data.notes).map((entry) =>
            entry.kind === 'message' ? (
              <MessageView
                key={`message-${entry.message.id}`}
                message={entry.message}
                latest={entry.message.id === data.messages[data.messages.length - 1]?.id}
                onRetried={() => {
                  void conversation.reload();
                  onChanged();
                }}
                onForward={() => setForwarding(entry.message)}
              />
            ) : (
              <NoteView
                key={`note-${entry.note.id}-${entry.note.updatedAt}`}
                note={entry.note}
                mine={entry.note.authorUserId === user.id}
                canChange={entry.note.authorUserId === user.id || user.role === 'admin'}
                onChanged={() => void conversation.reload()}
              />
            ),
          )}
          <NoteComposer key={`notes-${id}`} interactionId={id} onAdded={() => void conversation.reload()} />
          {data.replying.length === 0 ? null : (
            <p class="replying" role="status" data-testid="replying">
              {replyingText(data.replying)}
            </p>
          )}
          {forwarding === undefined ? (
            <ReplyComposer
              key={id}
              interactionId={id}
              accountId={data.accountId}
              onQueued={() => {
                void conversation.reload();
                onChanged();
              }}
            />
          ) : (
            <MailComposer
              key={`forward-${forwarding.id}`}
              mode={{
                kind: 'forward',
                interactionId: id,
                accountId: data.accountId,
                message: forwarding,
                topic: data.subject,
              }}
              onCancel={() => setForwarding(undefined)}
              onSent={() => {
                setForwarding(undefined);
                void conversation.reload();
                onChanged();
              }}
            />
          )}
        </div>
        <ContactCard contact={data.contact} />
      </div>
    </section>
  );
}

function assigneeText(data: InteractionDetail, me: number): string {
  if (data.assignedUserId === null) return 'Not assigned';
  if (data.assignedUserId === me) return 'Assigned to you';
  return `Assigned to ${data.assignedUserName ?? 'another agent'}`;
}

type TimelineEntry = { kind: 'message'; message: Message } | { kind: 'note'; note: Note };

/** Messages and notes in one order: a note goes after the messages stored before it. */
function timelineOf(messages: Message[], notes: Note[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  let next = 0;
  for (const message of messages) {
    while (next < notes.length && (notes[next]?.createdAt ?? '') < message.receivedAt) {
      const note = notes[next];
      if (note !== undefined) entries.push({ kind: 'note', note });
      next += 1;
    }
    entries.push({ kind: 'message', message });
  }
  for (const note of notes.slice(next)) entries.push({ kind: 'note', note });
  return entries;
}

function replyingText(replying: Replying[]): string {
  const names = replying.map((r) => r.displayName);
  if (names.length === 1) return `${names[0] ?? 'A colleague'} is replying…`;
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''} are replying…`;
}

function firstLapse(replying: Replying[]): number {
  return Math.min(...replying.map((r) => r.expiresInMs));
}
