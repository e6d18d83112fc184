import { describe, expect, it } from 'vitest';
import { MessageContent, type StoredMessage } from '../exchange/stored-message.js';
import type { MessageFlag } from '../exchange/message-flags.js';
import { tokenizeString } from './parser.js';
import { compileSearch } from './search-criteria.js';

function message(
  uid: number,
  headers: string,
  body: string,
  flags: MessageFlag[] = [],
  date = '2025-01-15T10:00:00Z',
): StoredMessage {
  return {
    id: String(uid),
    uid,
    content: new MessageContent(Buffer.from(`${headers}\r\n\r\n${body}`)),
    internalDate: new Date(date),
    flags: new Set(flags),
  };
}

const messages = [
  message(
    3,
    'From: ann@example.org\r\nSubject: Order 42\r\nMessage-ID: <a@x>\r\nDate: Tue, 14 Jan 2025 08:00:00 +0000',
    'Where is it?',
    ['\\Seen'],
  ),
  message(
    7,
    'From: bob@example.org\r\nSubject: Invoice\r\nContent-Transfer-Encoding: quoted-printable',
    'Caf=C3=A9 bill',
    [],
    '2025-01-20T10:00:00Z',
  ),
  message(
    9,
    'From: ann@example.org\r\nSubject: Re: Order 42\r\nContent-Transfer-Encoding: base64',
    Buffer.from('Thanks a lot').toString('base64'),
    ['\\Flagged', '\\Deleted'],
  ),
];

function search(query: string): number[] {
  const predicate = compileSearch(tokenizeString(query));
  return messages
    .filter((m, i) => predicate(m, { seq: i + 1, maxUid: 9, count: messages.length, size: (x) => x.content.size }))
    .map((m) => m.uid);
}

describe('SEARCH criteria', () => {
  it('matches flags, dates and sizes', () => {
    expect(search('ALL')).toEqual([3, 7, 9]);
    expect(search('UNSEEN')).toEqual([7, 9]);
    expect(search('SEEN FROM ann')).toEqual([3]);
    expect(search('FLAGGED UNDELETED')).toEqual([]);
    expect(search('SINCE 16-Jan-2025')).toEqual([7]);
    expect(search('BEFORE 16-Jan-2025')).toEqual([3, 9]);
    expect(search('ON 15-Jan-2025')).toEqual([3, 9]);
    expect(search('SENTBEFORE 15-Jan-2025')).toEqual([3]);
    expect(search('LARGER 1 SMALLER 100000')).toEqual([3, 7, 9]);
  });

  it('matches headers and decoded bodies case-insensitively', () => {
    expect(search('HEADER Message-ID <a@x>')).toEqual([3]);
    expect(search('SUBJECT "order 42"')).toEqual([3, 9]);
    expect(search('BODY café')).toEqual([7]);
    expect(search('TEXT thanks')).toEqual([9]);
  });

  it('combines with OR, NOT, groups, UID and sequence sets', () => {
    expect(search('OR FROM bob FLAGGED')).toEqual([7, 9]);
    expect(search('NOT (FROM ann SEEN)')).toEqual([7, 9]);
    expect(search('UID 4:*')).toEqual([7, 9]);
    expect(search('2:3')).toEqual([7, 9]);
  });

  it('rejects unknown keys and missing arguments', () => {
    expect(() => search('FROBNICATE')).toThrow();
    expect(() => search('FROM')).toThrow();
  });
});
