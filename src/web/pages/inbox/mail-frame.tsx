/**
 * A message's sanitized HTML in a sandboxed frame: no scripts, forms or plugins can run (the
 * sandbox allows none), links open in a new tab, and the mail's styles cannot touch the
 * console's. The frame's own Content-Security-Policy (../../lib/mail-frame-policy.ts) lets it load
 * no remote image but the `sources` the agent chose to show. The frame is as tall as its content.
 */
import type { JSX } from 'preact';
import { useRef } from 'preact/hooks';
import { escapeAttribute, mailFramePolicy } from '../../lib/mail-frame-policy.js';

const FRAME_STYLE =
  '<style>body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#1f2328;overflow-wrap:anywhere}img{max-width:100%;height:auto}blockquote{margin:0 0 0 .8em;padding-left:.8em;border-left:3px solid #d1d9e0;color:#59636e}</style>';

export function MailFrame({
  html,
  sources,
  title,
}: {
  html: string;
  /** Remote image URLs the agent allowed (none while they are blocked). */
  sources: readonly string[];
  title: string;
}): JSX.Element {
  const ref = useRef<HTMLIFrameElement>(null);
  const fit = (): void => {
    const frame = ref.current;
    const doc = frame?.contentDocument;
    const body = doc?.body;
    if (frame === null || doc === null || doc === undefined || body === undefined || body === null) return;
    frame.style.height = `${Math.max(40, body.scrollHeight, doc.documentElement.scrollHeight) + 8}px`;
    for (const image of Array.from(body.querySelectorAll('img')))
      if (!image.complete) image.addEventListener('load', fit, { once: true });
  };
  return (
    <iframe
      ref={ref}
      class="mail-frame"
      title={title}
      sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"
      srcdoc={`<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${escapeAttribute(mailFramePolicy(window.location.origin, sources))}"><base target="_blank">${FRAME_STYLE}</head><body>${html}</body></html>`}
      onLoad={fit}
    />
  );
}
