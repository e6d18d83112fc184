/** The identities signed in under a provider: state, scopes, sign-in times, errors, and actions. */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { checkGrant, removeGrant } from '../../api/cloud-providers.js';
import type { Grant, TokenCheck } from '../../api/schemas.js';
import { Badge } from '../../components/badge.js';
import { ErrorNotice, Notice } from '../../components/notice.js';
import { useConfirm } from '../../components/confirm-dialog.js';
import { formatDateTime } from '../../lib/format.js';
import { grantIdentity, type Badge as BadgeData } from '../../lib/provider-status.js';
import { useSubmit } from '../../lib/use-submit.js';

const STATE_BADGES: Record<Grant['state'], BadgeData> = {
  active: { tone: 'ok', text: 'Active' },
  reauth_required: { tone: 'warn', text: 'Re-authentication required' },
  revoked: { tone: 'error', text: 'Revoked' },
};

export function GrantsTable({
  providerId,
  grants,
  onChanged,
}: {
  providerId: number;
  grants: Grant[];
  onChanged: () => void;
}): JSX.Element {
  const submission = useSubmit();
  const [confirm, confirmation] = useConfirm();
  const [check, setCheck] = useState<{ grant: Grant; result: TokenCheck } | null>(null);

  if (grants.length === 0) return <p class="muted">No one has signed in under this provider yet. Use Authenticate.</p>;

  const onCheck = (grant: Grant): void => {
    setCheck(null);
    void submission.run(async () => setCheck({ grant, result: await checkGrant(providerId, grant.id, 'exchange') }));
  };
  const onRemove = async (grant: Grant): Promise<void> => {
    const question = {
      title: `Forget ${grantIdentity(grant)}?`,
      body: 'Accounts using this identity stop working until someone signs in again.',
      action: 'Forget',
    };
    if (!(await confirm(question))) return;
    void submission.run(async () => {
      await removeGrant(providerId, grant.id);
      onChanged();
    });
  };

  return (
    <>
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      {check === null ? null : (
        <Notice tone="success" onDismiss={() => setCheck(null)}>
          Exchange token for {check.result.upn ?? grantIdentity(check.grant)}, valid until{' '}
          {formatDateTime(check.result.expiresAt)}, grants:{' '}
          {check.result.scopes.map((s) => (
            <code key={s} class="scope">
              {s}
            </code>
          ))}
        </Notice>
      )}
      <div class="table-wrap">
        <table class="table">
          <caption class="visually-hidden">Signed-in identities</caption>
          <thead>
            <tr>
              <th scope="col">Identity</th>
              <th scope="col">State</th>
              <th scope="col">Last sign-in</th>
              <th scope="col">Last refresh</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {grants.map((grant) => (
              <tr key={grant.id}>
                <th scope="row">
                  {grantIdentity(grant)}
                  {grant.displayName !== null && grant.upn !== null ? (
                    <span class="muted block">{grant.displayName}</span>
                  ) : null}
                  <span class="scopes">
                    {grant.scopes.map((s) => (
                      <code key={s} class="scope">
                        {s}
                      </code>
                    ))}
                  </span>
                  {grant.lastError === null ? null : (
                    <span class="grant-error block">
                      {grant.lastError.message}
                      {grant.lastError.remedy === null ? null : (
                        <span class="block">What to do: {grant.lastError.remedy}</span>
                      )}
                    </span>
                  )}
                </th>
                <td>
                  <Badge badge={STATE_BADGES[grant.state]} />
                </td>
                <td>{formatDateTime(grant.lastInteractiveSignInAt)}</td>
                <td>{formatDateTime(grant.lastRefreshAt)}</td>
                <td class="row-actions">
                  <button
                    type="button"
                    class="button button-small"
                    disabled={submission.busy}
                    onClick={() => onCheck(grant)}
                    aria-label={`Check token of ${grantIdentity(grant)}`}
                  >
                    Check token
                  </button>
                  <button
                    type="button"
                    class="button button-small button-danger"
                    disabled={submission.busy}
                    onClick={() => void onRemove(grant)}
                    aria-label={`Forget ${grantIdentity(grant)}`}
                  >
                    Forget
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {confirmation}
    </>
  );
}
