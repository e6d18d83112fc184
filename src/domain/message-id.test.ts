import { describe, expect, it } from 'vitest';
import {
  bodyDigest,
  isSyntheticMessageId,
  normalizeMessageId,
  parseMessageIdList,
  syntheticMessageId,
  MAX_REFERENCES,
} from './message-id.js';

describe('normalizeMessageId', () => {
  it.each([
    ['<abc@Example.COM>', '<abc@example.com>'],
    ['  <abc@example.com> (comment)', '<abc@example.com>'],
    ['abc@example.com', '<abc@example.com>'],
    ['<ab\r\n c@example.com>', '<abc@example.com>'],
    ['<CaseKept.X@host>', '<CaseKept.X@host>'],
    ['<no-at-sign>', '<no-at-sign>'],
  ])('%j → %s', (input, expected) => {
    expect(normalizeMessageId(input)).toBe(expected);
  });

  it.each([[''], ['   '], ['<>'], [null], [undefined], [`<${'a'.repeat(1000)}@x>`]])('%j has no id', (input) => {
    expect(normalizeMessageId(input)).toBeUndefined();
  });
});

describe('parseMessageIdList', () => {
  it('finds the same bracketed ids as /<([^<>]*)>/g, nested, unclosed and empty pairs included', () => {
    const reference = (text: string): string[] =>
      [...text.matchAll(/<([^<>]*)>/g)].map((match) => match[1] ?? '').filter((inner) => inner !== '');
    for (const text of [
      '<a@x> <b@y>',
      '<<a@x>> <b@y',
      '<a<b@x> c@y>',
      '<> <a@x> <>',
      'x@y <> z@w',
      '>>><a@x><<',
      '<a@x',
      '<a@x>>>><b@y>',
    ]) {
      expect(parseMessageIdList(text), text).toEqual(
        parseMessageIdList(
          reference(text)
            .map((id) => `<${id}>`)
            .join(' '),
        ),
      );
    }
    // A header of empty pairs names no id, and bare tokens are not looked for then.
    expect(parseMessageIdList('<> a@x')).toEqual([]);
  });

  it('reads bracketed ids in order without repeats', () => {
    expect(parseMessageIdList('<a@X> <b@y>\r\n <a@x>')).toEqual(['<a@x>', '<b@y>']);
  });
  it('reads bare ids when no brackets are used', () => {
    expect(parseMessageIdList('a@x, b@y junk')).toEqual(['<a@x>', '<b@y>']);
  });
  it('keeps the root and the most recent ids of a very long chain', () => {
    const ids = Array.from({ length: 250 }, (_, i) => `<m${i}@x>`).join(' ');
    const parsed = parseMessageIdList(ids);
    expect(parsed).toHaveLength(MAX_REFERENCES);
    expect(parsed[0]).toBe('<m0@x>');
    expect(parsed.at(-1)).toBe('<m249@x>');
    expect(parsed[1]).toBe(`<m${250 - MAX_REFERENCES + 1}@x>`);
  });
  it('accepts arrays and nothing', () => {
    expect(parseMessageIdList(['<a@x>', '<b@x>'])).toEqual(['<a@x>', '<b@x>']);
    expect(parseMessageIdList(undefined)).toEqual([]);
  });
});

describe('synthetic ids', () => {
  const base = { date: 'Wed, 15 Jan 2025 09:00:00 +0000', from: 'a@x', subject: 'Hi', bodyDigest: 'd1' };
  it('is stable and differs when any input differs', () => {
    const id = syntheticMessageId(base);
    expect(syntheticMessageId({ ...base })).toBe(id);
    expect(syntheticMessageId({ ...base, subject: '  Hi ' })).toBe(id);
    expect(syntheticMessageId({ ...base, bodyDigest: 'd2' })).not.toBe(id);
    expect(syntheticMessageId({ ...base, from: 'b@x' })).not.toBe(id);
    expect(syntheticMessageId({ ...base, date: null })).not.toBe(id);
    expect(isSyntheticMessageId(id)).toBe(true);
    expect(normalizeMessageId(id)).toBe(id);
    expect(isSyntheticMessageId('<a@x>')).toBe(false);
  });
  it('digests the body only, whatever the line endings of the separator', () => {
    const a = bodyDigest(Buffer.from('Subject: a\r\n\r\nbody'));
    expect(bodyDigest(Buffer.from('Subject: b\r\nX: y\r\n\r\nbody'))).toBe(a);
    expect(bodyDigest(Buffer.from('Subject: b\n\nbody'))).toBe(a);
    expect(bodyDigest(Buffer.from('Subject: a\r\n\r\nother'))).not.toBe(a);
    expect(bodyDigest(Buffer.from('Subject: only headers'))).not.toBe(
      bodyDigest(Buffer.from('Subject: other headers')),
    );
    expect(bodyDigest(Buffer.from('Subject: x\r\n\r\n'))).toBe(bodyDigest(Buffer.alloc(0)));
  });
});
