/**
 * A small history-API router: the current location as a hook, `navigate()`, and `Link`, which
 * keeps ordinary link behaviour (new tab, modifier keys) and handles plain clicks in place.
 */
import type { ComponentChildren, JSX, TargetedMouseEvent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { href } from './routes.js';

export interface Location {
  pathname: string;
  search: URLSearchParams;
}

const listeners = new Set<() => void>();

function read(): Location {
  return { pathname: window.location.pathname, search: new URLSearchParams(window.location.search) };
}

/** Goes to a UI address (`/cloud-providers/3?x=1`), adding a history entry unless `replace`. */
export function navigate(local: string, options: { replace?: boolean } = {}): void {
  const target = href(local);
  if (options.replace === true) window.history.replaceState(null, '', target);
  else window.history.pushState(null, '', target);
  for (const listener of listeners) listener();
  if (options.replace !== true) window.scrollTo(0, 0);
}

export function useLocation(): Location {
  const [location, setLocation] = useState(read);
  useEffect(() => {
    const update = (): void => setLocation(read());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return location;
}

interface LinkProps {
  to: string;
  children: ComponentChildren;
  class?: string;
  'aria-current'?: 'page' | undefined;
  onClick?: () => void;
}

export function Link({ to, children, onClick: after, ...rest }: LinkProps): JSX.Element {
  const onClick = (event: TargetedMouseEvent<HTMLAnchorElement>): void => {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    event.preventDefault();
    navigate(to);
    after?.();
  };
  return (
    <a {...rest} href={href(to)} onClick={onClick}>
      {children}
    </a>
  );
}
