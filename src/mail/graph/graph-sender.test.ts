import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { composeMessage } from '../mime/compose.js';
import { parseMessage } from '../mime/parse-message.js';
import { GraphClient } from './graph-client.js';
import { boundaryOf, planDraft } from './graph-sender-draft.js';
import { withBcc } from './graph-sender.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function compose(attachments: Array<{ filename: string; size: number }>): Promise<Buffer> {
  return composeMessage({
    from: { name: 'Developers', address: 'developers@contoso.com' },
    to: [{ name: 'Ada', address: 'ada@fabrikam.example' }],
    cc: [{ name: '', address: 'bob@fabrikam.example' }],
    subject: 'Files',
    text: 'See attached.',
    html: null,
    messageId: '<m1@contoso.com>',
    inReplyTo: '<q@fabrikam.example>',
    references: ['<q@fabrikam.example>'],
    date: new Date('2026-01-02T03:04:05Z'),
    threadTopic: 'Files',
    threadIndex: Buffer.alloc(22, 7),
    autoSubmitted: 'no',
    attachments: attachments.map((a, i) => ({
      filename: a.filename,
      contentType: 'application/octet-stream',
      content: Buffer.alloc(a.size, i + 1),
    })),
  });
}

describe('withBcc', () => {
  it('adds the envelope recipients that To and Cc do not name, and nothing when all are named', async () => {
    const raw = await compose([]);
    expect(withBcc(raw, ['ADA@fabrikam.example', 'bob@fabrikam.example'])).toBe(raw);
    const hidden = withBcc(raw, ['ada@fabrikam.example', 'eve@fabrikam.example', 'zoe@fabrikam.example']);
    expect(hidden.toString('utf8').startsWith('Bcc: eve@fabrikam.example,\r\n zoe@fabrikam.example\r\n')).toBe(true);
    const parsed = await parseMessage(hidden);
    expect(parsed.messageId).toBe('<m1@contoso.com>');
    expect(parsed.bcc.map((a) => a.address)).toEqual(['eve@fabrikam.example', 'zoe@fabrikam.example']);
  });

  it('does not take a longer address for a named one', async () => {
    const raw = await compose([]);
    const hidden = withBcc(raw, ['da@fabrikam.example']);
    expect(hidden.toString('utf8').startsWith('Bcc: da@fabrikam.example\r\n')).toBe(true);
  });
});

describe('planDraft', () => {
  it('leaves a message that fits one request whole', async () => {
    const raw = await compose([{ filename: 'a.bin', size: 1000 }]);
    expect(await planDraft(raw, 1_000_000)).toEqual({ mime: raw, attachments: [] });
  });

  it('takes out the largest attachments until the rest fits, keeping headers and the other parts', async () => {
    const raw = await compose([
      { filename: 'small.bin', size: 20_000 },
      { filename: 'big.bin', size: 300_000 },
      { filename: 'middle.bin', size: 120_000 },
    ]);
    const plan = await planDraft(raw, 200_000);
    expect(plan.attachments.map((a) => [a.name, a.content.length])).toEqual([
      ['big.bin', 300_000],
      ['middle.bin', 120_000],
    ]);
    expect(sha(plan.attachments[0]?.content ?? Buffer.alloc(0))).toBe(sha(Buffer.alloc(300_000, 2)));
    const rest = await parseMessage(plan.mime);
    expect(rest.messageId).toBe('<m1@contoso.com>');
    expect(rest.inReplyTo).toEqual(['<q@fabrikam.example>']);
    expect(rest.text).toContain('See attached.');
    expect(rest.attachments.map((a) => a.filename)).toEqual(['small.bin']);
    expect(Math.ceil(plan.mime.length / 3) * 4).toBeLessThanOrEqual(200_000);
  });

  it('returns a message without attachments whole, even when it is too large', async () => {
    const raw = await compose([]);
    expect((await planDraft(raw, 100)).attachments).toEqual([]);
  });

  it('reads quoted and bare boundaries', () => {
    expect(boundaryOf('multipart/mixed; boundary="--_abc"')).toBe('--_abc');
    expect(boundaryOf('multipart/mixed;boundary=abc; charset=x')).toBe('abc');
    expect(boundaryOf('multipart/mixed; xboundary=abc')).toBe(null);
  });
});

describe('upload ranges', () => {
  it('go only to https on the API origin or an Outlook upload host, never elsewhere', async () => {
    const client = new GraphClient({
      target: { apiBase: 'https://graph.microsoft.com/v1.0', mailbox: 'developers@contoso.com', ca: null },
      accessToken: async () => 'token',
      purpose: 'send',
    });
    for (const url of [
      "https://evil.example/api/v2.0/AttachmentSessions('x')?authtoken=y",
      "http://outlook.office.com/api/v2.0/AttachmentSessions('x')?authtoken=y",
      'not a url',
    ])
      await expect(client.uploadChunk(url, Buffer.from('abc'), 0, 3)).rejects.toMatchObject({
        code: 'GRAPH_REQUEST_FAILED',
      });
  });
});
