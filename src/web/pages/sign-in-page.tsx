import type { JSX, TargetedSubmitEvent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { signIn } from '../api/auth.js';
import type { User } from '../api/schemas.js';
import { TextField } from '../components/fields.js';
import { ErrorNotice, Notice } from '../components/notice.js';
import { useSubmit } from '../lib/use-submit.js';

export function SignInPage({
  notice,
  onSignedIn,
}: {
  notice: string | undefined;
  onSignedIn: (user: User) => void;
}): JSX.Element {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const submit = useSubmit();
  useEffect(() => {
    document.title = 'Sign in — Postern';
  }, []);

  const onSubmit = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    let user: User | undefined;
    void submit
      .run(async () => {
        user = await signIn(username, password);
      })
      .then((ok) => {
        if (ok && user !== undefined) onSignedIn(user);
      });
  };

  return (
    <main id="main" class="sign-in">
      <form class="card sign-in-card" onSubmit={onSubmit} aria-labelledby="sign-in-title" noValidate>
        <p class="brand brand-large">Postern</p>
        <h1 id="sign-in-title">Sign in</h1>
        {notice === undefined ? null : <Notice tone="info">{notice}</Notice>}
        {submit.error === undefined ? null : <ErrorNotice error={submit.error} />}
        <TextField label="Username" value={username} onValue={setUsername} autocomplete="username" required />
        <TextField
          label="Password"
          type="password"
          value={password}
          onValue={setPassword}
          autocomplete="current-password"
          required
        />
        <button type="submit" class="button button-primary" disabled={submit.busy}>
          {submit.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
