/**
 * The frame around every signed-in page: a skip link, the product name, the navigation (a
 * disclosure on narrow screens), the user's menu, and the main landmark.
 */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { signOut } from '../api/auth.js';
import { Link, useLocation } from '../lib/router.js';
import { href } from '../lib/routes.js';
import { useSession } from '../lib/session.js';

interface NavItem {
  to: string;
  label: string;
  adminOnly: boolean;
}

const NAV: NavItem[] = [
  { to: '/inbox', label: 'Inbox', adminOnly: false },
  { to: '/cloud-providers', label: 'Cloud Providers', adminOnly: true },
  { to: '/email-accounts', label: 'Email Accounts', adminOnly: true },
  { to: '/lists', label: 'Lists', adminOnly: false },
  { to: '/contacts', label: 'Contacts', adminOnly: false },
  { to: '/canned-answers', label: 'Canned answers', adminOnly: false },
  { to: '/users', label: 'Users', adminOnly: true },
  { to: '/webhooks', label: 'Webhooks', adminOnly: true },
  { to: '/doctor', label: 'Doctor', adminOnly: true },
];

export function AppShell({ children }: { children: ComponentChildren }): JSX.Element {
  const { user, signedOut } = useSession();
  const location = useLocation();
  const [navOpen, setNavOpen] = useState(false);
  const items = NAV.filter((item) => !item.adminOnly || user.role === 'admin');
  const current = (to: string): boolean =>
    location.pathname === href(to) || location.pathname.startsWith(`${href(to)}/`);
  const previous = useRef(location.pathname);
  // A new page moves the focus to its content, as a page load would, so that screen readers
  // announce it; moving between conversations of the inbox keeps the focus where it is.
  useEffect(() => {
    const before = previous.current;
    previous.current = location.pathname;
    if (before === location.pathname) return;
    const inbox = href('/inbox');
    if (before.startsWith(inbox) && location.pathname.startsWith(inbox)) return;
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [location.pathname]);

  const onSignOut = async (): Promise<void> => {
    try {
      await signOut();
    } finally {
      signedOut();
    }
  };

  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link to="/" class="brand">
          Postern
        </Link>
        <button
          type="button"
          class="nav-toggle"
          aria-expanded={navOpen}
          aria-controls="primary-nav"
          onClick={() => setNavOpen(!navOpen)}
        >
          Menu
        </button>
        <nav id="primary-nav" aria-label="Main" class={navOpen ? 'primary-nav open' : 'primary-nav'}>
          <ul>
            {items.map((item) => (
              <li key={item.to}>
                <Link
                  to={item.to}
                  aria-current={current(item.to) ? 'page' : undefined}
                  onClick={() => setNavOpen(false)}
                >
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="user-area">
          <Link to="/account" class="user-name" aria-current={current('/account') ? 'page' : undefined}>
            {user.displayName === '' ? user.username : user.displayName}
            <span class="role">{user.role}</span>
          </Link>
          <button type="button" class="button button-quiet" onClick={() => void onSignOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

export function PageHeader({
  title,
  documentTitle,
  actions,
  children,
}: {
  title: string;
  /** The browser tab's title when it says more than the heading (the inbox's unread count). */
  documentTitle?: string;
  actions?: ComponentChildren;
  children?: ComponentChildren;
}): JSX.Element {
  const tabTitle = `${documentTitle ?? title} — Postern`;
  useEffect(() => {
    document.title = tabTitle;
  }, [tabTitle]);
  return (
    <div class="page-header">
      <div>
        <h1>{title}</h1>
        {children}
      </div>
      {actions === undefined ? null : <div class="page-actions">{actions}</div>}
    </div>
  );
}

/** A loading placeholder that screen readers announce. */
export function Loading({ what }: { what: string }): JSX.Element {
  return (
    <p class="loading" role="status">
      Loading {what}…
    </p>
  );
}
