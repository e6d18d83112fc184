/**
 * API tokens for integrators (`Authorization: Bearer pst_…`): create one — shown once, with a
 * copy button — list them with their last use, revoke them.
 */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { createToken, listTokens, revokeToken } from '../../api/tokens.js';
import type { ApiToken } from '../../api/schemas.js';
import { CopyField } from '../../components/copy-field.js';
import { TextField, problemsByField } from '../../components/fields.js';
import { ErrorNotice, Notice } from '../../components/notice.js';
import { useConfirm } from '../../components/confirm-dialog.js';
import { formatDateTime } from '../../lib/format.js';
import { useSession } from '../../lib/session.js';
import { useResource } from '../../lib/use-resource.js';
import { useSubmit } from '../../lib/use-submit.js';

export function ApiTokens(): JSX.Element {
  const { user } = useSession();
  const tokens = useResource(listTokens, 'tokens');
  const [name, setName] = useState('');
  const [created, setCreated] = useState<(ApiToken & { token: string }) | null>(null);
  const submission = useSubmit();
  const [confirm, confirmation] = useConfirm();
  const problems = problemsByField(submission.error?.fields ?? []);

  const create = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void submission.run(async () => {
      setCreated(await createToken(name.trim()));
      setName('');
      await tokens.reload();
    });
  };
  const revoke = async (token: ApiToken): Promise<void> => {
    const question = {
      title: `Revoke the token "${token.name}"?`,
      body: 'Programs using it stop working at once.',
      action: 'Revoke',
    };
    if (!(await confirm(question))) return;
    void submission.run(async () => {
      await revokeToken(token.id);
      await tokens.reload();
    });
  };
  const active = (tokens.data ?? []).filter((t) => t.revokedAt === null);

  return (
    <section class="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      <p class="muted">
        For programs that use Postern's API: send the token as "Authorization: Bearer …".{' '}
        {user.role === 'admin' ? "As an administrator you see every user's tokens." : ''}
      </p>
      {created === null ? null : (
        <Notice tone="success" onDismiss={() => setCreated(null)}>
          <p>
            Token <strong>{created.name}</strong> created. Copy it now: it is not shown again.
          </p>
          <CopyField label="API token" value={created.token} />
        </Notice>
      )}
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      {tokens.error === undefined ? null : <ErrorNotice error={tokens.error} />}
      {active.length === 0 ? (
        <p class="muted">No API token yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">API tokens</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Token</th>
                <th scope="col" class="hide-narrow">
                  Last used
                </th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {active.map((token) => (
                <tr key={token.id}>
                  <th scope="row">
                    {token.name}
                    {token.userId === user.id ? null : <span class="muted block">user {token.userId}</span>}
                  </th>
                  <td>
                    <code>{token.prefix}…</code>
                  </td>
                  <td class="hide-narrow">{formatDateTime(token.lastUsedAt)}</td>
                  <td class="row-actions">
                    <button
                      type="button"
                      class="button button-small button-danger"
                      onClick={() => void revoke(token)}
                      aria-label={`Revoke ${token.name}`}
                      disabled={submission.busy}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form class="inline-form" onSubmit={create}>
        <TextField
          label="New token name"
          value={name}
          onValue={setName}
          required
          placeholder="CRM integration"
          problem={problems.name}
        />
        <button type="submit" class="button" disabled={submission.busy || name.trim() === ''}>
          Create token
        </button>
      </form>
      {confirmation}
    </section>
  );
}
