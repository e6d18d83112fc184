import { describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../store/index.js';
import {
  checkAddressList,
  checkAttachments,
  FieldProblems,
  FORWARD_SEPARATOR,
  forwardParent,
  forwardSubject,
  quoteParent,
  replyRecipients,
  replySubject,
  subjectWithToken,
  threadReferences,
} from './outgoing-draft.js';

function message(overrides: Partial<MessageRecord> = {}): MessageRecord {
  return {
    id: 1,
    accountId: 1,
    interactionId: 1,
    direction: 'in',
    messageId: '<c2@fabrikam.example>',
    inReplyTo: null,
    references: ['<c1@fabrikam.example>'],
    from: [{ name: 'Ada', address: 'ada@fabrikam.example' }],
    to: [
      { name: '', address: 'support@contoso.com' },
      { name: 'Bob', address: 'bob@fabrikam.example' },
    ],
    cc: [
      { name: '', address: 'Support@Contoso.com' },
      { name: '', address: 'carol@fabrikam.example' },
    ],
    bcc: [],
    replyTo: [],
    subject: 'AW: RE: Order 42 [#P7-ABCD]',
    text: 'line one\n> earlier',
    html: '<p>Hi <img data-postern-inline="0"></p>',
    headerDate: '2026-03-01T09:00:00.000Z',
    isAutoReply: false,
    isBounce: false,
    isList: false,
    isJunk: false,
    isRead: true,
    hasAttachments: false,
    folder: 'INBOX',
    uidValidity: 1,
    uid: 1,
    rawSize: 100,
    deliveryState: null,
    deliveryError: null,
    authorUserId: null,
    bounces: [],
    receivedAt: '2026-03-01T09:00:05.000Z',
    createdAt: '2026-03-01T09:00:05.000Z',
    originalRemovedAt: null,
    attachments: [],
    ...overrides,
  };
}

const own = ['support@contoso.com'];

describe('replyRecipients', () => {
  it('answers the sender, or its Reply-To, never the account itself', () => {
    expect(replyRecipients(message(), own, false)).toEqual({
      to: [{ name: 'Ada', address: 'ada@fabrikam.example' }],
      cc: [],
    });
    expect(
      replyRecipients(message({ replyTo: [{ name: 'Desk', address: 'desk@fabrikam.example' }] }), own, false).to,
    ).toEqual([{ name: 'Desk', address: 'desk@fabrikam.example' }]);
  });

  it('adds the other recipients in Cc for reply-all, once each', () => {
    expect(replyRecipients(message(), own, true).cc.map((a) => (typeof a === 'string' ? a : a.address))).toEqual([
      'bob@fabrikam.example',
      'carol@fabrikam.example',
    ]);
  });

  it('answers the recipients of our own message when the conversation ends with it', () => {
    const ours = message({
      direction: 'out',
      from: [{ name: 'Support', address: 'support@contoso.com' }],
      to: [{ name: 'Ada', address: 'ada@fabrikam.example' }],
      cc: [],
    });
    expect(replyRecipients(ours, own, true)).toEqual({
      to: [{ name: 'Ada', address: 'ada@fabrikam.example' }],
      cc: [],
    });
  });
});

describe('subjects', () => {
  it('writes one "Re:" and the conversation token', () => {
    expect(replySubject('AW: RE: Order 42 [#P7-ABCD]', 'fallback', '#P7-ABCD')).toBe('Re: Order 42 [#P7-ABCD]');
    expect(replySubject('', 'Order 42', null)).toBe('Re: Order 42');
  });

  it('refuses a subject that does not fit Exchange with the token, or spans lines', () => {
    const problems = new FieldProblems();
    subjectWithToken('x'.repeat(250), '#P7-ABCD', problems);
    subjectWithToken('two\r\nlines', null, problems);
    expect(problems.list.map((p) => p.problem)).toEqual([
      expect.stringContaining('must be at most 244 characters'),
      'must be one line',
    ]);
  });
});

describe('threadReferences', () => {
  it("chains the parent's references and its id, skipping synthetic ids", () => {
    expect(threadReferences(message())).toEqual({
      inReplyTo: '<c2@fabrikam.example>',
      references: ['<c1@fabrikam.example>', '<c2@fabrikam.example>'],
    });
    expect(threadReferences(message({ messageId: '<abc@synthetic.postern.invalid>' }))).toEqual({
      inReplyTo: null,
      references: ['<c1@fabrikam.example>'],
    });
    expect(threadReferences(undefined)).toEqual({ inReplyTo: null, references: [] });
  });

  it('keeps the root and the latest ids of a long chain', () => {
    const long = message({ references: Array.from({ length: 150 }, (_, i) => `<r${i}@x.example>`) });
    const { references } = threadReferences(long);
    expect(references).toHaveLength(100);
    expect(references[0]).toBe('<r0@x.example>');
    expect(references.at(-1)).toBe('<c2@fabrikam.example>');
  });
});

describe('quoteParent', () => {
  it('quotes text with "> " and HTML in a cite blockquote without the parent\'s inline image markers', () => {
    const quoted = quoteParent({ text: 'Answer', html: '<p>Answer</p>' }, message());
    expect(quoted.text).toBe(
      'Answer\n\nOn Sun, 01 Mar 2026 09:00:00 GMT, Ada <ada@fabrikam.example> wrote:\n> line one\n>> earlier\n',
    );
    expect(quoted.html).toContain('<blockquote type="cite"');
    expect(quoted.html).not.toContain('data-postern-inline');
  });
});

describe('checks', () => {
  it('name the index of each bad address and drop duplicates', () => {
    const problems = new FieldProblems();
    const list = checkAddressList('cc', ['a@fabrikam.example', 'A@FABRIKAM.example', 'bad'], problems);
    expect(list.map((a) => a.address)).toEqual(['a@fabrikam.example']);
    expect(problems.list).toEqual([{ field: 'cc[2]', problem: expect.stringContaining('must be an address') }]);
  });

  it('decode attachments, detect their type, and refuse unsafe names and bad base64', () => {
    const problems = new FieldProblems();
    const ok = checkAttachments(
      [
        { filename: 'Offerte für Zoë.pdf', contentBase64: Buffer.from('%PDF').toString('base64') },
        { filename: 'logo.png', contentBase64: 'iVBO', contentId: '<logo@x>' },
        { filename: 'con.txt', contentBase64: 'aGk=' },
        { filename: 'x.txt', contentBase64: '*' },
        { filename: 'x.bin', contentType: 'not a type', contentBase64: '' },
      ],
      problems,
    );
    expect(ok.map((a) => [a.filename, a.contentType, a.inline, a.contentId])).toEqual([
      ['Offerte für Zoë.pdf', 'application/pdf', false, null],
      ['logo.png', 'image/png', true, 'logo@x'],
    ]);
    expect(problems.list.map((p) => p.field)).toEqual([
      'attachments[2].filename',
      'attachments[3].contentBase64',
      'attachments[4].contentType',
    ]);
  });
});

describe('a forward', () => {
  it('has one Fw: prefix however many the forwarded subject had, and the token', () => {
    expect(forwardSubject('AW: RE: Fwd: Order 42 [#P7-ABCD]', 'fallback', '#P7-ABCD')).toBe('Fw: Order 42 [#P7-ABCD]');
    expect(forwardSubject('', 'Order 42', null)).toBe('Fw: Order 42');
    expect([...forwardSubject('x'.repeat(400), '', '#P7-ABCD')].length).toBe(255);
  });

  it("puts the original's headers in plain words and its text below the agent's", () => {
    const { text, html } = forwardParent({ text: 'FYI', html: null }, message());
    expect(text).toBe(
      [
        'FYI',
        '',
        FORWARD_SEPARATOR,
        'From: Ada <ada@fabrikam.example>',
        'Date: Sun, 01 Mar 2026 09:00:00 GMT',
        'Subject: AW: RE: Order 42 [#P7-ABCD]',
        'To: support@contoso.com, Bob <bob@fabrikam.example>',
        'Cc: Support@Contoso.com, carol@fabrikam.example',
        '',
        'line one',
        '> earlier',
        '',
      ].join('\n'),
    );
    // The original's HTML is kept (without Postern's inline-image marks), the agent's text escaped above it.
    expect(html).toContain('<div style="white-space:pre-wrap">FYI</div>');
    expect(html).toContain('From: Ada &lt;ada@fabrikam.example&gt;');
    expect(html).toContain('<p>Hi <img></p>');
  });

  it('has no HTML part when neither the agent nor the original wrote HTML, and no empty text above the block', () => {
    const forwarded = forwardParent({ text: null, html: null }, message({ html: null, cc: [] }));
    expect(forwarded.html).toBeNull();
    expect(forwarded.text.startsWith(FORWARD_SEPARATOR)).toBe(true);
    expect(forwarded.text).not.toContain('Cc:');
  });
});
