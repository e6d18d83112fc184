/**
 * Authenticate, by the provider's grant type: a browser sign-in at Microsoft (authorization code),
 * a username and password (ROPC), or the application itself (client credentials). The device code
 * has its own dialog.
 */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { authenticate, browserSignInUrl } from '../../api/cloud-providers.js';
import type { Grant, Provider } from '../../api/schemas.js';
import { Dialog } from '../../components/dialog.js';
import { TextField } from '../../components/fields.js';
import { ErrorNotice, Notice } from '../../components/notice.js';
import { useSubmit } from '../../lib/use-submit.js';

export interface AuthenticateDialogProps {
  provider: Provider;
  open: boolean;
  onClose: () => void;
  onSignedIn: (grant: Grant) => void;
}

export function AuthenticateDialog({ provider, open, onClose, onSignedIn }: AuthenticateDialogProps): JSX.Element {
  return (
    <Dialog title={`Authenticate ${provider.name}`} open={open} onClose={onClose}>
      {provider.grantType === 'password' ? (
        <PasswordSignIn provider={provider} onClose={onClose} onSignedIn={onSignedIn} />
      ) : provider.grantType === 'client_credentials' ? (
        <AppSignIn provider={provider} onClose={onClose} onSignedIn={onSignedIn} />
      ) : (
        <BrowserSignIn provider={provider} onClose={onClose} />
      )}
    </Dialog>
  );
}

function BrowserSignIn({ provider, onClose }: { provider: Provider; onClose: () => void }): JSX.Element {
  const [loginHint, setLoginHint] = useState('');
  const go = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    window.location.assign(browserSignInUrl(provider.id, loginHint));
  };
  return (
    <form onSubmit={go} class="form">
      <p>
        You will be sent to Microsoft's sign-in page. Sign in with the mailbox user and accept the app's access request;
        Postern then brings you back here.
      </p>
      <p class="hint">
        For a shared mailbox, sign in as one of the users linked to it (for example andrea@… for developers@…). That
        user is the account's Modern Authentication Email.
      </p>
      <TextField
        label="Sign in as (optional)"
        type="email"
        value={loginHint}
        onValue={setLoginHint}
        autocomplete="off"
        help="Pre-fills the user on Microsoft's page."
      />
      <div class="form-actions">
        <button type="submit" class="button button-primary">
          Continue to Microsoft
        </button>
        <button type="button" class="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function PasswordSignIn({
  provider,
  onClose,
  onSignedIn,
}: {
  provider: Provider;
  onClose: () => void;
  onSignedIn: (grant: Grant) => void;
}): JSX.Element {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const submission = useSubmit();
  const go = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void submission.run(async () => {
      const reply = await authenticate(provider.id, { username, password });
      if (reply.method === 'completed') onSignedIn(reply.grant);
    });
  };
  return (
    <form onSubmit={go} class="form">
      <Notice tone="warn">
        The password grant sends the user's password to Microsoft without MFA; many tenants block it. Prefer the
        authorization code.
      </Notice>
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      <TextField label="Username" type="email" value={username} onValue={setUsername} autocomplete="off" required />
      <TextField
        label="Password"
        type="password"
        value={password}
        onValue={setPassword}
        autocomplete="off"
        required
        help="Used once to obtain tokens; never stored."
      />
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={submission.busy}>
          Sign in
        </button>
        <button type="button" class="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function AppSignIn({
  provider,
  onClose,
  onSignedIn,
}: {
  provider: Provider;
  onClose: () => void;
  onSignedIn: (grant: Grant) => void;
}): JSX.Element {
  const submission = useSubmit();
  const go = (): void => {
    void submission.run(async () => {
      const reply = await authenticate(provider.id);
      if (reply.method === 'completed') onSignedIn(reply.grant);
    });
  };
  return (
    <div class="form">
      <p>
        Postern obtains a token for the application itself with its client secret (no user signs in). The app needs
        application permissions with admin consent.
      </p>
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      <div class="form-actions">
        <button type="button" class="button button-primary" disabled={submission.busy} onClick={go}>
          Sign in as the application
        </button>
        <button type="button" class="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </div>
  );
}
