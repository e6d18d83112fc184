/**
 * Issue 13, Medium 1: a sender could learn that a message was read although the UI said its remote
 * images were blocked. The sanitizer refused `url(` only, so CSS image functions that take a bare
 * string — `image-set('http://…' 1x)` and `-webkit-image-set(…)` — went through in `style`
 * attributes, and Chromium fetched them from the mail frame. These cases are the attack as it was
 * tried, and its near relatives: every CSS function that can load a resource, spelled every way CSS
 * allows (case, escapes, entities, comments).
 */
import { describe, expect, it } from 'vitest';
import { sanitizeHtml } from '../../src/mail/mime/sanitize-html.js';

const TRACKER = 'http://127.0.0.1:9/t';

/** The style attributes of the sanitized HTML, decoded as the browser will read them. */
function styles(html: string): string[] {
  return [...html.matchAll(/style="([^"]*)"/g)].map((match) =>
    (match[1] ?? '').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&'),
  );
}

describe('CSS image-set tracker', () => {
  it.each([
    ['image-set', `background: image-set('${TRACKER}/1' 1x)`],
    ['-webkit-image-set', `background: -webkit-image-set('${TRACKER}/2' 1x)`],
    ['image-set with url()', `background-image: image-set(url(${TRACKER}/3) 1x)`],
    ['image-set in upper case', `BACKGROUND: IMAGE-SET("${TRACKER}/4" 1X)`],
    ['image-set with a type', `background: image-set("${TRACKER}/5" type("image/png"))`],
    ['image()', `background: image('${TRACKER}/6')`],
    ['cross-fade()', `background: cross-fade(url(${TRACKER}/7a), url(${TRACKER}/7b), 50%)`],
    ['-webkit-cross-fade()', `background: -webkit-cross-fade('${TRACKER}/8a', '${TRACKER}/8b', 50%)`],
    ['element()', 'background: -moz-element(#x)'],
    ['paint()', 'background: paint(tracker)'],
    ['src()', `background: src('${TRACKER}/9')`],
    ['url with a CSS escape', `background: \\75 rl(${TRACKER}/10)`],
    ['url with an escaped parenthesis', `background: url\\28 ${TRACKER}/11)`],
    ['image-set with a CSS escape', `background: image\\2d set('${TRACKER}/12' 1x)`],
    ['url split by a comment', `background: u/**/rl(${TRACKER}/13)`],
    ['a colour followed by image-set', `background: #fff image-set('${TRACKER}/14' 1x) no-repeat`],
    ['image-set nested in a colour function', `color: rgb(image-set('${TRACKER}/15' 1x))`],
    ['list-style-image', `list-style-image: image-set('${TRACKER}/16' 1x)`],
    ['border-image', `border-image: image-set('${TRACKER}/17' 1x) 30`],
    ['content', `content: image-set('${TRACKER}/18' 1x)`],
    ['cursor', `cursor: image-set('${TRACKER}/19' 1x), auto`],
    ['mask-image', `-webkit-mask-image: image-set('${TRACKER}/20' 1x)`],
    ['@import', `@import '${TRACKER}/21'; color: red`],
    ['expression()', 'width: expression(fetch("/x"))'],
    ['a string behind a semicolon in a string', `font-family: "a;b"; background: image-set('${TRACKER}/22' 1x)`],
  ])('%s loads nothing', (_name, style) => {
    const { html } = sanitizeHtml(`<p style="${style.replaceAll('"', '&quot;')}">x</p>`);
    for (const kept of styles(html)) {
      expect(kept).not.toMatch(/[(\\@]|\/\/|127\.0\.0\.1/);
    }
    expect(html).not.toContain('127.0.0.1');
  });

  it('loads nothing when the attack is written with HTML character references', () => {
    const { html } = sanitizeHtml(
      `<div style="background:&#x69;mage-set(&#39;${TRACKER}/23&#39; 1x)">a</div><div style="background:&#x5C;75 rl(${TRACKER}/24)">b</div>`,
    );
    expect(html).toBe('<div>a</div><div>b</div>');
  });

  it('keeps the harmless declarations next to the attack', () => {
    const { html } = sanitizeHtml(
      `<td style="color: #333; background: image-set('${TRACKER}/25' 1x); padding: 4px 8px; font-family: 'Segoe UI', Arial, sans-serif">x</td>`,
    );
    expect(html).toContain(`style="color:#333;padding:4px 8px;font-family:'Segoe UI', Arial, sans-serif"`);
  });
});
