/**
 * The UI's addresses, all under /ui (the OAuth callback sends the browser to
 * /ui/cloud-providers/{id}). Pure: matching a path to a route with its parameters.
 */
const BASE = '/ui';

export type RouteName =
  | 'home'
  | 'sign-in'
  | 'account'
  | 'providers'
  | 'provider-new'
  | 'provider'
  | 'provider-edit'
  | 'inbox'
  | 'inbox-account'
  | 'inbox-conversation'
  | 'accounts'
  | 'account-new'
  | 'email-account'
  | 'account-edit'
  | 'users'
  | 'diagnostics'
  | 'webhooks'
  | 'lists'
  | 'contacts'
  | 'contact'
  | 'canned-answers';

const PATTERNS: ReadonlyArray<readonly [RouteName, string]> = [
  ['home', '/'],
  ['sign-in', '/sign-in'],
  ['account', '/account'],
  ['providers', '/cloud-providers'],
  ['provider-new', '/cloud-providers/new'],
  ['provider', '/cloud-providers/:id'],
  ['provider-edit', '/cloud-providers/:id/edit'],
  ['inbox', '/inbox'],
  ['inbox-account', '/inbox/:accountId'],
  ['inbox-conversation', '/inbox/:accountId/:interactionId'],
  ['accounts', '/email-accounts'],
  ['account-new', '/email-accounts/new'],
  ['email-account', '/email-accounts/:id'],
  ['account-edit', '/email-accounts/:id/edit'],
  ['users', '/users'],
  ['diagnostics', '/doctor'],
  ['webhooks', '/webhooks'],
  ['lists', '/lists'],
  ['contacts', '/contacts'],
  ['contact', '/contacts/:id'],
  ['canned-answers', '/canned-answers'],
];

export interface RouteMatch {
  name: RouteName;
  params: Record<string, string>;
}

/** The route of a browser path (with or without the /ui prefix), or null when none matches. */
export function matchRoute(pathname: string): RouteMatch | null {
  const local = stripBase(pathname);
  const parts = segments(local);
  for (const [name, pattern] of PATTERNS) {
    const wanted = segments(pattern);
    if (wanted.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    wanted.forEach((segment, index) => {
      const actual = parts[index] ?? '';
      if (segment.startsWith(':')) {
        if (!/^[1-9][0-9]*$/.test(actual)) ok = false;
        else params[segment.slice(1)] = actual;
      } else if (segment !== actual) ok = false;
    });
    if (ok) return { name, params };
  }
  return null;
}

/** The browser path of a UI address such as `/cloud-providers/3`. */
export function href(local: string): string {
  return `${BASE}${local === '/' ? '/' : local}`;
}

function stripBase(pathname: string): string {
  if (pathname === BASE) return '/';
  return pathname.startsWith(`${BASE}/`) ? pathname.slice(BASE.length) : pathname;
}

function segments(path: string): string[] {
  return path.split('/').filter((part) => part !== '');
}

/**
 * The provider's page at the public URL, asked to open Authenticate (with the user to pre-fill):
 * where a console opened under another address continues a browser sign-in.
 */
export function resumeAtPublicUrl(publicUrl: string, providerId: number, loginHint: string): string {
  const query = new URLSearchParams({ authenticate: 'browser' });
  if (loginHint.trim() !== '') query.set('loginHint', loginHint.trim());
  return `${publicUrl}${href(`/cloud-providers/${providerId}`)}?${query.toString()}`;
}

/** What {@link resumeAtPublicUrl} asks of the provider's page: open Authenticate, pre-filled. */
export function resumeRequest(search: URLSearchParams): { loginHint: string } | null {
  if (search.get('authenticate') !== 'browser') return null;
  return { loginHint: search.get('loginHint') ?? '' };
}
