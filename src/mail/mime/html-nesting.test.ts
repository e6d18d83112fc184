import { describe, expect, it } from 'vitest';
import { flattenDeepNesting } from './html-nesting.js';

describe('flattenDeepNesting', () => {
  it('returns HTML that nests less than the limit unchanged', () => {
    const html = '<div><p>Hello <b>there</b><br><img src="x"></p><!-- <div><div><div> --></div>';
    expect(flattenDeepNesting(html, 3)).toBe(html);
  });

  it('leaves out the tags deeper than the limit and their end tags, keeping the text', () => {
    const html = `${'<div>'.repeat(5)}deep${'</div>'.repeat(5)}<p>after</p>`;
    expect(flattenDeepNesting(html, 2)).toBe('<div><div>deep</div></div><p>after</p>');
  });

  it('does not count void elements, self-closed tags or tags inside comments', () => {
    const html = `<div>${'<br><img src="a"><x/>'.repeat(10)}<!--${'<div>'.repeat(10)}--><i>x</i></div>`;
    expect(flattenDeepNesting(html, 2)).toBe(html);
  });

  it('flattens 100,000 nested elements in one pass', () => {
    const html = `${'<div title="n">'.repeat(100_000)}deep${'</div>'.repeat(100_000)}`;
    const flat = flattenDeepNesting(html);
    expect(flat.match(/<div/g)).toHaveLength(512);
    expect(flat.match(/<\/div>/g)).toHaveLength(512);
    expect(flat).toContain('>deep<');
  });
});
