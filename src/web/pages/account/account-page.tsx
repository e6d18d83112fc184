/** The signed-in user's own page: who they are, and the password change. */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { changePassword } from '../../api/auth.js';
import { PageHeader } from '../../components/app-shell.js';
import { TextField, problemsByField } from '../../components/fields.js';
import { ErrorNotice, Notice } from '../../components/notice.js';
import { formatDateTime } from '../../lib/format.js';
import { useSession } from '../../lib/session.js';
import { useSubmit } from '../../lib/use-submit.js';
import { ApiTokens } from './api-tokens.js';
import { OwnSignature } from './own-signature.js';

const MIN_PASSWORD = 10;

export function AccountPage(): JSX.Element {
  const { user } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [done, setDone] = useState(false);
  const submit = useSubmit();
  const problems = problemsByField(submit.error?.fields ?? []);
  const mismatch = repeat !== '' && repeat !== next ? 'does not match the new password' : undefined;

  const onSubmit = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setDone(false);
    if (mismatch !== undefined || next === '') return;
    void submit
      .run(() => changePassword(current, next))
      .then((ok) => {
        if (!ok) return;
        setDone(true);
        setCurrent('');
        setNext('');
        setRepeat('');
      });
  };

  return (
    <section>
      <PageHeader title="Your account" />
      <dl class="facts">
        <dt>Username</dt>
        <dd>{user.username}</dd>
        <dt>Role</dt>
        <dd>{user.role === 'admin' ? 'Administrator' : 'Agent'}</dd>
        <dt>Last sign-in</dt>
        <dd>{formatDateTime(user.lastLoginAt)}</dd>
      </dl>
      <form class="card form" onSubmit={onSubmit} aria-labelledby="password-title">
        <h2 id="password-title">Change password</h2>
        {done ? <Notice tone="success">Your password has been changed.</Notice> : null}
        {submit.error === undefined ? null : <ErrorNotice error={submit.error} />}
        <TextField
          label="Current password"
          type="password"
          value={current}
          onValue={setCurrent}
          autocomplete="current-password"
          required
          problem={problems.currentPassword}
        />
        <TextField
          label="New password"
          type="password"
          value={next}
          onValue={setNext}
          autocomplete="new-password"
          required
          help={`At least ${MIN_PASSWORD} characters.`}
          problem={problems.newPassword}
        />
        <TextField
          label="Repeat the new password"
          type="password"
          value={repeat}
          onValue={setRepeat}
          autocomplete="new-password"
          required
          problem={mismatch}
        />
        <div class="form-actions">
          <button type="submit" class="button button-primary" disabled={submit.busy || mismatch !== undefined}>
            Change password
          </button>
        </div>
      </form>
      <OwnSignature />
      <ApiTokens />
    </section>
  );
}
