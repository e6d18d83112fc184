/**
 * Redirect URI matching as Entra ID does it: the URI must match a registered one exactly (path
 * case-sensitive), except that for `localhost` and `127.0.0.1` the port is ignored. A registered
 * URI without a path matches the same URI with a trailing `/`.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/reply-url
 */
import type { AppRegistration } from '../directory/model.js';
import type { RedirectPlatform } from './context.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1']);

function parse(uri: string): URL | null {
  try {
    return new URL(uri);
  } catch {
    return null;
  }
}

/** Whether `requested` matches `registered` under Entra's rules. */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  const a = parse(registered);
  const b = parse(requested);
  if (a === null || b === null) return false;
  if (a.protocol !== b.protocol || a.hostname !== b.hostname || a.search !== b.search || a.hash !== b.hash)
    return false;
  if (a.pathname !== b.pathname) return false;
  if (a.username !== b.username || a.password !== b.password) return false;
  return LOOPBACK_HOSTS.has(a.hostname) || a.port === b.port;
}

/** The platform under which `requested` is registered for the app, or null (→ AADSTS50011). */
export function findRedirectPlatform(app: Readonly<AppRegistration>, requested: string): RedirectPlatform | null {
  const platforms: RedirectPlatform[] = ['web', 'spa', 'publicClient'];
  for (const platform of platforms) {
    if (app.redirectUris[platform].some((r) => redirectUriMatches(r, requested))) return platform;
  }
  return null;
}
