/**
 * Issue 13, "what held": a link in a mail body never carries a script URL, however it is
 * disguised — mixed case, character references, a tab or line break inside the scheme, leading
 * spaces or control characters, vbscript:, data:text/html. The sanitizer drops the href and
 * keeps the link's text. Checked on inbound HTML (what agents see), on outgoing HTML (what
 * Postern sends), and end to end: a received message as the API shows it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sanitizeOutgoingHtml } from '../../src/mail/mime/compose.js';
import { sanitizeHtml } from '../../src/mail/mime/sanitize-html.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { buildAccount } from '../ingest/helpers.js';
import { ingestNew } from '../helpers/store-factories.js';

/** The href values as they are written in the HTML source. */
const DISGUISES: readonly (readonly [string, string])[] = [
  ['plain', 'javascript:alert(1)'],
  ['mixed case', 'JaVaScRiPt:alert(1)'],
  ['decimal reference', '&#106;avascript:alert(1)'],
  ['zero-padded decimal reference', '&#0000106;avascript:alert(1)'],
  ['hex reference', '&#x6A;avascript:alert(1)'],
  ['every letter a reference', '&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)'],
  ['named colon reference', 'javascript&colon;alert(1)'],
  ['raw tab inside the scheme', 'java\tscript:alert(1)'],
  ['raw newline inside the scheme', 'java\nscript:alert(1)'],
  ['raw carriage return inside the scheme', 'java\rscript:alert(1)'],
  ['tab reference inside the scheme', 'java&#x09;script:alert(1)'],
  ['newline reference inside the scheme', 'java&#x0A;script:alert(1)'],
  ['tab reference and colon reference', 'jav&#x09;ascript&#58;alert(1)'],
  ['leading spaces', '   javascript:alert(1)'],
  ['leading control character', '\u0001javascript:alert(1)'],
  ['leading control character reference', '&#x01;javascript:alert(1)'],
  ['leading NUL reference', '&#0;javascript:alert(1)'],
  ['leading form feed and vertical tab', '\f\vjavascript:alert(1)'],
  ['vbscript', 'vbscript:msgbox(1)'],
  ['VBScript mixed case', 'VbScRiPt:msgbox(1)'],
  ['data:text/html', 'data:text/html,<script>alert(1)</script>'],
  ['data:text/html base64', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=='],
  ['DATA:TEXT/HTML upper case', 'DATA:TEXT/HTML,<script>alert(1)</script>'],
  ['data:image/svg+xml', 'data:image/svg+xml,<svg onload=alert(1)>'],
];

/** Every href left in the HTML, with the references the serializer writes decoded. */
function hrefs(html: string): string[] {
  const found: string[] = [];
  const pattern = /\bhref\s*=\s*"([^"]*)"/g;
  for (let match = pattern.exec(html); match !== null; match = pattern.exec(html)) {
    found.push(
      (match[1] ?? '')
        .replaceAll('&quot;', '"')
        .replaceAll('&lt;', '<')
        .replaceAll('&gt;', '>')
        .replaceAll('&amp;', '&'),
    );
  }
  return found;
}

/**
 * The scheme a browser would follow for this href on a Postern page: the WHATWG URL parser (which
 * Node implements) strips leading spaces and controls and ignores tabs and newlines anywhere.
 */
function schemeOf(href: string): string {
  return new URL(href, 'https://postern.example/ui/').protocol;
}

const LINK = /^<a target="_blank" rel="noopener noreferrer nofollow">x<\/a>$/;

/** The sanitized link either lost its href or keeps one that is no script URL for a browser. */
function expectHarmless(html: string, source: string): void {
  const left = hrefs(html);
  if (left.length === 0) expect(html, source).toMatch(LINK);
  for (const href of left) expect(['https:', 'http:', 'mailto:'], `${source} → ${html}`).toContain(schemeOf(href));
}

describe('a disguised script URL in a link', () => {
  it.each(DISGUISES)('(%s) is no script URL in inbound HTML, in double or single quotes', (_name, href) => {
    for (const source of [`<a href="${href}">x</a>`, `<a href='${href}'>x</a>`]) {
      expectHarmless(sanitizeHtml(source).html, source);
    }
  });

  it.each(DISGUISES.filter(([, href]) => !/[\s<>]/.test(href)))(
    '(%s) is no script URL in inbound HTML, unquoted and in upper case',
    (_name, href) => {
      const source = `<A HREF=${href}>x</A>`;
      expectHarmless(sanitizeHtml(source).html, source);
    },
  );

  it.each(DISGUISES)('(%s) is no script URL in outgoing HTML', (_name, href) => {
    const source = `<a href="${href}">x</a>`;
    expectHarmless(sanitizeOutgoingHtml(source, []), source);
  });

  it('is dropped outright in every disguise but a leading NUL, which the HTML parser makes a harmless relative URL', () => {
    const kept = DISGUISES.filter(([, href]) => hrefs(sanitizeHtml(`<a href="${href}">x</a>`).html).length > 0);
    expect(kept.map(([name]) => name)).toEqual(['leading NUL reference']);
    const [left] = hrefs(sanitizeHtml('<a href="&#0;javascript:alert(1)">x</a>').html);
    expect(left).toBe('\ufffdjavascript:alert(1)');
    expect(schemeOf(left ?? '')).toBe('https:');
  });

  it('loses it in an image map area too', () => {
    const { html } = sanitizeHtml('<map name="m"><area href="JaVa&#x09;ScRiPt:alert(1)" alt="a"></map>');
    expect(html).not.toMatch(/script|href/i);
  });

  it('is told apart from a safe link, which keeps its href', () => {
    expect(hrefs(sanitizeHtml('<a href="https://ok.example/java script:">x</a>').html)).toEqual([
      'https://ok.example/java script:',
    ]);
  });
});

describe('a received message with disguised links, as the API shows it', () => {
  let postern: TestPostern;
  beforeAll(async () => {
    postern = await startTestPostern();
  });
  afterAll(async () => postern.close());

  it('has no href but the safe one', async () => {
    const account = await buildAccount(postern.runtime.db);
    const body = [
      '<p>',
      ...DISGUISES.map(([name, href]) => `<a href="${href.replaceAll('"', '&quot;')}">${name}</a>`),
      '<a href="https://ok.example/">safe</a></p>',
    ].join('\r\n');
    const raw = Buffer.from(
      [
        'From: Mallory <mallory@example.org>',
        'To: support@contoso.com',
        'Subject: Links',
        'Message-ID: <links@example.org>',
        'MIME-Version: 1.0',
        'Content-Type: text/html; charset=utf-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        body,
        '',
      ].join('\r\n'),
    );
    const stored = await ingestNew(postern.runtime.db, account, raw, 1);
    const { authorization } = await postern.bearer('admin');
    const detail = await postern.app.inject({
      method: 'GET',
      url: `/api/interactions/${stored.interactionId}`,
      headers: { authorization },
    });
    const html: string = detail.json().messages[0].html;
    for (const [name] of DISGUISES) expect(html).toContain(`>${name}</a>`);
    for (const href of hrefs(html)) expect(schemeOf(href)).toBe('https:');
    expect(hrefs(html).filter((href) => href !== 'https://ok.example/')).toEqual(['\ufffdjavascript:alert(1)']);
  });
});
