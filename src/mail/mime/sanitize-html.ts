/**
 * Inbound HTML is hostile. It is reduced to formatting an agent can read safely inside Postern's
 * UI: no scripts, no event handlers, no forms, frames, objects or embedded documents, no style
 * sheets, links that open outside with no referrer. Tags and attributes are allowlists (no
 * `srcset`, `background`, `ping`, `download`, `poster`, `lowsrc`, `dynsrc`, `action`); `style`
 * attributes keep only the declarations that ./sanitize-css.ts accepts — formatting properties
 * with values in which no function can load anything.
 *
 * Images:
 * - `cid:` references are resolved to the message's attachments by Content-ID and written as
 *   `data-postern-inline="<n>"` (n = the attachment's 0-based position); the presenter turns that
 *   into the attachment's download URL. A `cid:` that names no attachment loses its source.
 * - remote images (`http:`, `https:`, `//…`, the last made `https:`) are blocked by default, because loading them tells
 *   the sender that the message was read and from where: the URL moves to
 *   `data-postern-remote-src`, so that the UI can load it when the agent asks.
 * - `data:` images of raster types stay; any other source is dropped.
 * - a sender's own `data-postern-*` attributes are dropped: only the sanitizer writes them.
 *
 * @see https://www.rfc-editor.org/rfc/rfc2392 (cid: URLs)
 * @see https://www.rfc-editor.org/rfc/rfc2557 (multipart/related, Content-Location)
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Cross_Site_Scripting_Prevention_Cheat_Sheet.html
 */
import sanitize from 'sanitize-html';
import { sanitizeStyle } from './sanitize-css.js';

/** An attachment that `cid:` references may point at. */
export interface CidTarget {
  /** Content-ID without angle brackets. */
  readonly contentId: string;
  /** The attachment's 0-based position in the message. */
  readonly index: number;
}

/** Options of {@link sanitizeHtml}. */
export interface SanitizeOptions {
  readonly cidTargets?: readonly CidTarget[];
  /** Keep remote image sources (default false: blocked). */
  readonly allowRemoteImages?: boolean;
}

/** The sanitized HTML and what was done to it. */
export interface SanitizedHtml {
  readonly html: string;
  /** Attachment positions that inline images refer to. */
  readonly inlineIndexes: ReadonlySet<number>;
  readonly blockedRemoteImages: number;
  readonly unresolvedCids: readonly string[];
}

const ALLOWED_TAGS = [
  'a',
  'abbr',
  'address',
  'article',
  'b',
  'bdi',
  'bdo',
  'big',
  'blockquote',
  'br',
  'caption',
  'center',
  'cite',
  'code',
  'col',
  'colgroup',
  'dd',
  'del',
  'details',
  'dfn',
  'div',
  'dl',
  'dt',
  'em',
  'figcaption',
  'figure',
  'font',
  'footer',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'i',
  'img',
  'ins',
  'kbd',
  'li',
  'mark',
  'ol',
  'p',
  'pre',
  'q',
  's',
  'samp',
  'section',
  'small',
  'span',
  'strike',
  'strong',
  'sub',
  'summary',
  'sup',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'tt',
  'u',
  'ul',
  'wbr',
];

const COMMON_ATTRIBUTES = [
  'style',
  'dir',
  'lang',
  'title',
  'align',
  'valign',
  'width',
  'height',
  'bgcolor',
  'color',
  'border',
  'cellpadding',
  'cellspacing',
  'colspan',
  'rowspan',
  'face',
  'size',
  'nowrap',
  'span',
  'start',
  'type',
  'cite',
  'datetime',
];

const RASTER_DATA_URI = /^data:image\/(?:png|jpe?g|gif|webp|bmp);base64,[a-z0-9+/=\s]+$/i;

/**
 * Sanitizes one HTML body. Never throws: input the sanitizer cannot handle yields an empty string.
 */
export function sanitizeHtml(dirty: string, options: SanitizeOptions = {}): SanitizedHtml {
  const cids = new Map<string, number>();
  for (const target of options.cidTargets ?? []) cids.set(normalizeContentId(target.contentId), target.index);
  const inlineIndexes = new Set<number>();
  const unresolvedCids: string[] = [];
  let blockedRemoteImages = 0;

  const rewriteImage = (_tagName: string, attribs: sanitize.Attributes): sanitize.Tag => {
    const { src = '', ...rest } = attribs;
    const source = src.trim();
    const next: sanitize.Attributes = {};
    // The data-postern-* attributes are the sanitizer's own words: a sender's are dropped.
    for (const [name, value] of Object.entries(rest)) if (!name.startsWith('data-postern-')) next[name] = value;
    if (/^cid:/i.test(source)) {
      const contentId = normalizeContentId(decodeUriSafely(source.slice(4)));
      const index = cids.get(contentId);
      if (index === undefined) {
        unresolvedCids.push(contentId);
      } else {
        next['data-postern-inline'] = String(index);
        inlineIndexes.add(index);
      }
    } else if (/^(?:https?:)?\/\//i.test(source)) {
      const remote = source.startsWith('//') ? `https:${source}` : source;
      if (options.allowRemoteImages === true) next.src = remote;
      else {
        next['data-postern-remote-src'] = remote;
        blockedRemoteImages += 1;
      }
    } else if (RASTER_DATA_URI.test(source)) {
      next.src = source;
    }
    return { tagName: 'img', attribs: next };
  };

  try {
    const html = sanitize(dirty, {
      allowedTags: ALLOWED_TAGS,
      allowedAttributes: {
        '*': COMMON_ATTRIBUTES,
        a: ['href', 'name', 'target', 'rel'],
        img: ['src', 'alt', 'data-postern-inline', 'data-postern-remote-src'],
      },
      // Styles are checked by sanitizeStyle (an allowlist and a value grammar), not by postcss.
      parseStyleAttributes: false,
      allowedSchemes: ['http', 'https', 'mailto', 'tel'],
      allowedSchemesByTag: { img: ['http', 'https', 'data'] },
      allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
      allowProtocolRelative: false,
      disallowedTagsMode: 'discard',
      nonTextTags: [
        'script',
        'style',
        'textarea',
        'option',
        'noscript',
        'title',
        'head',
        'xml',
        'template',
        'iframe',
        'object',
      ],
      enforceHtmlBoundary: false,
      transformTags: {
        img: rewriteImage,
        a: (_tagName, attribs) => ({
          tagName: 'a',
          attribs: { ...attribs, target: '_blank', rel: 'noopener noreferrer nofollow' },
        }),
        '*': (tagName, attribs) => {
          if (attribs.style === undefined) return { tagName, attribs };
          const { style, ...rest } = attribs;
          const clean = sanitizeStyle(style);
          return { tagName, attribs: clean === '' ? rest : { ...rest, style: clean } };
        },
      },
    });
    return { html, inlineIndexes, blockedRemoteImages, unresolvedCids };
  } catch {
    return { html: '', inlineIndexes, blockedRemoteImages, unresolvedCids };
  }
}

/** A Content-ID as compared: no angle brackets, no whitespace, lower-case. */
export function normalizeContentId(contentId: string): string {
  return contentId.trim().replace(/^<|>$/g, '').trim().toLowerCase();
}

function decodeUriSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
