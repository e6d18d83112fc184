/**
 * Full-text search of conversations: the one query syntax both engines answer, and the words a
 * message is indexed under. Pure: the store turns a parsed query into an FTS5 MATCH expression
 * (SQLite) or a `tsquery` (PostgreSQL), and stores the documents built here.
 *
 * Text is reduced to words the same way on both sides of the index, before either engine sees it:
 * lower case, accents removed (NFKD, combining marks dropped), split at every character that is
 * not a letter or a digit. `alice@example.com` is the words `alice example com`, `e-mail` is
 * `e mail`; a query word that splits into several is searched as a phrase. Neither engine's own
 * word rules (PostgreSQL's parser keeps an address as one token, FTS5 does not) decide what
 * matches, so the same query finds the same conversations on both.
 *
 * Syntax (whitespace separates terms; every term must match one message of the conversation):
 *   `word`               the word anywhere (subject, body, sender, To/Cc, attachment names);
 *                        the last bare word of the query also matches as a prefix
 *   `"a phrase"`         the words next to each other, in that order
 *   `from:word`          in the sender (name or address); also `from:"Ada Lovelace"`
 *   `to:word`            in the To or Cc recipients
 *   `subject:word`       in the subject
 *   `has:attachment`     the message has an attachment (not an inline image)
 *   `P12-7KQX`, `#P12-7KQX`, `[#P12-7KQX]`   the conversation with this reference
 * Any other `name:value` is plain text. No operator is hidden in the syntax: no OR, no negation.
 *
 * Parsing is one pass over the input (no regular expression that could backtrack), and the input
 * and the number of terms are capped by the caller's limits.
 */

/** Where a term must be found. `any`: any indexed field. */
export type SearchField = 'any' | 'from' | 'to' | 'subject';

/** One term: words that must appear next to each other, in order, in `field`. */
export interface SearchTerm {
  readonly field: SearchField;
  /** Normalised words, at least one. */
  readonly words: readonly string[];
  /** The last word also matches longer words that start with it. */
  readonly prefix: boolean;
}

/** A parsed query: every part must hold. */
export interface SearchQuery {
  readonly terms: readonly SearchTerm[];
  /** `has:attachment` was given. */
  readonly hasAttachment: boolean;
  /** Conversation references, in the stored form `#P12-7KQX`. */
  readonly references: readonly string[];
}

/** Bounds of {@link parseSearchQuery}. */
export interface SearchQueryLimits {
  /** Longest query, in characters. */
  readonly maxLength: number;
  /** Most terms (words, phrases, filters). */
  readonly maxTerms: number;
}

/** A query that cannot be read; `message` says what to change. */
export class SearchQuerySyntaxError extends Error {
  override readonly name = 'SearchQuerySyntaxError';
}

/** The longest word indexed or searched; longer runs (encoded data, URLs' paths) are skipped. */
export const MAX_SEARCH_WORD_LENGTH = 100;

/**
 * The text of a search document's fields, as words separated by single spaces, each field capped
 * (so that PostgreSQL's 1 MB `tsvector` limit cannot be reached: see docs/ARCHITECTURE.md).
 */
export interface SearchDocument {
  readonly subject: string;
  readonly sender: string;
  readonly recipients: string;
  /** The attachments' file names, then the body text. */
  readonly body: string;
}

/** A name and address, as messages store them. */
export interface SearchAddress {
  readonly name: string;
  readonly address: string;
}

/** What a message is indexed under. */
export interface SearchableMessage {
  readonly subject: string;
  readonly text: string | null;
  readonly from: readonly SearchAddress[];
  readonly to: readonly SearchAddress[];
  readonly cc: readonly SearchAddress[];
  readonly attachmentNames: readonly (string | null)[];
}

/** Caps of the document's fields, in characters of normalised text. */
export const SEARCH_FIELD_CAPS = { subject: 2_000, sender: 2_000, recipients: 20_000, body: 100_000 } as const;

const FIELDS: ReadonlyMap<string, SearchField> = new Map([
  ['from', 'from'],
  ['to', 'to'],
  ['subject', 'subject'],
]);
const HAS_VALUES = new Set(['attachment', 'attachments']);
/** Crockford base32, as domain/subject.ts writes a reference's check. */
const CHECK_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The words of a text, normalised (see the module comment). Linear in the text's length. */
export function searchWords(text: string): string[] {
  const words: string[] = [];
  // Most mail is ASCII: it needs neither NFKD nor dropping marks, and skips both (this runs for
  // every message stored).
  if (ASCII_ONLY.test(text)) {
    for (const match of text.toLowerCase().matchAll(/[a-z0-9]+/g))
      if (match[0].length <= MAX_SEARCH_WORD_LENGTH) words.push(match[0]);
    return words;
  }
  // A run of letters, marks and digits is a word (marks then dropped: `naïve` is `naive`); one
  // character class, repeated, cannot backtrack.
  for (const match of text
    .normalize('NFKD')
    .toLowerCase()
    .matchAll(/[\p{L}\p{M}\p{N}]+/gu)) {
    const word = match[0].replace(/\p{M}/gu, '');
    if (word !== '' && word.length <= MAX_SEARCH_WORD_LENGTH) words.push(word);
  }
  return words;
}

/** Nothing outside ASCII (the whole range, control characters included). */
const ASCII_ONLY = /^[\u0000-\u007f]*$/;

/** The search document of a message (see {@link SearchDocument}). */
export function buildSearchDocument(message: SearchableMessage): SearchDocument {
  const people = (list: readonly SearchAddress[]): string[] => list.flatMap((a) => [a.name, a.address]);
  return {
    subject: searchSubject(message.subject),
    sender: capped(people(message.from).join(' '), SEARCH_FIELD_CAPS.sender),
    recipients: capped([...people(message.to), ...people(message.cc)].join(' '), SEARCH_FIELD_CAPS.recipients),
    body: capped(
      // Names first: a body long enough to be cut must not push them out.
      [...message.attachmentNames.map((name) => name ?? ''), message.text ?? ''].join(' '),
      SEARCH_FIELD_CAPS.body,
    ),
  };
}

/** A subject as a search document holds it: its words, joined by spaces, capped. */
export function searchSubject(subject: string): string {
  return capped(subject, SEARCH_FIELD_CAPS.subject);
}

/** Words of `text` joined by spaces, whole words only, at most `cap` characters. */
function capped(text: string, cap: number): string {
  // Only the start of a very long text can fit; normalising all of it would waste the time.
  const words = searchWords(text.length > cap * 2 ? text.slice(0, cap * 2) : text);
  let length = 0;
  let count = 0;
  for (const word of words) {
    const next = length + (count === 0 ? 0 : 1) + word.length;
    if (next > cap) break;
    length = next;
    count += 1;
  }
  return words.slice(0, count).join(' ');
}

/**
 * Reads a search query (see the module comment for the syntax).
 *
 * @returns undefined for a query that is empty or only spaces (no search).
 * @throws SearchQuerySyntaxError for a query too long, with too many terms, with an unclosed
 *   quote, a filter without a value, an unknown `has:` value, or nothing to search for.
 */
export function parseSearchQuery(input: string, limits: SearchQueryLimits): SearchQuery | undefined {
  if (input.length > limits.maxLength) {
    throw new SearchQuerySyntaxError(
      `The search is ${input.length} characters long; at most ${limits.maxLength} are allowed.`,
    );
  }
  const raw = scanTerms(input);
  if (raw.length === 0) return undefined;
  if (raw.length > limits.maxTerms) {
    throw new SearchQuerySyntaxError(
      `The search has ${raw.length} terms; at most ${limits.maxTerms} are allowed. Use fewer words or a "quoted phrase".`,
    );
  }
  const terms: SearchTerm[] = [];
  const references: string[] = [];
  let hasAttachment = false;
  let lastBare: { index: number } | undefined;
  for (const term of raw) {
    if (term.field === 'has') {
      if (!HAS_VALUES.has(term.value.toLowerCase())) {
        throw new SearchQuerySyntaxError(`"has:${term.value}" is not a filter: use has:attachment.`);
      }
      hasAttachment = true;
      continue;
    }
    const field = term.field ?? 'any';
    if (field === 'any' && !term.quoted) {
      const reference = readReference(term.value);
      if (reference !== undefined) {
        references.push(reference);
        lastBare = undefined;
        continue;
      }
    }
    const words = searchWords(term.value);
    if (words.length === 0) {
      if (term.field !== undefined) {
        throw new SearchQuerySyntaxError(`"${term.field}:" needs a word to look for, for example ${term.field}:ada.`);
      }
      continue;
    }
    lastBare = term.quoted ? undefined : { index: terms.length };
    terms.push({ field, words, prefix: false });
  }
  if (terms.length === 0 && references.length === 0 && !hasAttachment) {
    throw new SearchQuerySyntaxError('The search has no letters or digits to look for.');
  }
  if (lastBare !== undefined && lastBare.index === terms.length - 1) {
    const last = terms[lastBare.index];
    // One letter as a prefix matches nearly everything and costs the most: only from two on.
    if (last !== undefined && (last.words.at(-1)?.length ?? 0) >= 2) terms[lastBare.index] = { ...last, prefix: true };
  }
  return { terms, hasAttachment, references: [...new Set(references)] };
}

interface RawTerm {
  /** `from`, `to`, `subject`, `has`, or undefined for plain text. */
  readonly field: SearchField | 'has' | undefined;
  readonly value: string;
  readonly quoted: boolean;
}

/** Splits the query into terms in one pass. */
function scanTerms(input: string): RawTerm[] {
  const terms: RawTerm[] = [];
  let at = 0;
  const n = input.length;
  while (at < n) {
    while (at < n && isSpace(input.charCodeAt(at))) at += 1;
    if (at >= n) break;
    // A field name: letters up to a colon.
    let field: RawTerm['field'];
    let end = at;
    while (end < n && isAsciiLetter(input.charCodeAt(end))) end += 1;
    if (end > at && end < n && input[end] === ':') {
      const name = input.slice(at, end).toLowerCase();
      const known = name === 'has' ? 'has' : FIELDS.get(name);
      if (known !== undefined) {
        field = known;
        at = end + 1;
        if (at >= n || isSpace(input.charCodeAt(at))) {
          throw new SearchQuerySyntaxError(
            `"${name}:" needs a value right after the colon, for example ${example(known)}.`,
          );
        }
      }
    }
    if (input[at] === '"') {
      const close = input.indexOf('"', at + 1);
      if (close === -1) {
        throw new SearchQuerySyntaxError('A quote is not closed: end the phrase with " or remove the quote.');
      }
      const value = input.slice(at + 1, close);
      if (field !== undefined && value.trim() === '') {
        throw new SearchQuerySyntaxError(`"${field}:" needs a word to look for, for example ${example(field)}.`);
      }
      terms.push({ field, value, quoted: true });
      at = close + 1;
      continue;
    }
    let stop = at;
    while (stop < n && !isSpace(input.charCodeAt(stop)) && input[stop] !== '"') stop += 1;
    terms.push({ field, value: input.slice(at, stop), quoted: false });
    at = stop;
  }
  return terms;
}

function example(field: SearchField | 'has'): string {
  return field === 'has' ? 'has:attachment' : `${field}:ada`;
}

/**
 * A conversation reference as users type it: `P12-7KQX`, `#P12-7KQX` or `[#P12-7KQX]`, in any
 * case; the stored form (`#P12-7KQX`) or undefined.
 */
export function readReference(text: string): string | undefined {
  let start = 0;
  let end = text.length;
  if (text[start] === '[' && text[end - 1] === ']') {
    start += 1;
    end -= 1;
  }
  if (text[start] === '#') start += 1;
  if (text[start] !== 'P' && text[start] !== 'p') return undefined;
  start += 1;
  let digitsEnd = start;
  while (digitsEnd < end && isDigit(text.charCodeAt(digitsEnd))) digitsEnd += 1;
  const digits = digitsEnd - start;
  if (digits < 1 || digits > 15 || text[digitsEnd] !== '-' || end - (digitsEnd + 1) !== 4) return undefined;
  const check = text.slice(digitsEnd + 1, end).toUpperCase();
  for (const char of check) if (!CHECK_ALPHABET.includes(char)) return undefined;
  const id = Number(text.slice(start, digitsEnd));
  return id > 0 && Number.isSafeInteger(id) ? `#P${id}-${check}` : undefined;
}

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 160 || code === 0x3000;
}

function isAsciiLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
