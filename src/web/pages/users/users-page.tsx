/** Administrators and agents: who may sign in, with which role. */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { listAccounts } from '../../api/email-accounts.js';
import { listUsers } from '../../api/users.js';
import type { User } from '../../api/schemas.js';
import { Loading, PageHeader } from '../../components/app-shell.js';
import { Badge } from '../../components/badge.js';
import { ErrorNotice, Notice } from '../../components/notice.js';
import { formatDateTime } from '../../lib/format.js';
import { useSession } from '../../lib/session.js';
import { useResource } from '../../lib/use-resource.js';
import { UserDialog } from './user-dialog.js';

export function UsersPage(): JSX.Element {
  const { user: me } = useSession();
  const users = useResource(listUsers, 'users');
  const accounts = useResource(listAccounts, 'accounts');
  const keysOf = (userId: number): string[] =>
    (accounts.data ?? []).filter((a) => a.agentIds.includes(userId)).map((a) => a.key);
  const [editing, setEditing] = useState<User | 'new' | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  return (
    <section>
      <PageHeader
        title="Users"
        actions={
          <button type="button" class="button button-primary" onClick={() => setEditing('new')}>
            New user
          </button>
        }
      >
        <p class="lead">
          Administrators configure Postern; agents answer mail in the accounts assigned to them (assign agents on each
          email account's form).
        </p>
      </PageHeader>
      {saved === null ? null : (
        <Notice tone="success" onDismiss={() => setSaved(null)}>
          {saved}
        </Notice>
      )}
      {users.error === undefined ? null : <ErrorNotice error={users.error} />}
      {users.data === undefined ? (
        users.error === undefined ? (
          <Loading what="users" />
        ) : null
      ) : (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col" class="hide-narrow">
                  Name
                </th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Accounts</th>
                <th scope="col" class="hide-narrow">
                  Last sign-in
                </th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((user) => (
                <tr key={user.id}>
                  <th scope="row">
                    {user.username}
                    {user.id === me.id ? <span class="muted"> (you)</span> : null}
                  </th>
                  <td class="hide-narrow">{user.displayName}</td>
                  <td>{user.role === 'admin' ? 'Administrator' : 'Agent'}</td>
                  <td>
                    <Badge
                      badge={user.disabled ? { tone: 'neutral', text: 'Disabled' } : { tone: 'ok', text: 'Active' }}
                    />
                  </td>
                  <td>
                    {accounts.data === undefined ? null : user.role === 'admin' ? (
                      <span class="muted">all</span>
                    ) : keysOf(user.id).length === 0 ? (
                      <span class="muted">none</span>
                    ) : (
                      keysOf(user.id).map((key) => (
                        <span key={key} class="key key-spaced">
                          {key}
                        </span>
                      ))
                    )}
                  </td>
                  <td class="hide-narrow">{formatDateTime(user.lastLoginAt)}</td>
                  <td class="row-actions">
                    <button
                      type="button"
                      class="button button-small"
                      onClick={() => setEditing(user)}
                      aria-label={`Edit ${user.username}`}
                    >
                      Edit
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <UserDialog
        user={editing}
        isSelf={editing !== null && editing !== 'new' && editing.id === me.id}
        onClose={() => setEditing(null)}
        onSaved={(user, created) => {
          setEditing(null);
          setSaved(created ? `User ${user.username} created.` : `User ${user.username} saved.`);
          void users.reload();
        }}
      />
    </section>
  );
}
