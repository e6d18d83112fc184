import { describe, expect, it } from 'vitest';
import { contentDisposition, safeFilename } from './attachment-names.js';

describe('safeFilename', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\x\\evil.exe', 'evil.exe'],
    ['invoice\u202efdp.exe', 'invoicefdp.exe'],
    ['a<b>c:d|e?f*.txt', 'a_b_c_d_e_f_.txt'],
    ['CON', '_CON'],
    ['lpt1.txt', '_lpt1.txt'],
    ['  .hidden. ', 'hidden'],
    ['tab\there\u0000.txt', 'tabhere.txt'],
    ['Résumé – 日本.pdf', 'Résumé – 日本.pdf'],
  ])('%j → %j', (input, expected) => {
    expect(safeFilename(input, 0, 'application/octet-stream')).toBe(expected);
  });
  it('names nameless attachments after their media type', () => {
    expect(safeFilename(undefined, 0, 'message/rfc822')).toBe('attachment-1.eml');
    expect(safeFilename('', 2, 'image/png')).toBe('attachment-3.png');
    expect(safeFilename('..', 0, 'x/unknown')).toBe('attachment-1.bin');
  });
  it('bounds the length and keeps the extension', () => {
    const name = safeFilename(`${'x'.repeat(500)}.docx`, 0, 'application/octet-stream');
    expect(name.length).toBe(180);
    expect(name.endsWith('.docx')).toBe(true);
  });
});

describe('contentDisposition', () => {
  it('gives an ASCII fallback and the UTF-8 name', () => {
    expect(contentDisposition('Résumé "final".pdf')).toBe(
      `attachment; filename="Resume _final_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20_final_.pdf`,
    );
  });
  it('never lets a name break the header', () => {
    const header = contentDisposition('a\r\nSet-Cookie: x=1;.txt', 'inline');
    expect(header).not.toMatch(/[\r\n]/);
    expect(header.startsWith('inline; filename="')).toBe(true);
  });
});
