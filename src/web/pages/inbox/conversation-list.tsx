/**
 * An account's conversations: open, closed or mine, newest activity first. A search looks through
 * every conversation of the account, open and closed, whatever the selected tab (the API's `q`, see
 * README.md's "Searching conversations" for its syntax), and each result shows its status and reference.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client.js';
import { listInteractions, type ConversationFilter } from '../../api/interactions.js';
import type { Interaction } from '../../api/schemas.js';
import { Loading } from '../../components/app-shell.js';
import { Badge } from '../../components/badge.js';
import { ErrorNotice } from '../../components/notice.js';
import { formatDateTime } from '../../lib/format.js';
import { Link } from '../../lib/router.js';
import { toApiError } from '../../lib/use-resource.js';
import { useLiveRefresh } from '../../lib/live.js';
import { isSnoozed } from './snooze-control.js';

const VIEWS = [
  { view: 'open', label: 'Open' },
  { view: 'mine', label: 'Mine' },
  { view: 'snoozed', label: 'Snoozed' },
  { view: 'closed', label: 'Closed' },
] as const;

export type View = (typeof VIEWS)[number]['view'];

/** Whether a `?view=` parameter names a view. */
export function isView(value: string | null): value is View {
  return VIEWS.some((entry) => entry.view === value);
}

/** Open and Mine leave out the snoozed conversations, which the Snoozed view lists. */
function filterOf(view: View, q: string): ConversationFilter {
  if (q.trim() !== '') return { q: q.trim() };
  switch (view) {
    case 'open':
      return { status: 'open', snoozed: 'hide' };
    case 'mine':
      return { status: 'open', assigned: 'me', snoozed: 'hide' };
    case 'snoozed':
      return { status: 'open', snoozed: 'only' };
    case 'closed':
      return { status: 'closed' };
  }
}

const EMPTY: Record<View, string> = {
  open: 'No open conversation. New mail shows here as it arrives.',
  mine: 'No open conversation is assigned to you.',
  snoozed: 'No snoozed conversation.',
  closed: 'No closed conversation.',
};

export interface ConversationListProps {
  accountId: number;
  selectedId: number | null;
  view: View;
  onView: (view: View) => void;
  refreshKey: number;
  /** A refresh found new or updated conversations (the tab counts follow at once). */
  onNews?: () => void;
}

export function ConversationList({
  accountId,
  selectedId,
  view,
  onView,
  refreshKey,
  onNews,
}: ConversationListProps): JSX.Element {
  const [typed, setTyped] = useState('');
  const [query, setQuery] = useState('');
  const [items, setItems] = useState<Interaction[] | undefined>(undefined);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const key = `${accountId}|${view}|${query}`;
  // What the first page looked like at the last refresh of this list, to notice news.
  const seen = useRef<{ key: string; signature: string } | null>(null);

  const load = async (cursor: string | null): Promise<void> => {
    try {
      const page = await listInteractions(accountId, {
        ...filterOf(view, query),
        ...(cursor === null ? {} : { cursor }),
      });
      setItems((old) => (cursor === null ? page.items : [...(old ?? []), ...page.items]));
      if (cursor === null) {
        const signature = page.items.map((item) => `${item.id}@${item.lastActivityAt}`).join(',');
        if (seen.current !== null && seen.current.key === key && seen.current.signature !== signature) onNews?.();
        seen.current = { key, signature };
      }
      if (cursor === null || page.nextCursor !== null) setNext(page.nextCursor);
      setError(undefined);
    } catch (caught) {
      setError(toApiError(caught));
    }
  };

  useEffect(() => {
    setItems(undefined);
    void load(null);
  }, [key]);
  useEffect(() => {
    if (refreshKey > 0) void load(null);
  }, [refreshKey]);
  // New mail, replies and actions on this account's conversations show without a reload.
  useLiveRefresh(
    () => load(null),
    (event) => event.kind !== 'account' && event.accountId === accountId,
  );
  useEffect(() => {
    const timer = window.setTimeout(() => setQuery(typed), 300);
    return () => window.clearTimeout(timer);
  }, [typed]);

  return (
    <section class="conversation-list" aria-label="Conversations">
      <div class="list-tools">
        <div class="segmented" role="group" aria-label="Show">
          {VIEWS.map((entry) => (
            <button
              key={entry.view}
              type="button"
              class="button button-small"
              aria-pressed={entry.view === view}
              onClick={() => onView(entry.view)}
            >
              {entry.label}
            </button>
          ))}
        </div>
        <label class="visually-hidden" for={`search-${accountId}`}>
          Search conversations
        </label>
        <input
          id={`search-${accountId}`}
          class="search-input"
          data-shortcut="search"
          type="search"
          placeholder="Search all conversations"
          aria-describedby={`search-help-${accountId}`}
          value={typed}
          onInput={(event) => setTyped(event.currentTarget.value)}
        />
        <p id={`search-help-${accountId}`} class="muted search-help">
          {query === ''
            ? 'Words, "a phrase", from:, to:, subject:, has:attachment or a reference like P12-7KQX.'
            : 'Searching open and closed conversations.'}
        </p>
      </div>
      {error === undefined ? null : <ErrorNotice error={error} />}
      {items === undefined ? (
        error === undefined ? (
          <Loading what="conversations" />
        ) : null
      ) : items.length === 0 ? (
        <p class="muted empty-list">{query === '' ? EMPTY[view] : 'No conversation matches.'}</p>
      ) : (
        <ul class="conversations">
          {items.map((item) => (
            <li key={item.id}>
              <Link
                to={`/inbox/${accountId}/${item.id}${view === 'open' ? '' : `?view=${view}`}`}
                class={`conversation-item${item.id === selectedId ? ' selected' : ''}${item.unreadCount > 0 ? ' unread' : ''}`}
                aria-current={item.id === selectedId ? 'page' : undefined}
              >
                <span class="conversation-contact">
                  {item.contact.name ?? item.contact.address ?? 'Unknown sender'}
                </span>
                <time class="conversation-time" dateTime={item.lastActivityAt}>
                  {formatDateTime(item.lastActivityAt)}
                </time>
                <span class="conversation-subject">{item.subject === '' ? '(no subject)' : item.subject}</span>
                <span class="conversation-counts">
                  {query === '' ? null : (
                    <Badge
                      badge={
                        item.status === 'open' ? { tone: 'ok', text: 'Open' } : { tone: 'neutral', text: 'Closed' }
                      }
                    />
                  )}
                  {query === '' || item.subjectToken === null ? null : (
                    <code class="conversation-reference">{item.subjectToken}</code>
                  )}
                  {isSnoozed(item) ? (
                    <span class="conversation-snoozed muted">Snoozed until {formatDateTime(item.snoozedUntil)}</span>
                  ) : null}
                  {item.unreadCount > 0 ? <span class="unread-count">{item.unreadCount} new</span> : null}
                  <span class="muted">{item.messageCount === 1 ? '1 message' : `${item.messageCount} messages`}</span>
                  <span class="conversation-owner muted">
                    {item.assignedUserName === null ? 'Unassigned' : `Owner: ${item.assignedUserName}`}
                  </span>
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {next === null ? null : (
        <button type="button" class="button" onClick={() => void load(next)}>
          Load more
        </button>
      )}
    </section>
  );
}
