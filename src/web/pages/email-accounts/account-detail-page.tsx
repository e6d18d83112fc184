/**
 * One email account: live status with the last error and its remedy, the guide's settings,
 * Enable/Disable, Edit, Delete, and the account's timeline. The status and the timeline are read
 * again when the live stream says the account changed (or a delivery of it did).
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { accountEvents, deleteAccount, getAccount, setAccountActive } from '../../api/email-accounts.js';
import type { EmailAccount } from '../../api/schemas.js';
import { Loading, PageHeader } from '../../components/app-shell.js';
import { Badge } from '../../components/badge.js';
import { DiagnoseButton } from '../../components/diagnose-button.js';
import { Dialog } from '../../components/dialog.js';
import { EventTimeline } from '../../components/event-timeline.js';
import { MenuButton } from '../../components/menu-button.js';
import { ErrorNotice, Notice } from '../../components/notice.js';
import { accountBadge } from '../../lib/account-status.js';
import { formatDateTime } from '../../lib/format.js';
import { useLiveRefresh } from '../../lib/live.js';
import { Link, navigate, useLocation } from '../../lib/router.js';
import { useResource } from '../../lib/use-resource.js';
import { useSubmit } from '../../lib/use-submit.js';
import { ConnectionTestPanel } from './connection-test.js';
import { SendingPanel } from './sending-panel.js';

export function AccountDetailPage({ id }: { id: number }): JSX.Element {
  const location = useLocation();
  const resource = useResource(() => getAccount(id), String(id));
  const [notice, setNotice] = useState<string | null>(() =>
    location.search.get('created') !== null
      ? 'Email Account created.'
      : location.search.get('saved') !== null
        ? 'Changes saved.'
        : null,
  );
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [timelineKey, setTimelineKey] = useState(0);
  const action = useSubmit();

  useEffect(() => {
    if (location.search.toString() !== '') navigate(`/email-accounts/${id}`, { replace: true });
  }, []);
  useLiveRefresh(
    async () => {
      await resource.reload();
      setTimelineKey((k) => k + 1);
    },
    (event) => event.accountId === id && (event.kind === 'account' || event.kind === 'delivery'),
  );

  const account = resource.data;
  if (account === undefined) {
    return (
      <section>
        <PageHeader title="Email Account" />
        {resource.error === undefined ? <Loading what="the account" /> : <ErrorNotice error={resource.error} />}
        <Link to="/email-accounts">Back to Email Accounts</Link>
      </section>
    );
  }

  const toggle = (): void => {
    void action.run(async () => {
      await setAccountActive(account.id, !account.active);
      setNotice(account.active ? 'Email Account disabled.' : 'Email Account enabled.');
      await resource.reload();
      setTimelineKey((k) => k + 1);
    });
  };

  return (
    <section>
      <PageHeader
        title={account.name}
        actions={
          <>
            <DiagnoseButton target={{ account: account.id }} label={`${account.key} ${account.emailAddress}`} />
            <MenuButton
              label="Actions"
              items={[
                { label: 'Edit', onSelect: () => navigate(`/email-accounts/${account.id}/edit`) },
                { label: account.active ? 'Disable' : 'Enable', onSelect: toggle },
                { label: 'Delete', onSelect: () => setConfirmDelete(true), danger: true },
              ]}
            />
          </>
        }
      >
        <p class="lead">
          <Link to="/email-accounts">Email Accounts</Link> / <span class="key">{account.key}</span>{' '}
          {account.emailAddress}
        </p>
        <Badge badge={accountBadge(account)} />
      </PageHeader>
      {notice === null ? null : (
        <Notice tone="success" onDismiss={() => setNotice(null)}>
          {notice}
        </Notice>
      )}
      {action.error === undefined ? null : <ErrorNotice error={action.error} />}
      {account.lastError === null ? null : (
        <Notice tone="error">
          <p class="notice-title">{account.lastError.message}</p>
          {account.lastError.remedy === null ? null : (
            <p class="notice-remedy">
              <strong>What to do:</strong> {account.lastError.remedy}
            </p>
          )}
          <p class="notice-code">
            Error code: <code>{account.lastError.code}</code>
          </p>
        </Notice>
      )}
      <section class="card" aria-labelledby="account-test">
        <h2 id="account-test">Connection</h2>
        <p class="muted">
          Signs in with the delegate's token and opens the folder now, step by step, without waiting for the mailbox
          worker.
        </p>
        <ConnectionTestPanel
          accountId={account.id}
          onDone={() => {
            void resource.reload();
            setTimelineKey((k) => k + 1);
          }}
        />
      </section>
      <div class="columns">
        <div>
          <section class="card" aria-labelledby="account-settings">
            <h2 id="account-settings">Settings</h2>
            <AccountFacts account={account} />
          </section>
          <SendingPanel accountId={account.id} />
        </div>
        <section class="card" aria-labelledby="account-timeline">
          <h2 id="account-timeline">Timeline</h2>
          <EventTimeline
            load={(before) => accountEvents(account.id, before)}
            refreshKey={`${account.id}-${timelineKey}-${account.status}`}
          />
        </section>
      </div>
      <DeleteAccountDialog account={account} open={confirmDelete} onClose={() => setConfirmDelete(false)} />
    </section>
  );
}

function AccountFacts({ account }: { account: EmailAccount }): JSX.Element {
  return (
    <dl class="facts">
      <dt>Key</dt>
      <dd>{account.key}</dd>
      <dt>Email Address</dt>
      <dd>{account.emailAddress}</dd>
      <dt>Service</dt>
      <dd>
        {account.service === 'outlook365' ? 'Outlook365' : 'IMAP'}
        {account.modernAuth ? ', Modern Authentication' : ''}
      </dd>
      <dt>Username</dt>
      <dd>{account.username}</dd>
      {account.modernAuth ? (
        <>
          <dt>Cloud Provider</dt>
          <dd>
            {account.providerId === null ? (
              '—'
            ) : (
              <Link to={`/cloud-providers/${account.providerId}`}>
                {account.providerName ?? String(account.providerId)}
              </Link>
            )}
          </dd>
          <dt>Modern Authentication Email</dt>
          <dd>{account.modernAuthEmail ?? `${account.username} (the username)`}</dd>
        </>
      ) : null}
      <dt>Transport</dt>
      <dd>{TRANSPORT_NAMES[account.transport] ?? account.transport}</dd>
      {account.modernAuth ? (
        <>
          <dt>Reading</dt>
          <dd data-testid="effective-inbound">{directionText(account.effectiveTransport.inbound)}</dd>
          <dt>Sending</dt>
          <dd data-testid="effective-outbound">{directionText(account.effectiveTransport.outbound)}</dd>
        </>
      ) : null}
      <dt>Inbox</dt>
      <dd>
        {account.folder}
        {account.scanJunk ? ' and Junk' : ''},{' '}
        {account.useIdle ? 'IDLE' : `polled every ${account.pollIntervalSeconds} s`}
      </dd>
      <dt>Sending limits</dt>
      <dd>
        {account.sendPerMinute} messages a minute, {account.recipientsPerDay.toLocaleString()} recipients a day
      </dd>
      <dt>Keep originals for</dt>
      <dd data-testid="keep-originals">
        {account.rawRetentionDays === null
          ? 'For ever'
          : `${account.rawRetentionDays} ${account.rawRetentionDays === 1 ? 'day' : 'days'}, then the original MIME and attached files are removed (the conversation text stays)`}
      </dd>
      <dt>Status since</dt>
      <dd>{formatDateTime(account.statusChangedAt)}</dd>
      {account.description === null ? null : (
        <>
          <dt>Description</dt>
          <dd>{account.description}</dd>
        </>
      )}
    </dl>
  );
}

function DeleteAccountDialog({
  account,
  open,
  onClose,
}: {
  account: EmailAccount;
  open: boolean;
  onClose: () => void;
}): JSX.Element {
  const submission = useSubmit();
  return (
    <Dialog title={`Delete ${account.name}?`} open={open} onClose={onClose}>
      <div class="form">
        <p>Postern stops reading and sending for {account.emailAddress}. The mailbox itself is not changed.</p>
        {submission.error === undefined ? null : (
          <ErrorNotice error={submission.error} title="The account was not deleted" />
        )}
        <div class="form-actions">
          <button
            type="button"
            class="button button-danger"
            disabled={submission.busy}
            onClick={() =>
              void submission.run(async () => {
                await deleteAccount(account.id);
                navigate('/email-accounts');
              })
            }
          >
            Delete
          </button>
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </div>
    </Dialog>
  );
}

const TRANSPORT_NAMES: Record<string, string> = {
  auto: 'Auto (IMAP and SMTP, switching to Microsoft Graph by itself where Exchange has them disabled)',
  imap_smtp: 'IMAP and SMTP',
  graph: 'Microsoft Graph',
};

const VIA_NAMES: Record<string, string> = { imap: 'IMAP', smtp: 'SMTP', graph: 'Microsoft Graph' };

/** "Through Microsoft Graph since …, because IMAP is disabled for the mailbox", or just the transport. */
function directionText(direction: EmailAccount['effectiveTransport']['inbound']): string {
  const via = `Through ${VIA_NAMES[direction.via] ?? direction.via}`;
  if (direction.since === null || direction.reason === null) return via;
  return `${via} since ${formatDateTime(direction.since)}, because ${direction.reason}`;
}
