import { describe, expect, it } from 'vitest';
import {
  contactNameFor,
  correspondentOf,
  isPlausibleAddress,
  normalizeAddress,
  participantsOf,
} from './correspondent.js';

const none = { from: [], sender: [], replyTo: [], to: [], cc: [] };
const own = ['support@contoso.com'];

describe('correspondentOf', () => {
  it('is the author', () => {
    expect(correspondentOf({ ...none, from: [{ name: 'Ada', address: 'Ada@Example.com' }] }, own)).toEqual({
      name: 'Ada',
      address: 'ada@example.com',
    });
  });
  it('falls back to Sender, then Reply-To, when From has no usable address', () => {
    expect(
      correspondentOf({ ...none, from: [{ name: 'x', address: '' }], sender: [{ name: '', address: 's@x.org' }] }, own)
        ?.address,
    ).toBe('s@x.org');
    expect(correspondentOf({ ...none, replyTo: [{ name: '', address: 'r@x.org' }] }, own)?.address).toBe('r@x.org');
  });
  it('is the first outside recipient when the account wrote the message', () => {
    const headers = {
      ...none,
      from: [{ name: 'Support', address: 'SUPPORT@contoso.com' }],
      to: [
        { name: '', address: 'support@contoso.com' },
        { name: 'Bob', address: 'bob@x.org' },
      ],
    };
    expect(correspondentOf(headers, own)).toEqual({ name: 'Bob', address: 'bob@x.org' });
  });
  it('is null when nobody plausible is named', () => {
    expect(correspondentOf(none, own)).toBeNull();
    expect(correspondentOf({ ...none, from: [{ name: 'Support', address: 'support@contoso.com' }] }, own)).toBeNull();
    expect(correspondentOf({ ...none, from: [{ name: 'x', address: 'not an address' }] }, own)).toBeNull();
  });
});

describe('addresses and names', () => {
  it('checks plausibility', () => {
    expect(isPlausibleAddress('a@b')).toBe(true);
    expect(isPlausibleAddress('a b@c')).toBe(false);
    expect(isPlausibleAddress('a@b@c')).toBe(false);
    expect(normalizeAddress(' <A@B.org> ')).toBe('a@b.org');
    expect(normalizeAddress('nope')).toBeUndefined();
  });
  it('names a contact after the header, else the local part', () => {
    expect(contactNameFor({ name: ' "Ada  Lovelace" ', address: 'ada@x' })).toBe('Ada Lovelace');
    expect(contactNameFor({ name: '', address: 'ada@x' })).toBe('ada');
    expect(contactNameFor({ name: 'ADA@X', address: 'ada@x' })).toBe('ada');
  });
});

describe('participantsOf', () => {
  const a = (address: string, name = ''): { name: string; address: string } => ({ name, address });
  it('takes To then Cc, once each, lower-cased, without the excluded or implausible addresses', () => {
    const headers = {
      to: [a('Support@Contoso.com'), a('Bob@X.org', ' Bob '), a('not an address')],
      cc: [a('bob@x.org'), a('carol@y.org', 'Carol'), a('ada@x.org')],
    };
    expect(participantsOf(headers, ['support@contoso.com', 'ADA@x.org'], 20)).toEqual([
      { name: 'Bob', address: 'bob@x.org' },
      { name: 'Carol', address: 'carol@y.org' },
    ]);
  });
  it('keeps only the first ones up to the cap', () => {
    const to = Array.from({ length: 30 }, (_, n) => a(`p${n}@x.org`));
    const found = participantsOf({ to, cc: [a('late@x.org')] }, [], 20);
    expect(found).toHaveLength(20);
    expect(found[19]?.address).toBe('p19@x.org');
  });
});
