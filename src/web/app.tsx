/**
 * The UI's root: finds out who is signed in, shows the sign-in page or the requested page, and
 * sends an expired session back to sign-in with the page to return to.
 */
import type { JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { currentUser } from './api/auth.js';
import { hasSessionCookie, onSessionLost, type ApiError } from './api/client.js';
import type { User } from './api/schemas.js';
import { AppShell, Loading } from './components/app-shell.js';
import { ErrorNotice } from './components/notice.js';
import { navigate, useLocation } from './lib/router.js';
import { DesktopNotifications } from './lib/desktop-notifications.js';
import { LiveProvider } from './lib/live.js';
import { matchRoute, type RouteMatch } from './lib/routes.js';
import { SessionContext, type SessionState } from './lib/session.js';
import { toApiError } from './lib/use-resource.js';
import { AccountPage } from './pages/account/account-page.js';
import { NotFoundPage } from './pages/not-found-page.js';
import { ProviderEditPage, ProviderNewPage } from './pages/cloud-providers/provider-form-page.js';
import { ProviderDetailPage } from './pages/cloud-providers/provider-detail-page.js';
import { ProviderListPage } from './pages/cloud-providers/provider-list-page.js';
import { ContactPage } from './pages/contacts/contact-page.js';
import { CannedAnswersPage } from './pages/canned-answers/canned-answers-page.js';
import { ContactsPage } from './pages/contacts/contacts-page.js';
import { ListsPage } from './pages/contacts/lists-page.js';
import { SignInPage } from './pages/sign-in-page.js';
import { UsersPage } from './pages/users/users-page.js';
import { AccountDetailPage } from './pages/email-accounts/account-detail-page.js';
import { AccountEditPage, AccountNewPage } from './pages/email-accounts/account-form-page.js';
import { AccountListPage } from './pages/email-accounts/account-list-page.js';
import { InboxPage } from './pages/inbox/inbox-page.js';
import { DiagnosticsPage } from './pages/diagnostics/diagnostics-page.js';
import { WebhooksPage } from './pages/webhooks/webhooks-page.js';

type Boot =
  | { state: 'loading' }
  | { state: 'anonymous'; notice?: string }
  | { state: 'signed-in'; user: User }
  | { state: 'failed'; error: ApiError };

export function App(): JSX.Element {
  const [boot, setBoot] = useState<Boot>(() => (hasSessionCookie() ? { state: 'loading' } : { state: 'anonymous' }));
  const location = useLocation();

  useEffect(() => {
    if (boot.state !== 'loading') return;
    currentUser().then(
      (user) => setBoot({ state: 'signed-in', user }),
      (error: unknown) => {
        const apiError = toApiError(error);
        if (apiError.status === 401) setBoot({ state: 'anonymous' });
        else setBoot({ state: 'failed', error: apiError });
      },
    );
  }, [boot.state]);

  useEffect(
    () =>
      onSessionLost((error) => {
        setBoot({ state: 'anonymous', notice: error.message });
      }),
    [],
  );

  const session = useMemo<SessionState | null>(
    () =>
      boot.state === 'signed-in'
        ? {
            user: boot.user,
            signedOut: () => {
              setBoot({ state: 'anonymous' });
              navigate('/sign-in', { replace: true });
            },
          }
        : null,
    [boot],
  );

  if (boot.state === 'loading') return <Loading what="Postern" />;
  if (boot.state === 'failed') {
    return (
      <main id="main" class="centered">
        <h1>Postern is not available</h1>
        <ErrorNotice error={boot.error} />
      </main>
    );
  }
  if (boot.state === 'anonymous' || session === null) {
    return (
      <SignInPage
        notice={boot.state === 'anonymous' ? boot.notice : undefined}
        onSignedIn={(user) => {
          setBoot({ state: 'signed-in', user });
          const back = location.search.get('next');
          const onSignIn = matchRoute(location.pathname)?.name === 'sign-in';
          if (back !== null && back.startsWith('/') && !back.startsWith('//')) navigate(back, { replace: true });
          else if (onSignIn) navigate('/', { replace: true });
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <LiveProvider>
        <DesktopNotifications />
        <AppShell>
          <Page match={matchRoute(location.pathname)} user={session.user} />
        </AppShell>
      </LiveProvider>
    </SessionContext.Provider>
  );
}

function Page({ match, user }: { match: RouteMatch | null; user: User }): JSX.Element {
  const admin = user.role === 'admin';
  const id = Number(match?.params.id ?? '0');
  useEffect(() => {
    if (match?.name === 'home' || match?.name === 'sign-in')
      navigate(admin ? '/cloud-providers' : '/inbox', { replace: true });
  }, [match?.name, admin]);
  if (match === null) return <NotFoundPage />;
  switch (match.name) {
    case 'home':
    case 'sign-in':
      return <Loading what="the console" />;
    case 'account':
      return <AccountPage />;
    case 'inbox':
      return <InboxPage accountId={null} interactionId={null} />;
    case 'inbox-account':
    case 'inbox-conversation':
      return (
        <InboxPage
          accountId={Number(match.params.accountId)}
          interactionId={match.params.interactionId === undefined ? null : Number(match.params.interactionId)}
        />
      );
    case 'lists':
      return <ListsPage />;
    case 'contacts':
      return <ContactsPage />;
    case 'contact':
      return <ContactPage id={id} />;
    case 'canned-answers':
      return <CannedAnswersPage />;
    default:
      break;
  }
  if (!admin) return <NotFoundPage reason="This page is reserved to administrators." />;
  switch (match.name) {
    case 'providers':
      return <ProviderListPage />;
    case 'provider-new':
      return <ProviderNewPage />;
    case 'provider':
      return <ProviderDetailPage id={id} />;
    case 'provider-edit':
      return <ProviderEditPage id={id} />;
    case 'accounts':
      return <AccountListPage />;
    case 'account-new':
      return <AccountNewPage />;
    case 'email-account':
      return <AccountDetailPage id={id} />;
    case 'account-edit':
      return <AccountEditPage id={id} />;
    case 'users':
      return <UsersPage />;
    case 'diagnostics':
      return <DiagnosticsPage />;
    case 'webhooks':
      return <WebhooksPage />;
  }
}
