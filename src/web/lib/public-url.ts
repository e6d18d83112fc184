/**
 * Postern's public base URL (POSTERN_PUBLIC_URL), which the server writes into index.html: the
 * redirect URI to register in Azure is built from it. Falls back to the page's own origin.
 */
const CALLBACK_PATH = '/api/cloudProviders/oauth2/microsoft/callback';

function publicUrl(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="postern-public-url"]');
  const value = meta?.content.trim() ?? '';
  return (value === '' ? window.location.origin : value).replace(/(?<!\/)\/+$/, '');
}

export function defaultRedirectUri(): string {
  return `${publicUrl()}${CALLBACK_PATH}`;
}
