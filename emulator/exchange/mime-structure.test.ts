import { describe, expect, it } from 'vitest';
import { findHeader, parseMimeStructure, paramValue } from './mime-structure.js';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');

describe('parseMimeStructure', () => {
  it('splits header and body of a single-part message and counts lines', () => {
    const raw = crlf(['Subject: Hi', ' there', 'From: a@b.c', '', 'line 1', 'line 2', '']);
    const root = parseMimeStructure(raw);
    expect(findHeader(root, 'subject')).toBe('Hi there');
    expect(root.type).toBe('text');
    expect(paramValue(root.contentType, 'charset')).toBe('us-ascii');
    expect(raw.subarray(root.bodyStart, root.bodyEnd).toString()).toBe('line 1\r\nline 2\r\n');
    expect(root.lines).toBe(2);
  });

  it('finds multipart parts between boundaries, without the CRLF before a delimiter', () => {
    const raw = crlf([
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      'preamble',
      '--b1',
      'Content-Type: multipart/alternative; boundary=b2',
      '',
      '--b2',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'plain',
      '--b2',
      'Content-Type: text/html',
      '',
      '<p>html</p>',
      '--b2--',
      '--b1',
      'Content-Type: application/pdf; name="a.pdf"',
      'Content-Disposition: attachment; filename="a.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      'JVBERi0=',
      '--b1--',
      'epilogue',
    ]);
    const root = parseMimeStructure(raw);
    expect(root.children.map((c) => `${c.type}/${c.subtype}`)).toEqual(['multipart/alternative', 'application/pdf']);
    const alternative = root.children[0];
    const [plain, html] = alternative?.children ?? [];
    expect(raw.subarray(plain?.bodyStart, plain?.bodyEnd).toString()).toBe('plain');
    expect(raw.subarray(html?.bodyStart, html?.bodyEnd).toString()).toBe('<p>html</p>');
    expect(paramValue(plain?.contentType ?? { value: '', params: [] }, 'charset')).toBe('utf-8');
    const pdf = root.children[1];
    expect(raw.subarray(pdf?.bodyStart, pdf?.bodyEnd).toString()).toBe('JVBERi0=');
    expect(raw.subarray(pdf?.headerStart, pdf?.bodyStart).toString()).toMatch(/^Content-Type: application\/pdf/);
  });

  it('parses an encapsulated message/rfc822', () => {
    const raw = crlf([
      'Content-Type: multipart/mixed; boundary=x',
      '',
      '--x',
      'Content-Type: message/rfc822',
      '',
      'Subject: inner',
      '',
      'inner body',
      '--x--',
      '',
    ]);
    const part = parseMimeStructure(raw).children[0];
    expect(part?.message && findHeader(part.message, 'subject')).toBe('inner');
    expect(part?.message && raw.subarray(part.message.bodyStart, part.message.bodyEnd).toString()).toBe('inner body');
  });

  it('is lenient: no blank line, bare LF, unterminated multipart', () => {
    expect(parseMimeStructure(Buffer.from('Subject: only header')).bodyStart).toBe(20);
    const lf = parseMimeStructure(Buffer.from('Subject: x\n\nbody\n'));
    expect(lf.bodyStart).toBe(12);
    const open = parseMimeStructure(crlf(['Content-Type: multipart/mixed; boundary=z', '', '--z', '', 'never closed']));
    expect(open.children).toHaveLength(1);
  });
});
