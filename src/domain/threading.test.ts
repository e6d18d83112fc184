import { describe, expect, it } from 'vitest';
import { decideThread, threadLookupIds } from './threading.js';

const keys = { inReplyTo: ['<p@x>'], references: ['<root@x>', '<mid@x>', '<p@x>'], subjectTokens: ['#P7-AAAA'] };

describe('decideThread', () => {
  it('prefers In-Reply-To', () => {
    const byMessageId = new Map([
      ['<p@x>', 3],
      ['<root@x>', 1],
    ]);
    expect(decideThread(keys, { byMessageId, byToken: new Map([['#P7-AAAA', 7]]) })).toEqual({
      kind: 'reply',
      interactionId: 3,
      via: 'in-reply-to',
      messageId: '<p@x>',
    });
  });
  it('then References, most recent first', () => {
    const byMessageId = new Map([
      ['<mid@x>', 2],
      ['<root@x>', 1],
    ]);
    expect(decideThread({ ...keys, inReplyTo: [] }, { byMessageId, byToken: new Map() })).toEqual({
      kind: 'reply',
      interactionId: 2,
      via: 'references',
      messageId: '<mid@x>',
    });
  });
  it('then the subject token', () => {
    expect(decideThread(keys, { byMessageId: new Map(), byToken: new Map([['#P7-AAAA', 7]]) })).toEqual({
      kind: 'token',
      interactionId: 7,
      token: '#P7-AAAA',
    });
  });
  it('else a new interaction', () => {
    expect(decideThread(keys, { byMessageId: new Map(), byToken: new Map() })).toEqual({ kind: 'new' });
  });
  it('looks ids up In-Reply-To first, then References newest first, once each', () => {
    expect(threadLookupIds(keys)).toEqual(['<p@x>', '<mid@x>', '<root@x>']);
  });
});
