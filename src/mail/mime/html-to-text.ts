/**
 * The text alternative of an HTML body: what a mail client without HTML (or a reader that prefers
 * text) shows of a message an agent wrote in the formatted editor. Paragraphs and headings are
 * separated by a blank line, `<br>` and `<div>` end a line, list items start with `- ` or `1. `
 * (two spaces more per nested list), a link becomes `text <url>` (just the text when it is the
 * address itself), and each line of a blockquote is prefixed `> ` per level, as a quoted reply is
 * (RFC 3676 §4.5).
 *
 * One pass of htmlparser2's streaming parser over the HTML, its nesting capped first
 * (./html-nesting.ts) so that the pass stays linear in its length; quote and list prefixes stop
 * growing past {@link MAX_DEPTH} levels. Scripts, styles and the head give no text.
 *
 * @see https://www.rfc-editor.org/rfc/rfc2046#section-5.1.4 (multipart/alternative)
 * @see https://www.rfc-editor.org/rfc/rfc3676#section-4.5 (quoting)
 */
import { Parser } from 'htmlparser2';
import { flattenDeepNesting } from './html-nesting.js';

const PARAGRAPHS = new Set([
  'p',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'pre',
  'table',
  'hr',
  'address',
  'article',
  'section',
  'header',
  'footer',
  'figure',
  'dl',
]);
const LINES = new Set(['div', 'tr', 'dt', 'dd', 'center', 'caption', 'figcaption']);
const SILENT = new Set(['script', 'style', 'head', 'title', 'template', 'noscript', 'svg', 'math']);
const LINK_SCHEMES = ['http:', 'https:', 'mailto:'];
/**
 * Deepest quote and list nesting shown: each level lengthens every line inside it, so deeper
 * levels (hostile or broken markup) are written at this one, keeping the output linear.
 */
const MAX_DEPTH = 8;

interface OpenList {
  readonly ordered: boolean;
  next: number;
}

interface OpenLink {
  readonly href: string | null;
  text: string;
}

/** Writes lines with their quote prefix, one blank line at most where a paragraph ends. */
class TextLines {
  readonly lines: string[] = [];
  private line = '';
  /** The line was begun (even by a list marker alone). */
  private begun = false;
  /** The line holds text of its own, not just a list marker. */
  private written = false;
  private lineQuote = 0;
  private blankDue = false;
  quote = 0;
  readonly links: OpenLink[] = [];

  /** Inline text, already decoded; runs of white space collapse unless `pre`. */
  text(raw: string, pre: boolean): void {
    if (pre) {
      const parts = raw.replace(/\r\n?/g, '\n').split('\n');
      parts.forEach((part, index) => {
        if (index > 0) this.endLine(true);
        if (part !== '') this.append(part);
      });
      return;
    }
    let text = raw.replace(/[ \t\n\r\f]+/g, ' ');
    if (!this.written || this.line.endsWith(' ')) text = text.trimStart();
    if (text === '') return;
    this.append(text.replace(/\u00a0/g, ' '));
  }

  /** Starts a line with a list marker (kept off the line until text follows it or the item ends). */
  marker(marker: string): void {
    this.endLine(false);
    this.begin();
    this.line = marker;
  }

  /** Ends the current line; `always` writes an empty line when nothing was on it. */
  endLine(always: boolean): void {
    if (this.begun && (this.written || this.line !== '')) {
      const line = `${'> '.repeat(this.lineQuote)}${this.line}`.trimEnd();
      // The signature separator keeps its space (RFC 3676 §4.3: dash, dash, space).
      this.lines.push(this.line.trim() === '--' ? `${line} ` : line);
    } else if (always) {
      this.begin();
      if (!this.lastTwoBlank()) this.lines.push('> '.repeat(this.lineQuote).trimEnd());
    }
    this.line = '';
    this.begun = false;
    this.written = false;
  }

  /** Ends a paragraph: one blank line before whatever comes next. */
  paragraph(): void {
    if (this.written) this.endLine(false);
    this.blankDue = true;
  }

  /** Ends a line unless only a list marker is on it. */
  softBreak(): void {
    if (this.written) this.endLine(false);
  }

  private append(text: string): void {
    this.begin();
    this.line += text;
    this.written = true;
    // Links do not nest in HTML: only the innermost one collects its words.
    const link = this.links[this.links.length - 1];
    if (link !== undefined) link.text += text;
  }

  private begin(): void {
    if (this.begun) return;
    if (this.blankDue && this.lines.length > 0 && this.lines[this.lines.length - 1] !== '')
      this.lines.push('> '.repeat(Math.min(this.quote, MAX_DEPTH, this.lineQuoteOfLast())).trimEnd());
    this.blankDue = false;
    this.begun = true;
    this.lineQuote = Math.min(this.quote, MAX_DEPTH);
  }

  private lineQuoteOfLast(): number {
    const last = this.lines[this.lines.length - 1] ?? '';
    let depth = 0;
    while (depth < MAX_DEPTH && last.startsWith('>', depth * 2)) depth += 1;
    return depth;
  }

  private lastTwoBlank(): boolean {
    const n = this.lines.length;
    return n >= 2 && this.lines[n - 1] === '' && this.lines[n - 2] === '';
  }
}

/** The plain text of `html` (see the module's comment); no trailing newline. */
export function htmlToText(html: string): string {
  const out = new TextLines();
  const lists: OpenList[] = [];
  let silent = 0;
  let pre = 0;

  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (SILENT.has(name)) {
          silent += 1;
          return;
        }
        if (silent > 0) return;
        if (name === 'br') out.endLine(true);
        else if (name === 'blockquote') {
          out.paragraph();
          out.quote += 1;
        } else if (name === 'ul' || name === 'ol') {
          if (lists.length === 0) out.paragraph();
          else out.softBreak();
          const start = Number.parseInt(attributes['start'] ?? '1', 10);
          lists.push({ ordered: name === 'ol', next: Number.isSafeInteger(start) ? start : 1 });
        } else if (name === 'li') {
          const list = lists[lists.length - 1];
          const indent = '  '.repeat(Math.min(MAX_DEPTH, Math.max(0, lists.length - 1)));
          if (list === undefined) out.marker('- ');
          else {
            out.marker(`${indent}${list.ordered ? `${list.next}. ` : '- '}`);
            list.next += 1;
          }
        } else if (name === 'a') {
          out.links.push({ href: linkTarget(attributes['href']), text: '' });
        } else if (name === 'img') {
          const alt = attributes['alt']?.trim() ?? '';
          if (alt !== '') out.text(alt, false);
        } else if (name === 'td' || name === 'th') {
          out.text(' ', false);
        } else if (PARAGRAPHS.has(name)) {
          out.paragraph();
          if (name === 'pre') pre += 1;
          if (name === 'hr') {
            out.text('----', false);
            out.paragraph();
          }
        } else if (LINES.has(name)) out.softBreak();
      },
      ontext(text) {
        if (silent === 0) out.text(text, pre > 0);
      },
      onclosetag(name) {
        if (SILENT.has(name)) {
          silent = Math.max(0, silent - 1);
          return;
        }
        if (silent > 0) return;
        if (name === 'blockquote') {
          out.paragraph();
          out.quote = Math.max(0, out.quote - 1);
        } else if (name === 'ul' || name === 'ol') {
          lists.pop();
          if (lists.length === 0) out.paragraph();
          else out.softBreak();
        } else if (name === 'li') out.softBreak();
        else if (name === 'a') {
          const link = out.links.pop();
          if (link?.href !== null && link !== undefined) {
            const words = link.text.trim();
            const shown = link.href.startsWith('mailto:') ? link.href.slice('mailto:'.length) : link.href;
            if (words === '') out.text(shown, false);
            else if (words !== shown && words !== link.href) out.text(` <${link.href}>`, false);
          }
        } else if (PARAGRAPHS.has(name)) {
          if (name === 'pre') pre = Math.max(0, pre - 1);
          out.paragraph();
        } else if (LINES.has(name)) out.softBreak();
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  // htmlparser2 pays for each element the depth it opens at: nesting is capped first (issue 13).
  parser.write(flattenDeepNesting(html));
  parser.end();
  out.endLine(false);

  const lines = out.lines;
  let first = 0;
  while (first < lines.length && lines[first] === '') first += 1;
  let last = lines.length;
  while (last > first && lines[last - 1] === '') last -= 1;
  return lines.slice(first, last).join('\n');
}

/** The link's target when it is one a text reader can follow (http, https, mailto). */
function linkTarget(href: string | undefined): string | null {
  const value = href?.trim() ?? '';
  const lower = value.toLowerCase();
  return LINK_SCHEMES.some((scheme) => lower.startsWith(scheme)) ? value : null;
}
