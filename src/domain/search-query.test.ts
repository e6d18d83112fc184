import { describe, expect, it } from 'vitest';
import {
  buildSearchDocument,
  parseSearchQuery,
  readReference,
  SEARCH_FIELD_CAPS,
  searchWords,
  SearchQuerySyntaxError,
} from './search-query.js';

const LIMITS = { maxLength: 500, maxTerms: 32 };
const parse = (q: string) => parseSearchQuery(q, LIMITS);

function failure(q: string): string {
  try {
    parse(q);
  } catch (error) {
    if (error instanceof SearchQuerySyntaxError) return error.message;
    throw error;
  }
  throw new Error(`"${q}" was accepted`);
}

describe('searchWords', () => {
  it('lowers case, removes accents and splits at anything that is not a letter or digit', () => {
    expect(searchWords('Naïve CAFÉ: grace.hopper@navy.example, e-mail #P12-7KQX')).toEqual([
      'naive',
      'cafe',
      'grace',
      'hopper',
      'navy',
      'example',
      'e',
      'mail',
      'p12',
      '7kqx',
    ]);
  });

  it('skips words longer than 100 characters', () => {
    expect(searchWords(`short ${'a'.repeat(101)} ${'b'.repeat(100)}`)).toEqual(['short', 'b'.repeat(100)]);
  });
});

describe('parseSearchQuery', () => {
  it('reads words, phrases, fields, has:attachment and references', () => {
    expect(
      parse(
        'Invoice "floor three" from:"Ada L" to:grace.hopper@navy.example subject:jam has:attachment [#p12-7kqx] P3-ABCD',
      ),
    ).toEqual({
      terms: [
        { field: 'any', words: ['invoice'], prefix: false },
        { field: 'any', words: ['floor', 'three'], prefix: false },
        { field: 'from', words: ['ada', 'l'], prefix: false },
        { field: 'to', words: ['grace', 'hopper', 'navy', 'example'], prefix: false },
        { field: 'subject', words: ['jam'], prefix: false },
      ],
      hasAttachment: true,
      references: ['#P12-7KQX', '#P3-ABCD'],
    });
  });

  it('matches the last bare word as a prefix, from two characters on', () => {
    expect(parse('invoice reconcil')?.terms.at(-1)).toEqual({ field: 'any', words: ['reconcil'], prefix: true });
    expect(parse('from:ad')?.terms.at(-1)).toMatchObject({ prefix: true });
    expect(parse('invoice a')?.terms.at(-1)).toMatchObject({ prefix: false });
    expect(parse('"reconcil"')?.terms.at(-1)).toMatchObject({ prefix: false });
    expect(parse('reconcil has:attachment')?.terms.at(-1)).toMatchObject({ prefix: true });
    expect(parse('reconcil P3-ABCD')?.terms.at(-1)).toMatchObject({ prefix: false });
  });

  it('reads an unknown name: as plain text, and an empty query as no search', () => {
    expect(parse('Re: order')?.terms.map((t) => t.words)).toEqual([['re'], ['order']]);
    expect(parse('   ')).toBeUndefined();
    expect(parse('')).toBeUndefined();
  });

  it('refuses malformed queries with a message saying what to change', () => {
    expect(failure('"open phrase')).toContain('A quote is not closed');
    expect(failure('from: ada')).toContain('"from:" needs a value');
    expect(failure('to:')).toContain('"to:" needs a value');
    expect(failure('from:""')).toContain('"from:" needs a word');
    expect(failure('from:!!')).toContain('"from:" needs a word');
    expect(failure('has:pizza')).toBe('"has:pizza" is not a filter: use has:attachment.');
    expect(failure('?? !!')).toContain('no letters or digits');
    expect(failure('x'.repeat(501))).toContain('at most 500');
    expect(failure(Array.from({ length: 33 }, (_, i) => `w${i}`).join(' '))).toContain('33 terms; at most 32');
  });

  it('reads hostile input of the largest size in one pass', () => {
    expect(failure('"'.repeat(499))).toContain('A quote is not closed');
    expect(failure('"'.repeat(500))).toContain('250 terms');
    expect(failure('"" '.repeat(10))).toContain('no letters or digits');
    expect(parse('from:'.repeat(100))?.terms).toEqual([{ field: 'from', words: Array(99).fill('from'), prefix: true }]);
    expect(parse('a:'.repeat(250))?.terms).toHaveLength(1);
  });
});

describe('readReference', () => {
  it('reads the forms users type, in any case, and nothing else', () => {
    expect(readReference('[#P12-7kqx]')).toBe('#P12-7KQX');
    expect(readReference('#p12-7KQX')).toBe('#P12-7KQX');
    expect(readReference('P012-7KQX')).toBe('#P12-7KQX');
    for (const text of ['P12-7KQ', 'P12-7KQXY', 'P-7KQX', 'P12-7KQI', '[P12-7KQX', 'P0-7KQX', 'Q12-7KQX'])
      expect(readReference(text), text).toBeUndefined();
  });
});

describe('buildSearchDocument', () => {
  it('indexes names and addresses, attachment names first, each field capped at whole words', () => {
    const document = buildSearchDocument({
      subject: 'Re: Invoice',
      text: `${'word '.repeat(30_000)}tail`,
      from: [{ name: 'Ada', address: 'ada@example.org' }],
      to: [{ name: '', address: 'support@contoso.com' }],
      cc: [{ name: 'Grace Hopper', address: 'grace@navy.example' }],
      attachmentNames: ['report.pdf', null],
    });
    expect(document.subject).toBe('re invoice');
    expect(document.sender).toBe('ada ada example org');
    expect(document.recipients).toBe('support contoso com grace hopper grace navy example');
    expect(document.body.startsWith('report pdf word word')).toBe(true);
    expect(document.body.length).toBeLessThanOrEqual(SEARCH_FIELD_CAPS.body);
    expect(document.body.endsWith(' word')).toBe(true);
  });
});
