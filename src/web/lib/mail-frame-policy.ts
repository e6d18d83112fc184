/**
 * The Content-Security-Policy of a mail frame, written into its srcdoc as a `<meta>`. A srcdoc
 * frame inherits the page's policy (web-ui.ts), which must allow http(s) images for the moment the
 * agent asks for them; a second policy in the frame can only narrow it, and it is narrowed to what
 * the message may load at that moment:
 *
 * - remote images blocked: images from `data:` and Postern's own attachment URLs only — no http(s)
 *   origin at all, so that nothing a sanitizer bug might let through (a CSS image, an attribute)
 *   can reach the sender;
 * - after "Show remote images": those plus exactly the URLs of the message's `<img>` elements
 *   (scheme, host, port and path), not their whole origins;
 * - always: no scripts, frames, objects, fonts, media, connections or form submissions, and only
 *   inline styles.
 *
 * @see https://www.w3.org/TR/CSP3/#meta-element
 * @see https://www.w3.org/TR/CSP3/#match-paths (paths in sources, percent-decoded before comparing)
 */

/** Where Postern serves a message's attachments (see the interactions presenter). */
const ATTACHMENTS_PATH = '/api/messages/';

/**
 * The policy for a frame on `origin` (the console's, which the frame shares); `remoteImages` are
 * the image URLs the agent allowed, empty while they are blocked.
 */
export function mailFramePolicy(origin: string, remoteImages: readonly string[]): string {
  const images = ['data:', `${origin}${ATTACHMENTS_PATH}`];
  for (const url of remoteImages) {
    const source = imageSource(url);
    if (source !== null && !images.includes(source)) images.push(source);
  }
  return [
    "default-src 'none'",
    `img-src ${images.join(' ')}`,
    "style-src 'unsafe-inline'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * One image URL as a CSP source that matches it alone: its scheme, host, port and path, with every
 * character a source may not hold (`;` `,` spaces, quotes…) percent-encoded. The query is not part
 * of a source (CSP ignores it). Null for what is not an http(s) URL, and for IPv6 literals, which
 * sources cannot name.
 */
export function imageSource(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  if (parsed.hostname === '' || parsed.hostname.startsWith('[')) return null;
  let path = '';
  for (const char of parsed.pathname) {
    path += /^[A-Za-z0-9\-._~/%:@]$/.test(char)
      ? char
      : `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `${parsed.protocol}//${parsed.host}${path}`;
}

/** Text for a double-quoted HTML attribute. */
export function escapeAttribute(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
}
