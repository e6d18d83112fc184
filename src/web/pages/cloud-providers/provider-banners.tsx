/**
 * What the address says happened just before: the OAuth callback's outcome
 * (`?authentication=success&upn=…` or `?authentication=failed&code=AUTH_…`), a creation, a save.
 * A failure is explained with the provider's last error and its remedy, read from the API.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { providerEvents } from '../../api/cloud-providers.js';
import type { Provider, TimelineEvent } from '../../api/schemas.js';
import { Notice } from '../../components/notice.js';

export type Outcome =
  | { kind: 'authenticated'; upn: string | null }
  | { kind: 'authentication-failed'; code: string }
  | { kind: 'created' }
  | { kind: 'saved' }
  | { kind: 'secret-updated' }
  | { kind: 'signed-in'; who: string }
  | { kind: 'admin-consent'; granted: boolean; code: string | null };

/** The outcome named by the page's query string, if any. */
export function outcomeOf(search: URLSearchParams): Outcome | null {
  const authentication = search.get('authentication');
  if (authentication === 'success') return { kind: 'authenticated', upn: search.get('upn') };
  if (authentication === 'failed') return { kind: 'authentication-failed', code: search.get('code') ?? 'AUTH_FAILED' };
  const adminConsent = search.get('adminConsent');
  if (adminConsent === 'granted' || adminConsent === 'failed')
    return { kind: 'admin-consent', granted: adminConsent === 'granted', code: search.get('code') };
  if (search.get('created') !== null) return { kind: 'created' };
  if (search.get('saved') !== null) return { kind: 'saved' };
  return null;
}

export function OutcomeBanner({
  outcome,
  provider,
  onDismiss,
}: {
  outcome: Outcome;
  provider: Provider;
  onDismiss: () => void;
}): JSX.Element {
  switch (outcome.kind) {
    case 'authenticated':
      return (
        <Notice tone="success" onDismiss={onDismiss}>
          <strong>Authentication succeeded.</strong>{' '}
          {outcome.upn === null ? (
            'Postern'
          ) : (
            <>
              Postern is signed in as <strong>{outcome.upn}</strong> and
            </>
          )}{' '}
          keeps the tokens fresh from now on.
        </Notice>
      );
    case 'authentication-failed':
      return <AuthenticationFailed code={outcome.code} provider={provider} onDismiss={onDismiss} />;
    case 'created':
      return (
        <Notice tone="success" onDismiss={onDismiss}>
          <strong>Cloud Provider created.</strong> Next, authenticate it: Actions → Authenticate.
        </Notice>
      );
    case 'saved':
      return (
        <Notice tone="success" onDismiss={onDismiss}>
          Changes saved.
        </Notice>
      );
    case 'secret-updated':
      return (
        <Notice tone="success" onDismiss={onDismiss}>
          Client secret updated.
        </Notice>
      );
    case 'admin-consent':
      return outcome.granted ? (
        <Notice tone="success" onDismiss={onDismiss}>
          <strong>Admin consent granted.</strong> The application permissions apply to the whole tenant.
        </Notice>
      ) : (
        <Notice tone="error" onDismiss={onDismiss}>
          <p class="notice-title">Admin consent was not granted.</p>
          <p>
            A Global, Application or Cloud Application Administrator of the tenant must open the admin consent link and
            accept it. See the provider's timeline for Microsoft's answer.
          </p>
          {outcome.code === null ? null : (
            <p class="notice-code">
              Error code: <code>{outcome.code}</code>
            </p>
          )}
        </Notice>
      );
    case 'signed-in':
      return (
        <Notice tone="success" onDismiss={onDismiss}>
          <strong>Authentication succeeded.</strong> Signed in as <strong>{outcome.who}</strong>.
        </Notice>
      );
  }
}

/** What the sign-in service recorded about a failed sign-in, read from a timeline event. */
export interface RecordedFailure {
  message: string;
  remedy: string | null;
  microsoftMessage: string | null;
}

/**
 * The newest `provider.authentication_failed` event with this code (the timeline is newest first):
 * the server's own words, so the query string names only the code and cannot put text on the page.
 */
export function recordedFailure(events: readonly TimelineEvent[], code: string): RecordedFailure | null {
  const event = events.find((e) => e.type === 'provider.authentication_failed' && e.data?.code === code);
  if (event === undefined) return null;
  const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
  return {
    message: event.message,
    remedy: text(event.data?.remedy),
    microsoftMessage: text(event.data?.microsoftMessage),
  };
}

/**
 * A failed sign-in: the message, Microsoft's own words (the AADSTS text), "What to do" and the
 * code. Errors that need an administrator are the provider's last error; the others (Microsoft
 * unreachable, a sign-in from another session) are found on its timeline.
 */
function AuthenticationFailed({
  code,
  provider,
  onDismiss,
}: {
  code: string;
  provider: Provider;
  onDismiss: () => void;
}): JSX.Element {
  const [recorded, setRecorded] = useState<RecordedFailure | null | undefined>(undefined);
  useEffect(() => {
    providerEvents(provider.id).then(
      (page) => setRecorded(recordedFailure(page.items, code)),
      () => setRecorded(null),
    );
  }, [provider.id, code]);
  const last = provider.lastError !== null && provider.lastError.code === code ? provider.lastError : null;
  const message = recorded?.message ?? last?.message ?? 'Microsoft did not complete the sign-in.';
  const remedy = recorded?.remedy ?? last?.remedy ?? null;
  const said = recorded?.microsoftMessage ?? null;
  return (
    <Notice tone="error" onDismiss={onDismiss}>
      <p class="notice-title">Authentication failed.</p>
      <p>{message}</p>
      {said === null ? null : (
        <p class="notice-detail">
          Microsoft said: <q>{said}</q>
        </p>
      )}
      {remedy === null ? null : (
        <p class="notice-remedy">
          <strong>What to do:</strong> {remedy}
        </p>
      )}
      <p class="notice-code">
        Error code: <code>{code}</code>
      </p>
    </Notice>
  );
}
