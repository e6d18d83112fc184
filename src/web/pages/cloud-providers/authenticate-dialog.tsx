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
import { defaultRedirectUri, publicUrl } from '../../lib/public-url.js';
import { resumeAtPublicUrl } from '../../lib/routes.js';
import { useSubmit } from '../../lib/use-submit.js';

export interface AuthenticateDialogProps {
  provider: Provider;
  open: boolean;
  onClose: () => void;
  onSignedIn: (grant: Grant) => void;
  /** The user to pre-fill (carried over when the console moved to its public URL). */
  loginHint?: string;
}

export function AuthenticateDialog({
  provider,
  open,
  onClose,
  onSignedIn,
  loginHint,
}: AuthenticateDialogProps): JSX.Element {
  return (
    <Dialog title={`Authenticate ${provider.name}`} open={open} onClose={onClose}>
      {provider.grantType === 'password' ? (
        <PasswordSignIn provider={provider} onClose={onClose} onSignedIn={onSignedIn} />
      ) : provider.grantType === 'client_credentials' ? (
        <AppSignIn provider={provider} onClose={onClose} onSignedIn={onSignedIn} />
      ) : (
        <BrowserSignIn provider={provider} onClose={onClose} initialLoginHint={loginHint ?? ''} />
      )}
    </Dialog>
  );
}

function BrowserSignIn({
  provider,
  onClose,
  initialLoginHint,
}: {
  provider: Provider;
  onClose: () => void;
  initialLoginHint: string;
}): JSX.Element {
  const [loginHint, setLoginHint] = useState(initialLoginHint);
  const elsewhere = consoleElsewhere();
  const go = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    window.location.assign(
      elsewhere === null
        ? browserSignInUrl(provider.id, loginHint)
        : resumeAtPublicUrl(elsewhere.publicUrl, provider.id, loginHint),
    );
  };
  return (
    <form onSubmit={go} class="form">
      {elsewhere === null ? null : (
        <Notice tone="warn">
          <p class="notice-title">This console is open at {elsewhere.here}, not at Postern's public URL.</p>
          <p>
            Microsoft sends you back to the redirect URI, <code>{elsewhere.redirectUri}</code>, and your console session
            is here, at {elsewhere.here}: a sign-in started here could not be finished. Postern continues at{' '}
            {elsewhere.publicUrl} — sign in to the console there if it asks — and starts the sign-in from there.
          </p>
        </Notice>
      )}
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
          {elsewhere === null ? 'Continue to Microsoft' : `Continue at ${new URL(elsewhere.publicUrl).host}`}
        </button>
        <button type="button" class="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/**
 * The console's address when it differs from the public URL (POSTERN_PUBLIC_URL), which the
 * redirect URI is built from; null when they are the same origin.
 */
function consoleElsewhere(): { here: string; publicUrl: string; redirectUri: string } | null {
  const configured = publicUrl();
  let origin: string;
  try {
    origin = new URL(configured).origin;
  } catch {
    return null;
  }
  const here = window.location.origin;
  return origin === here ? null : { here, publicUrl: configured, redirectUri: defaultRedirectUri() };
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
