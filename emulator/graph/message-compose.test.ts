import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { GraphError } from './graph-errors.js';
import {
  completeMime,
  composeMessage,
  decodeMimeBody,
  parseMessageInput,
  replyHeadersOf,
  replyRecipientsOf,
  replySubject,
} from './message-compose.js';

const sender = { address: 'andrea@contoso.com', displayName: 'Andrea Rossi' };
const NOW = Date.parse('2026-05-04T10:00:00Z');

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof GraphError) return error.code;
    throw error;
  }
  return undefined;
}

describe('composeMessage', () => {
  it('builds the MIME of a JSON message: From the mailbox, recipients, Bcc kept for Sent Items, x- headers', async () => {
    const input = parseMessageInput({
      subject: 'Hello',
      body: { contentType: 'HTML', content: '<p>Hi</p>' },
      toRecipients: [{ emailAddress: { address: 'Bob@Example.org', name: 'Bob' } }],
      bccRecipients: [{ emailAddress: { address: 'audit@example.org' } }],
      internetMessageHeaders: [{ name: 'X-Ticket', value: '42' }],
    });
    const composed = await composeMessage(input, sender, NOW);
    expect(composed.fromAddress).toBe('andrea@contoso.com');
    expect(composed.recipients).toEqual(['bob@example.org', 'audit@example.org']);
    const parsed = await simpleParser(composed.raw);
    expect(parsed.from?.value[0]).toEqual({ name: 'Andrea Rossi', address: 'andrea@contoso.com' });
    expect(parsed.subject).toBe('Hello');
    expect(parsed.html).toContain('<p>Hi</p>');
    expect(composed.raw.toString()).toMatch(/^Bcc: audit@example\.org\r$/m);
    expect(parsed.headers.get('x-ticket')).toBe('42');
    expect(parsed.messageId).toMatch(/^<[0-9A-F]{32}@SY5P282MB0097\.AUSP282\.PROD\.OUTLOOK\.COM>$/);
  });

  it('refuses unknown properties, non-x headers, other attachment types, and no recipients', async () => {
    expect(codeOf(() => parseMessageInput({ subject: 'x', colour: 'red' }))).toBe('RequestBodyRead');
    expect(codeOf(() => parseMessageInput({ internetMessageHeaders: [{ name: 'Received', value: 'x' }] }))).toBe(
      'ErrorInvalidRequest',
    );
    expect(
      codeOf(() =>
        parseMessageInput({
          attachments: [{ '@odata.type': '#microsoft.graph.itemAttachment', name: 'x', contentBytes: '' }],
        }),
      ),
    ).toBe('ErrorInvalidRequest');
    await expect(composeMessage(parseMessageInput({ subject: 'x' }), sender, NOW)).rejects.toMatchObject({
      code: 'ErrorInvalidRecipients',
    });
  });
});

describe('MIME bodies', () => {
  it('decodes base64 (line breaks allowed) and refuses anything else', () => {
    expect(decodeMimeBody('SGVs\r\nbG8=').toString()).toBe('Hello');
    expect(codeOf(() => decodeMimeBody('not base64!'))).toBe('ErrorMimeContentInvalidBase64String');
    expect(codeOf(() => decodeMimeBody(''))).toBe('ErrorMimeContentInvalidBase64String');
    expect(codeOf(() => decodeMimeBody({ message: {} }))).toBe('ErrorMimeContentInvalidBase64String');
  });

  it('adds From, Message-ID and Date when missing and takes recipients from To, Cc and Bcc', () => {
    const composed = completeMime(
      Buffer.from('To: a@example.org\r\nCc: B <b@example.org>\r\nSubject: s\r\n\r\nbody'),
      sender,
      NOW,
    );
    const text = composed.raw.toString();
    expect(text).toMatch(/^From: "Andrea Rossi" <andrea@contoso\.com>\r$/m);
    expect(text).toMatch(/^Message-ID: <[0-9A-F]{32}@/m);
    expect(text).toMatch(/^Date: Mon, 04 May 2026 10:00:00 \+0000\r$/m);
    expect(composed.recipients).toEqual(['a@example.org', 'b@example.org']);
    expect(composed.fromAddress).toBe('andrea@contoso.com');
    expect(completeMime(Buffer.from('From: x@y.org\r\nTo: a@example.org\r\n\r\n'), sender, NOW).fromAddress).toBe(
      'x@y.org',
    );
  });
});

describe('replies', () => {
  it('go to Reply-To (else From), add To and Cc for reply all (not the replier), and thread', async () => {
    const original = await simpleParser(
      'From: Bea <bea@example.org>\r\nReply-To: help@example.org\r\nTo: andrea@contoso.com, carl@example.org\r\nCc: dan@example.org\r\nSubject: Help\r\nMessage-ID: <2@x>\r\nReferences: <1@x>\r\n\r\nbody',
    );
    expect(replyRecipientsOf(original, false, 'andrea@contoso.com').to.map((r) => r.emailAddress.address)).toEqual([
      'help@example.org',
    ]);
    const all = replyRecipientsOf(original, true, 'andrea@contoso.com');
    expect(all.to.map((r) => r.emailAddress.address)).toEqual(['help@example.org', 'carl@example.org']);
    expect(all.cc.map((r) => r.emailAddress.address)).toEqual(['dan@example.org']);
    expect(replyHeadersOf(original)).toEqual({ inReplyTo: '<2@x>', references: '<1@x> <2@x>' });
    expect(replySubject('Help')).toBe('RE: Help');
    expect(replySubject('Re: Help')).toBe('Re: Help');
  });
});
