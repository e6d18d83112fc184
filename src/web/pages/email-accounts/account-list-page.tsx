import type { JSX } from 'preact';
import { listAccounts } from '../../api/email-accounts.js';
import { Loading, PageHeader } from '../../components/app-shell.js';
import { Badge } from '../../components/badge.js';
import { ErrorNotice } from '../../components/notice.js';
import { accountBadge } from '../../lib/account-status.js';
import { formatDateTime } from '../../lib/format.js';
import { useLiveRefresh } from '../../lib/live.js';
import { Link } from '../../lib/router.js';
import { useResource } from '../../lib/use-resource.js';

export function AccountListPage(): JSX.Element {
  const accounts = useResource(listAccounts, 'accounts');
  // Statuses follow the live stream (an account connecting, failing, created or deleted elsewhere).
  useLiveRefresh(
    () => accounts.reload(),
    (event) => event.kind === 'account',
  );
  const items = accounts.data;
  return (
    <section>
      <PageHeader
        title="Email Accounts"
        actions={
          <Link to="/email-accounts/new" class="button button-primary">
            New Email Account
          </Link>
        }
      >
        <p class="lead">
          The mailboxes Postern reads into conversations and sends from, each with the Key agents see on their tabs.
        </p>
      </PageHeader>
      {accounts.error === undefined ? null : <ErrorNotice error={accounts.error} />}
      {items === undefined ? (
        accounts.error === undefined ? (
          <Loading what="email accounts" />
        ) : null
      ) : items.length === 0 ? (
        <div class="empty card">
          <h2>No Email Account yet</h2>
          <p>Create and authenticate a Cloud Provider first, then associate a mailbox with it here.</p>
          <Link to="/email-accounts/new" class="button button-primary">
            Create the first account
          </Link>
        </div>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">Email accounts and their status</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Name</th>
                <th scope="col">Email Address</th>
                <th scope="col">Status</th>
                <th scope="col" class="hide-narrow">
                  Cloud Provider
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((account) => (
                <tr key={account.id}>
                  <td>
                    <span class="key">{account.key}</span>
                  </td>
                  <th scope="row">
                    <Link to={`/email-accounts/${account.id}`}>{account.name}</Link>
                  </th>
                  <td>
                    {account.emailAddress}
                    {account.modernAuthEmail === null || account.modernAuthEmail === account.username ? null : (
                      <span class="muted block">via {account.modernAuthEmail}</span>
                    )}
                  </td>
                  <td>
                    <Badge badge={accountBadge(account)} />
                    {account.lastError === null ? null : <span class="muted block">{account.lastError.message}</span>}
                    {account.statusChangedAt === null ? null : (
                      <span class="muted block">since {formatDateTime(account.statusChangedAt)}</span>
                    )}
                  </td>
                  <td class="hide-narrow">
                    {account.providerId === null ? (
                      '—'
                    ) : (
                      <Link to={`/cloud-providers/${account.providerId}`}>
                        {account.providerName ?? `Provider ${account.providerId}`}
                      </Link>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
