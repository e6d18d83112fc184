import { describe, expect, it } from 'vitest';
import { normalizeContentId, sanitizeHtml } from './sanitize-html.js';

describe('sanitizeHtml', () => {
  it.each([
    ['<script>alert(1)</script><p>x</p>', '<p>x</p>'],
    ['<p onclick="x()" onmouseover="y()">x</p>', '<p>x</p>'],
    ['<iframe src="https://e.example"></iframe>ok', 'ok'],
    ['<form action="https://e.example"><input name="p"><button>Go</button></form>', 'Go'],
    ['<object data="x"></object><embed src="y">z', 'z'],
    ['<style>p{color:red}</style><p>x</p>', '<p>x</p>'],
    ['<base href="https://e.example/"><meta http-equiv="refresh" content="0">x', 'x'],
    ['<svg><script>alert(1)</script></svg>x', 'x'],
  ])('removes active content: %j', (dirty, clean) => {
    expect(sanitizeHtml(dirty).html).toBe(clean);
  });

  it('keeps safe links, opening outside without referrer, and drops script URLs', () => {
    const { html } = sanitizeHtml(
      '<a href="https://ok.example/">ok</a><a href="javascript:alert(1)">bad</a><a href="mailto:a@b">m</a>',
    );
    expect(html).toContain('href="https://ok.example/"');
    expect(html).toContain('rel="noopener noreferrer nofollow"');
    expect(html).not.toContain('javascript:');
    expect(html).toContain('href="mailto:a@b"');
  });

  it('keeps harmless inline styles and drops CSS that loads or runs something', () => {
    const { html } = sanitizeHtml(
      '<p style="color: red; background-image: url(https://t.example/x); position: fixed; width: expression(alert(1)); font-weight: bold">x</p>',
    );
    expect(html).toBe('<p style="color:red;font-weight:bold">x</p>');
  });

  it('blocks remote images, keeping the URL for on-demand loading', () => {
    const result = sanitizeHtml('<img src="https://t.example/p.gif" alt="a"><img src="//cdn.example/b.png">');
    expect(result.blockedRemoteImages).toBe(2);
    expect(result.html).not.toMatch(/\ssrc=/);
    expect(result.html).toContain('data-postern-remote-src="https://t.example/p.gif"');
    expect(sanitizeHtml('<img src="https://t.example/p.gif">', { allowRemoteImages: true }).html).toContain(
      'src="https://t.example/p.gif"',
    );
  });

  it('resolves cid: images to attachment positions, regardless of case and URL encoding', () => {
    const result = sanitizeHtml('<img src="cid:Logo@X"><img src="CID:second%40x"><img src="cid:gone@x">', {
      cidTargets: [
        { contentId: '<logo@x>', index: 0 },
        { contentId: 'second@x', index: 3 },
      ],
    });
    expect(result.html).toBe('<img data-postern-inline="0" /><img data-postern-inline="3" /><img />');
    expect([...result.inlineIndexes]).toEqual([0, 3]);
    expect(result.unresolvedCids).toEqual(['gone@x']);
  });

  it('keeps raster data: images and drops others', () => {
    expect(sanitizeHtml('<img src="data:image/png;base64,iVBORw0KGgo=">').html).toContain(
      'src="data:image/png;base64,iVBORw0KGgo="',
    );
    expect(sanitizeHtml('<img src="data:image/svg+xml;base64,PHN2Zz4=">').html).toBe('<img />');
    expect(sanitizeHtml('<img src="file:///etc/passwd">').html).toBe('<img />');
  });

  it('normalizes content ids', () => {
    expect(normalizeContentId(' <Part1.ABC@Host> ')).toBe('part1.abc@host');
  });
});
