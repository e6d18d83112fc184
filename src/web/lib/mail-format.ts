/** How addresses and sizes read in the agent workspace. */
import type { MailAddress } from '../api/schemas.js';

function formatAddress(address: MailAddress): string {
  return address.name === '' || address.name === address.address
    ? address.address
    : `${address.name} <${address.address}>`;
}

export function formatAddresses(list: MailAddress[]): string {
  return list.map(formatAddress).join(', ');
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * Sanitized message HTML with the blocked remote images given their source back, and those
 * sources (the mail frame's policy allows exactly them).
 */
export function withRemoteImages(html: string): { html: string; sources: string[] } {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const sources: string[] = [];
  for (const image of Array.from(doc.querySelectorAll<HTMLImageElement>('img[data-postern-remote-src]'))) {
    const source = image.getAttribute('data-postern-remote-src') ?? '';
    if (/^https?:\/\//i.test(source)) {
      image.setAttribute('src', source);
      sources.push(source);
    }
    image.removeAttribute('data-postern-remote-src');
  }
  return { html: doc.body.innerHTML, sources };
}

export function countRemoteImages(html: string): number {
  return (html.match(/data-postern-remote-src=/g) ?? []).length;
}
