/**
 * Postern's public base URL (POSTERN_PUBLIC_URL), which the server writes into index.html: the
 * redirect URI to register in Azure is built from it. Falls back to the page's own origin.
 */
export const CALLBACK_PATH = '/api/cloudProviders/oauth2/microsoft/callback';

export function publicUrl(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="postern-public-url"]');
  const value = meta?.content.trim() ?? '';
  return withoutTrailingSlashes(value === '' ? window.location.origin : value);
}

export function defaultRedirectUri(): string {
  return `${publicUrl()}${CALLBACK_PATH}`;
}

/** `value` without trailing slashes (a loop: `/\/+$/` rescans a run of slashes from each one). */
function withoutTrailingSlashes(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 0x2f) end -= 1;
  return value.slice(0, end);
}
