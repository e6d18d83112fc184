import { describe, expect, it } from 'vitest';
import { mailboxAstring } from './wire.js';
import { decodeMailboxName, encodeMailboxName, toFolderPath, toWireName } from './mailbox-name.js';
import { formatSequenceSet, inSequenceSet, parseSequenceSet } from './sequence-set.js';

describe('sequence sets', () => {
  it('parses ranges, single numbers and *', () => {
    expect(parseSequenceSet('1:3,7,10:*')).toEqual([
      { from: 1, to: 3 },
      { from: 7, to: 7 },
      { from: 10, to: Infinity },
    ]);
    expect(parseSequenceSet('5:2')).toEqual([{ from: 2, to: 5 }]);
    for (const bad of ['0', '1:0', '', '1,,2', 'a', '1:2:3']) expect(parseSequenceSet(bad)).toBeUndefined();
  });

  it('resolves * to the largest value, so n:* always includes the last message (RFC 3501 6.4.8)', () => {
    const ranges = parseSequenceSet('51:*') ?? [];
    expect(inSequenceSet(ranges, 50, 50)).toBe(true);
    expect(inSequenceSet(ranges, 49, 50)).toBe(false);
  });

  it('formats ascending values compactly', () => {
    expect(formatSequenceSet([1, 2, 3, 5, 7, 8])).toBe('1:3,5,7:8');
  });
});

describe('mailbox names', () => {
  it('round-trips modified UTF-7', () => {
    expect(encodeMailboxName('Entwürfe & Co')).toBe('Entw&APw-rfe &- Co');
    expect(decodeMailboxName('Entw&APw-rfe &- Co')).toBe('Entwürfe & Co');
    expect(decodeMailboxName('&ZeVnLIqe-')).toBe('日本語');
  });

  it('maps INBOX in any case to the Inbox folder and back', () => {
    expect(toFolderPath('inbox')).toBe('Inbox');
    expect(toFolderPath('INBOX/Orders')).toBe('Inbox/Orders');
    expect(toWireName('Inbox')).toBe('INBOX');
    expect(mailboxAstring('Sent Items')).toBe('"Sent Items"');
    expect(mailboxAstring('Drafts')).toBe('Drafts');
  });
});
