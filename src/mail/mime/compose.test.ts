import { describe, expect, it } from 'vitest';
import { composeMessage, newMessageId, sanitizeOutgoingHtml, type ComposeInput } from './compose.js';
import { parseMessage } from './parse-message.js';
import { newThreadIndex } from './thread-index.js';

const fixed = (size: number): Uint8Array => new Uint8Array(size).fill(0x11);
const AT = new Date('2026-03-02T10:00:00.000Z');

function input(overrides: Partial<ComposeInput> = {}): ComposeInput {
  return {
    from: { name: 'Développeurs', address: 'developers@contoso.com' },
    to: [{ name: 'Zoë Müller', address: 'zoe@xn--bcher-kva.example' }],
    cc: [{ name: '', address: 'boss@fabrikam.com' }],
    subject: 'Re: Commande n° 42 [#P7-ABCD]',
    text: 'Bonjour,\n.\nune ligne qui commence par un point.',
    html: '<p>Bonjour <b>Zoë</b></p>',
    messageId: '<postern.1.aa@contoso.com>',
    inReplyTo: '<customer-2@fabrikam.com>',
    references: ['<customer-1@fabrikam.com>', '<postern.0.bb@contoso.com>', '<customer-2@fabrikam.com>'],
    date: AT,
    threadTopic: 'Commande n° 42',
    threadIndex: newThreadIndex(AT, fixed),
    autoSubmitted: 'no',
    attachments: [],
    ...overrides,
  };
}

describe('composeMessage', () => {
  it('writes the threading headers, the account as From, and encodes non-ASCII names and subjects', async () => {
    const raw = await composeMessage(input());
    const header = raw.toString('latin1', 0, raw.indexOf('\r\n\r\n'));
    expect(header).not.toMatch(/[^\x00-\x7f]/);
    expect(header).toContain('Message-ID: <postern.1.aa@contoso.com>');
    expect(header).toContain('In-Reply-To: <customer-2@fabrikam.com>');
    expect(header).toContain(`Thread-Index: ${newThreadIndex(AT, fixed).toString('base64')}`);
    expect(header).not.toMatch(/^Auto-Submitted/m);
    const parsed = await parseMessage(raw);
    expect(parsed.from).toEqual([{ name: 'Développeurs', address: 'developers@contoso.com' }]);
    // A-labels on the wire; mailparser shows the Unicode domain again.
    expect(header).toContain('<zoe@xn--bcher-kva.example>');
    expect(parsed.to).toEqual([{ name: 'Zoë Müller', address: 'zoe@bücher.example' }]);
    expect(parsed.subject).toBe('Re: Commande n° 42 [#P7-ABCD]');
    expect(parsed.references).toEqual([
      '<customer-1@fabrikam.com>',
      '<postern.0.bb@contoso.com>',
      '<customer-2@fabrikam.com>',
    ]);
    expect(parsed.inReplyTo).toEqual(['<customer-2@fabrikam.com>']);
    // Headers are kept as written: the topic is an RFC 2047 encoded word.
    expect(parsed.headers.get('thread-topic')).toEqual(['=?UTF-8?Q?Commande_n=C2=B0_42?=']);
    expect(parsed.date?.toISOString()).toBe(AT.toISOString());
    expect(parsed.text).toContain('une ligne qui commence par un point.');
    expect(parsed.problems).toEqual([]);
  });

  it('ends every line with CRLF and never writes Bcc', async () => {
    const raw = (await composeMessage(input())).toString('latin1');
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(raw).not.toMatch(/^Bcc:/im);
  });

  it('marks machine-sent mail with Auto-Submitted and asks Exchange for no automatic answer', async () => {
    const parsed = await parseMessage(await composeMessage(input({ autoSubmitted: 'auto-replied' })));
    expect(parsed.headers.get('auto-submitted')).toEqual(['auto-replied']);
    expect(parsed.headers.get('x-auto-response-suppress')).toEqual(['All']);
  });

  it('attaches files with encoded names and inline images by Content-ID', async () => {
    const raw = await composeMessage(
      input({
        html: '<p><img src="cid:logo@postern"></p>',
        attachments: [
          { filename: 'Angebot für Zoë.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7 …') },
          {
            filename: 'logo.png',
            contentType: 'image/png',
            content: Buffer.from([0x89, 0x50]),
            contentId: 'logo@postern',
            inline: true,
          },
        ],
      }),
    );
    const parsed = await parseMessage(raw);
    expect(parsed.attachments.map((a) => [a.filename, a.contentType, a.inline])).toEqual([
      ['logo.png', 'image/png', true],
      ['Angebot für Zoë.pdf', 'application/pdf', false],
    ]);
    expect(parsed.attachments.find((a) => a.filename.endsWith('.pdf'))?.content.toString()).toBe('%PDF-1.7 …');
  });

  it('sends a message with neither text nor HTML as an empty text part', async () => {
    const parsed = await parseMessage(await composeMessage(input({ text: null, html: null })));
    expect(parsed.text ?? '').toBe('');
  });
});

describe('newMessageId', () => {
  it('puts the id on the account domain', () => {
    expect(newMessageId('Contoso.COM', AT, fixed)).toBe(
      `<postern.${AT.getTime().toString(36)}.111111111111111111111111@contoso.com>`,
    );
  });
});

describe('sanitizeOutgoingHtml', () => {
  it("removes scripts and handlers, keeps remote images and the message's own cid: images", () => {
    const html = sanitizeOutgoingHtml(
      '<p onclick="x()">Hi<script>alert(1)</script><img src="https://cdn.example/a.png"><img src="cid:Logo@Postern"><img src="cid:unknown"></p>',
      [{ contentId: 'logo@postern' }],
    );
    expect(html).not.toContain('script');
    expect(html).not.toContain('onclick');
    expect(html).toContain('src="https://cdn.example/a.png"');
    expect(html).toContain('src="cid:logo@postern"');
    expect(html).not.toContain('unknown');
  });
});
