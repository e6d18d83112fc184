/**
 * Every other way HTML can make the mail frame fetch something or navigate by itself: attributes
 * and elements that load a resource, refresh, submit or ping. These held before issue 13; they are
 * kept here so that they keep holding, next to the one that did not (a sender's own
 * `data-postern-*` attributes, which the sanitizer now drops).
 */
import { describe, expect, it } from 'vitest';
import { sanitizeHtml } from '../../src/mail/mime/sanitize-html.js';

const T = 'http://127.0.0.1:9/t';

describe('HTML resource attributes', () => {
  it.each([
    ['img srcset', `<img srcset="${T}/1 1x" alt="a">`],
    ['img lowsrc and dynsrc', `<img lowsrc="${T}/2" dynsrc="${T}/3">`],
    ['picture source', `<picture><source srcset="${T}/4"><img></picture>`],
    ['background attribute', `<table background="${T}/5"><tr><td background="${T}/6">x</td></tr></table>`],
    ['body background', `<body background="${T}/7">x</body>`],
    ['link stylesheet', `<link rel="stylesheet" href="${T}/8">`],
    ['link prefetch', `<link rel="prefetch" href="${T}/9">`],
    ['meta refresh', `<meta http-equiv="refresh" content="0;url=${T}/10">`],
    ['video poster', `<video poster="${T}/11" src="${T}/12"></video>`],
    ['audio', `<audio src="${T}/13" autoplay></audio>`],
    ['input type=image', `<input type="image" src="${T}/14">`],
    ['svg image', `<svg><image href="${T}/15"></image><image xlink:href="${T}/16"></image></svg>`],
    ['svg use', `<svg><use href="${T}/17#x"></use></svg>`],
    ['object', `<object data="${T}/18"></object>`],
    ['embed', `<embed src="${T}/19">`],
    ['iframe', `<iframe src="${T}/20"></iframe>`],
    ['frameset', `<frameset><frame src="${T}/21"></frameset>`],
    ['base', `<base href="${T}/22/"><img src="p.gif">`],
    ['form action', `<form action="${T}/23"><button formaction="${T}/24">go</button></form>`],
    ['anchor ping', `<a href="https://ok.example/" ping="${T}/25">x</a>`],
    ['style element', `<style>@import '${T}/26'; p{background:url(${T}/27)}</style><p>x</p>`],
    ['style element in svg', `<svg><style>*{background:url(${T}/28)}</style></svg>`],
    ['track', `<video><track src="${T}/29"></video>`],
    ['portal', `<portal src="${T}/30"></portal>`],
    ['script src', `<script src="${T}/31"></script>`],
    ['img with a backslash scheme-relative source', `<img src="\\\\127.0.0.1:9\\t/32">`],
    ['img with a newline in the scheme', `<img src="ht\ntp://127.0.0.1:9/t/33">`],
  ])('%s loads nothing', (_name, dirty) => {
    const { html } = sanitizeHtml(dirty);
    expect(html).not.toContain('127.0.0.1');
    expect(html).not.toMatch(
      /<(?:link|meta|video|audio|input|svg|image|use|object|embed|iframe|frame|base|form|style|track|portal|script|source)\b/i,
    );
    expect(html).not.toMatch(/\s(?:srcset|lowsrc|dynsrc|background|poster|action|formaction|ping)=/i);
  });

  it('keeps an anchor without download, opening outside with no referrer', () => {
    const { html } = sanitizeHtml(`<a href="https://ok.example/f.exe" download="invoice.pdf" ping="${T}/34">f</a>`);
    expect(html).toBe('<a href="https://ok.example/f.exe" target="_blank" rel="noopener noreferrer nofollow">f</a>');
  });

  it("drops a sender's own data-postern attributes, so only real remote images are counted and shown", () => {
    const result = sanitizeHtml(
      `<img data-postern-remote-src="${T}/35" data-postern-inline="0" alt="forged"><img src="${T}/36">`,
    );
    expect(result.html).toBe(`<img alt="forged" /><img data-postern-remote-src="${T}/36" />`);
    expect(result.blockedRemoteImages).toBe(1);
    expect([...result.inlineIndexes]).toEqual([]);
  });
});
