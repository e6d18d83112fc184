/**
 * What the address says happened just before: the OAuth callback's outcome
 * (`?authentication=success&upn=…` or `?authentication=failed&code=AUTH_…`), a creation, a save.
 * A failure is explained with the provider's last error and its remedy, read from the API.
 */
import type { JSX } from 'preact';
import type { Provider } from '../../api/schemas.js';
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
    case 'authentication-failed': {
      const error = provider.lastError !== null && provider.lastError.code === outcome.code ? provider.lastError : null;
      return (
        <Notice tone="error" onDismiss={onDismiss}>
          <p class="notice-title">Authentication failed.</p>
          <p>{error?.message ?? 'Microsoft did not complete the sign-in.'}</p>
          {error?.remedy === null || error?.remedy === undefined ? null : (
            <p class="notice-remedy">
              <strong>What to do:</strong> {error.remedy}
            </p>
          )}
          <p class="notice-code">
            Error code: <code>{outcome.code}</code>
          </p>
        </Notice>
      );
    }
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
