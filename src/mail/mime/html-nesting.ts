/**
 * Deeply nested HTML, flattened before it is parsed. The HTML parser under sanitize-html
 * (htmlparser2) keeps its open elements in an array it grows at the front, so each element costs
 * as much as the depth it opens at: 100,000 nested `<div>`s — a 5 MB mail — took 40 s to sanitize
 * (issue 13). Browsers stop nesting too (Chromium's parser at 512 levels). Here, tags that would
 * open an element deeper than {@link MAX_HTML_DEPTH}, and the end tags that close them, are left
 * out; their text stays. The sanitizer still sees the result, so a tag this pass misreads can
 * change the layout of a pathological mail but never let anything through.
 *
 * One linear pass: a tag is `<name …>` with no `<` or `>` inside, so every character is looked at
 * by at most one attempt; a comment is skipped to its `-->` by `indexOf`.
 *
 * @see https://html.spec.whatwg.org/multipage/parsing.html#tokenization
 */

/** Deepest element kept. */
export const MAX_HTML_DEPTH = 512;

/** Elements that have no end tag and never nest. */
const VOID_ELEMENTS = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'param',
  'source',
  'track',
  'wbr',
]);

/** `html` with nesting beyond `maxDepth` flattened; the same string when it nests less. */
export function flattenDeepNesting(html: string, maxDepth = MAX_HTML_DEPTH): string {
  // The lookahead ends the name where it ends, so `[^<>]*` never trades characters with it.
  const tags = /<(\/?)([A-Za-z][A-Za-z0-9:-]*)(?![A-Za-z0-9:-])[^<>]*>|<!--/g;
  const kept: string[] = [];
  let depth = 0;
  let copiedTo = 0;
  let dropped = false;
  for (let match = tags.exec(html); match !== null; match = tags.exec(html)) {
    if (match[0] === '<!--') {
      const end = html.indexOf('-->', match.index + 4);
      if (end === -1) break;
      tags.lastIndex = end + 3;
      continue;
    }
    const name = (match[2] ?? '').toLowerCase();
    if (VOID_ELEMENTS.has(name) || match[0].endsWith('/>')) continue;
    let drop: boolean;
    if (match[1] === '/') {
      drop = depth > maxDepth;
      depth = Math.max(0, depth - 1);
    } else {
      depth += 1;
      drop = depth > maxDepth;
    }
    if (!drop) continue;
    kept.push(html.slice(copiedTo, match.index));
    copiedTo = match.index + match[0].length;
    dropped = true;
  }
  if (!dropped) return html;
  kept.push(html.slice(copiedTo));
  return kept.join('');
}
