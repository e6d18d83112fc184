import { describe, expect, it } from 'vitest';
import { headerSection, windowOf } from './graph-sync-folder.js';

const NOW = new Date('2025-03-10T12:00:00Z');

describe('windowOf', () => {
  it("follows the account's first-sync setting on a first sync", () => {
    expect(windowOf({ kind: 'all' }, 'first-sync', undefined, NOW)).toEqual({ since: null, fromNow: false });
    expect(windowOf({ kind: 'days', days: 7 }, 'first-sync', undefined, NOW)).toEqual({
      since: new Date('2025-03-03T12:00:00Z'),
      fromNow: false,
    });
    expect(windowOf({ kind: 'new' }, 'first-sync', undefined, NOW)).toEqual({ since: null, fromNow: true });
  });

  it('after an expired delta link, "new only" reads from the day before the old link was stored', () => {
    const checkpoint = {
      deltaLink: 'https://graph.example/delta?$deltatoken=x',
      updatedAt: '2025-03-09T08:00:00.000Z',
    };
    expect(windowOf({ kind: 'new' }, 'delta-expired', checkpoint, NOW)).toEqual({
      since: new Date('2025-03-08T08:00:00Z'),
      fromNow: false,
    });
  });
});

describe('headerSection', () => {
  it("writes Graph's internetMessageHeaders as a header section ending in an empty line", () => {
    expect(
      headerSection([
        { name: 'Subject', value: 'Big' },
        { name: 'Message-ID', value: '<a@b>' },
      ]).toString(),
    ).toBe('Subject: Big\r\nMessage-ID: <a@b>\r\n\r\n');
  });

  it('drops names that could forge a header and folds bare line breaks in values', () => {
    expect(
      headerSection([
        { name: 'X-Evil: yes\r\nBcc', value: 'x' },
        { name: 'Subject', value: 'one\r\nBcc: someone@example.org' },
      ]).toString(),
    ).toBe('Subject: one Bcc: someone@example.org\r\n\r\n');
  });
});
