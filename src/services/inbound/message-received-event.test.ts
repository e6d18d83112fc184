import { describe, expect, it } from 'vitest';
import { messageReceivedEvent, snippetOf, SNIPPET_LENGTH } from './message-received-event.js';

const facts = {
  account: { id: 3, key: 'DEV', emailAddress: 'developers@contoso.com' },
  messageRowId: 41,
  internetMessageId: '<first@customer.example>',
  interactionId: 7,
  interactionCreated: true,
  from: [{ name: 'Carla Customer', address: 'carla@customer.example' }],
  to: [{ name: '', address: 'developers@contoso.com' }],
  cc: [],
  subject: 'The build is red',
  text: 'Since  this\n\nmorning the pipeline fails.',
  html: null,
  receivedAt: new Date('2026-01-02T03:04:05Z'),
  folder: 'INBOX',
  isJunk: false,
  automated: false,
  attachmentCount: 0,
  oversize: false,
};

describe('messageReceivedEvent', () => {
  it('carries the account, interaction and message ids and the parsed summary', () => {
    const event = messageReceivedEvent(facts);
    expect(event).toMatchObject({ scope: 'message', scopeId: 41, type: 'message.received' });
    expect(event.message).toBe('Email account DEV received "The build is red" from carla@customer.example.');
    expect(event.data).toEqual({
      accountId: 3,
      accountKey: 'DEV',
      accountAddress: 'developers@contoso.com',
      interactionId: 7,
      interactionCreated: true,
      messageId: 41,
      internetMessageId: '<first@customer.example>',
      from: { name: 'Carla Customer', address: 'carla@customer.example' },
      to: [{ name: null, address: 'developers@contoso.com' }],
      cc: [],
      subject: 'The build is red',
      snippet: 'Since this morning the pipeline fails.',
      receivedAt: '2026-01-02T03:04:05.000Z',
      folder: 'INBOX',
      junk: false,
      automated: false,
      attachments: 0,
      oversize: false,
    });
  });

  it('says so when the sender is unknown', () => {
    const event = messageReceivedEvent({ ...facts, from: [] });
    expect(event.data?.from).toBeNull();
    expect(event.message).toContain('from an unknown sender');
  });
});

describe('snippetOf', () => {
  it('falls back to the HTML without tags, scripts or entities', () => {
    expect(snippetOf(null, '<style>p{}</style><p>Hello&nbsp;<b>there</b> &amp; bye</p>')).toBe('Hello there & bye');
  });

  it('cuts long text with an ellipsis, counting characters not bytes', () => {
    const snippet = snippetOf('è'.repeat(500), null);
    expect([...snippet]).toHaveLength(SNIPPET_LENGTH);
    expect(snippet.endsWith('…')).toBe(true);
    expect(snippetOf(null, null)).toBe('');
  });

  it('reads only as far into a long body as the snippet needs, whitespace collapsed across the cut', () => {
    const body = `${' \n'.repeat(5000)}${'word '.repeat(100_000)}`;
    const snippet = snippetOf(body, null);
    expect(snippet).toBe(`${'word '.repeat(40).slice(0, SNIPPET_LENGTH - 1)}…`);
    expect(snippetOf('😀'.repeat(300), null)).toBe(`${'😀'.repeat(SNIPPET_LENGTH - 1)}…`);
    expect(snippetOf(`  short\n\n  text  ${' '.repeat(10_000)}`, null)).toBe('short text');
  });
});
