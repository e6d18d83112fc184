import { describe, expect, it } from 'vitest';
import { htmlToText } from './html-to-text.js';

describe('htmlToText', () => {
  it('separates paragraphs by a blank line and ends a line at <br> and <div>', () => {
    expect(htmlToText('<p>Hello <b>Zoë</b>,</p><p>first line<br>second line</p><div>a</div><div>b</div>')).toBe(
      'Hello Zoë,\n\nfirst line\nsecond line\n\na\nb',
    );
  });

  it('keeps an empty line of the editor (<div><br></div>) and collapses white space', () => {
    expect(htmlToText('<div>one</div><div><br></div><div>  two \n  words </div>')).toBe('one\n\ntwo words');
  });

  it('writes bulleted and numbered lists with their markers, nested lists indented', () => {
    expect(
      htmlToText('<p>Steps:</p><ol><li>Open</li><li>Close<ul><li>gently</li></ul></li></ol><ul><li>end</li></ul>'),
    ).toBe('Steps:\n\n1. Open\n2. Close\n  - gently\n\n- end');
    expect(htmlToText('<ol start="3"><li>three</li><li>four</li></ol>')).toBe('3. three\n4. four');
  });

  it('writes a link as its text and its address, or the address alone when that is the text', () => {
    expect(htmlToText('See <a href="https://example.com/a?b=1&amp;c=2">the guide</a>.')).toBe(
      'See the guide <https://example.com/a?b=1&c=2>.',
    );
    expect(htmlToText('<a href="https://example.com/">https://example.com/</a>')).toBe('https://example.com/');
    expect(htmlToText('<a href="mailto:help@contoso.com">help@contoso.com</a>')).toBe('help@contoso.com');
    expect(htmlToText('<a href="mailto:help@contoso.com">Write to us</a>')).toBe(
      'Write to us <mailto:help@contoso.com>',
    );
    // Only links a text reader can follow are written out.
    expect(htmlToText('<a href="javascript:alert(1)">click</a>')).toBe('click');
  });

  it('prefixes each line of a blockquote with "> ", one per level', () => {
    expect(
      htmlToText(
        '<p>Answer</p><blockquote><p>quoted one</p><p>quoted<br>two</p><blockquote>deeper</blockquote></blockquote><p>after</p>',
      ),
    ).toBe('Answer\n\n> quoted one\n>\n> quoted\n> two\n>\n> > deeper\n\nafter');
  });

  it('gives no text for scripts, styles and the head, and decodes entities', () => {
    expect(
      htmlToText(
        '<html><head><title>t</title><style>p{}</style></head><body><script>x()</script>a &lt;b&gt; &amp; c&nbsp;d</body></html>',
      ),
    ).toBe('a <b> & c d');
  });

  it('keeps the space of the signature separator', () => {
    expect(htmlToText('<div>Thanks</div><div><br></div><div>-- <br>Ada</div>')).toBe('Thanks\n\n-- \nAda');
  });

  it('keeps the lines of <pre>', () => {
    expect(htmlToText('<pre>line 1\n  line 2</pre>')).toBe('line 1\n  line 2');
  });

  it('takes linear time on deeply nested and unclosed markup', () => {
    const nested = '<blockquote><ul><li><a href="https://x.example/">'.repeat(20_000) + 'x';
    const started = process.hrtime.bigint();
    const text = htmlToText(nested);
    const doubled = htmlToText(nested + nested);
    expect(text).toContain('x');
    expect(doubled.length).toBeGreaterThan(text.length);
    // Not a timing assertion: the output grows with the input, it did not explode.
    expect(doubled.length).toBeLessThan(nested.length * 40);
    expect(process.hrtime.bigint()).toBeGreaterThan(started);
  });
});
