/**
 * The agent workspace: one tab per assigned account, labelled with its Key and its number of open
 * conversations; the account's conversations; the selected conversation beside them (below them
 * on a narrow screen). The browser tab's title starts with the number of open conversations that
 * have unread mail, across the accounts; everything follows the live stream. "New email" writes
 * from one of the accounts shown (an agent's assigned ones; an administrator's all) in the
 * conversation's place; once sent, the new conversation opens.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { listAccounts } from '../../api/email-accounts.js';
import { listInteractions } from '../../api/interactions.js';
import type { EmailAccount } from '../../api/schemas.js';
import { Loading, PageHeader } from '../../components/app-shell.js';
import { ErrorNotice } from '../../components/notice.js';
import { Link, navigate, useLocation } from '../../lib/router.js';
import { useSession } from '../../lib/session.js';
import { DesktopNotificationsSwitch } from '../../lib/desktop-notifications.js';
import { InboxShortcuts } from '../../lib/keyboard.js';
import { useLiveRefresh } from '../../lib/live.js';
import { useResource } from '../../lib/use-resource.js';
import { ConversationList, isView, type View } from './conversation-list.js';
import { ConversationView } from './conversation-view.js';
import { MailComposer } from './mail-composer.js';

const COUNT_LIMIT = 200;

interface Counts {
  /** Open conversations per account, snoozed ones left out ("200+" beyond one page). */
  readonly open: Record<number, string>;
  /** Open conversations with unread mail, across the accounts (of the first page of each). */
  readonly unread: number;
}

async function openCounts(accounts: EmailAccount[]): Promise<Counts> {
  const entries = await Promise.all(
    accounts.map(async (account) => {
      const page = await listInteractions(account.id, { status: 'open', snoozed: 'hide', limit: COUNT_LIMIT });
      const unread = page.items.filter((item) => item.unreadCount > 0).length;
      return { id: account.id, open: `${page.items.length}${page.nextCursor === null ? '' : '+'}`, unread };
    }),
  );
  return {
    open: Object.fromEntries(entries.map((entry) => [entry.id, entry.open])),
    unread: entries.reduce((sum, entry) => sum + entry.unread, 0),
  };
}

export function InboxPage({
  accountId,
  interactionId,
}: {
  accountId: number | null;
  interactionId: number | null;
}): JSX.Element {
  const { user } = useSession();
  const location = useLocation();
  const accounts = useResource(listAccounts, 'inbox-accounts');
  const list = accounts.data?.filter((a) => a.active);
  const counts = useResource<Counts>(
    () => (list === undefined ? Promise.resolve({ open: {}, unread: 0 }) : openCounts(list)),
    String(list?.map((a) => a.id).join(',')),
  );
  const [refreshKey, setRefreshKey] = useState(0);
  const viewParam = location.search.get('view');
  const [view, setView] = useState<View>(isView(viewParam) ? viewParam : 'open');
  const [composing, setComposing] = useState(false);
  // The tabs' counts follow new mail, replies and actions; the tabs themselves follow account changes.
  useLiveRefresh(
    () => counts.reload(),
    (event) => event.kind !== 'account' && (event.kind !== 'delivery' || event.state === 'queued'),
  );
  useLiveRefresh(
    () => accounts.reload(),
    (event) => event.kind === 'account' && event.change !== 'status',
  );
  const unread = counts.data?.unread ?? 0;

  const current = list?.find((a) => a.id === accountId) ?? null;
  useEffect(() => {
    const first = list?.[0];
    if (list !== undefined && current === null && first !== undefined)
      navigate(`/inbox/${first.id}`, { replace: true });
  }, [list === undefined, current === null]);

  // Another conversation or account chosen from the list: the new email gives way to it.
  useEffect(() => setComposing(false), [interactionId, accountId]);

  const changed = (): void => {
    setRefreshKey((k) => k + 1);
    void counts.reload();
  };

  return (
    <section class="inbox">
      <PageHeader
        title={current === null ? 'Inbox' : `Inbox — ${current.key}`}
        documentTitle={`${unread > 0 ? `(${unread}) ` : ''}${current === null ? 'Inbox' : `Inbox — ${current.key}`}`}
      />
      {accounts.error === undefined ? null : <ErrorNotice error={accounts.error} />}
      {list === undefined ? (
        accounts.error === undefined ? (
          <Loading what="your accounts" />
        ) : null
      ) : list.length === 0 ? (
        <div class="empty card">
          <h2>No Email Account yet</h2>
          <p>
            {user.role === 'admin'
              ? 'Create an Email Account and assign agents to it.'
              : 'An administrator has not assigned an Email Account to you yet.'}
          </p>
        </div>
      ) : (
        <>
          <nav class="account-tabs" aria-label="Email accounts">
            {list.map((account) => (
              <Link
                key={account.id}
                to={`/inbox/${account.id}`}
                class="account-tab"
                aria-current={account.id === current?.id ? 'page' : undefined}
              >
                <span class="key">{account.key}</span> <span class="account-tab-name">{account.name}</span>
                <span class="tab-count" aria-label={`${counts.data?.open[account.id] ?? '…'} open conversations`}>
                  {counts.data?.open[account.id] ?? '…'}
                </span>
              </Link>
            ))}
          </nav>
          <div class="inbox-tools">
            <button
              type="button"
              class="button button-small button-primary new-email"
              disabled={current === null || composing}
              onClick={() => setComposing(true)}
            >
              New email
            </button>
            <DesktopNotificationsSwitch />
            <InboxShortcuts />
          </div>
          {current === null ? null : (
            <div class={interactionId === null && !composing ? 'workspace' : 'workspace has-conversation'}>
              <ConversationList
                accountId={current.id}
                selectedId={interactionId}
                view={view}
                onView={setView}
                refreshKey={refreshKey}
              />
              {composing ? (
                <section class="conversation">
                  <MailComposer
                    mode={{ kind: 'new', accounts: list, accountId: current.id }}
                    onCancel={() => setComposing(false)}
                    onSent={(queued, from) => {
                      setComposing(false);
                      changed();
                      navigate(`/inbox/${from ?? current.id}/${queued.interactionId}`);
                    }}
                  />
                </section>
              ) : interactionId === null ? (
                <p class="conversation-placeholder muted">Choose a conversation.</p>
              ) : (
                <ConversationView key={interactionId} id={interactionId} accountId={current.id} onChanged={changed} />
              )}
            </div>
          )}
        </>
      )}
    </section>
  );
}
