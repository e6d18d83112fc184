import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { withAttachments, type DraftAttachment } from './draft-mime.js';

const file = (name: string, size: number): DraftAttachment => ({
  id: name,
  name,
  contentType: 'application/pdf',
  content: Buffer.alloc(size, name.length),
  isInline: false,
  contentId: undefined,
});

describe('withAttachments', () => {
  it('adds parts before the closing boundary of a multipart/mixed draft, keeping its header', async () => {
    const raw = Buffer.from(
      [
        'From: a@contoso.com',
        'Message-ID: <d1@contoso.com>',
        'In-Reply-To: <q@fabrikam.example>',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain',
        '',
        'Hello',
        '--b1',
        'Content-Type: text/plain; name="a.txt"',
        'Content-Disposition: attachment; filename="a.txt"',
        '',
        'first',
        '--b1--',
        '',
      ].join('\r\n'),
    );
    const parsed = await simpleParser(withAttachments(raw, [file('Plän 1.pdf', 5000)]));
    expect(parsed.messageId).toBe('<d1@contoso.com>');
    expect(parsed.inReplyTo).toBe('<q@fabrikam.example>');
    expect(parsed.text?.trim()).toBe('Hello');
    expect(parsed.attachments.map((a) => [a.filename, a.size])).toEqual([
      ['a.txt', 5],
      ['Plän 1.pdf', 5000],
    ]);
  });

  it('wraps a single-part draft in a new multipart/mixed, its body the first part', async () => {
    const raw = Buffer.from(
      'From: a@contoso.com\r\nSubject: Hi\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nZoë\r\n',
    );
    const parsed = await simpleParser(withAttachments(raw, [file('x.pdf', 300)]));
    expect(parsed.subject).toBe('Hi');
    expect(parsed.text?.trim()).toBe('Zoë');
    expect(parsed.attachments.map((a) => a.filename)).toEqual(['x.pdf']);
  });

  it('leaves a draft without added attachments unchanged', () => {
    const raw = Buffer.from('Subject: x\r\n\r\nbody');
    expect(withAttachments(raw, [])).toBe(raw);
  });
});
