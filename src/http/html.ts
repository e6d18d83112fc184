/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A small, self-contained page for outcomes reached by browser redirects (no UI needed). */
export function resultPage(
  title: string,
  lines: {
    message: string;
    remedy?: string | undefined;
    code?: string | undefined;
    link?: { href: string; text: string };
  },
): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — Postern</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2328}h1{font-size:1.4rem}.remedy{background:#fff8c5;padding:.75rem 1rem;border-radius:6px}code{font-size:.9em}</style>
</head><body><main>
<h1>${escapeHtml(title)}</h1>
<p role="alert">${escapeHtml(lines.message)}</p>
${lines.remedy === undefined ? '' : `<p class="remedy"><strong>What to do:</strong> ${escapeHtml(lines.remedy)}</p>`}
${lines.code === undefined ? '' : `<p>Error code: <code>${escapeHtml(lines.code)}</code></p>`}
${lines.link === undefined ? '' : `<p><a href="${escapeHtml(lines.link.href)}">${escapeHtml(lines.link.text)}</a></p>`}
</main></body></html>`;
}
