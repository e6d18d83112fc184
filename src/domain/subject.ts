/**
 * Subjects: the reply and forward prefixes mail clients add in many languages, and the
 * interaction token Postern writes into the subject of outgoing mail so that a reply threads back
 * into its conversation even when the client dropped In-Reply-To and References.
 *
 * Token format: `[#P<interaction id>-<check>]`, for example `[#P123-7KQX]`. The check is four
 * characters of Crockford base32 (20 random bits) chosen when the interaction is created; it
 * makes a token that was not received from Postern very unlikely to match, so a stranger cannot
 * push mail into another customer's conversation by guessing ids. The token is matched
 * regardless of case and only within the account that created it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.6.5 (Subject; "Re: " is the only
 *   prefix the RFC names)
 */

/** Crockford's base32 alphabet: no I, L, O, U, so a token read aloud is not misread. */
const CHECK_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CHECK_LENGTH = 4;
const TOKEN_PATTERN = /\[#P(\d{1,15})-([0-9A-HJKMNP-TV-Z]{4})\]/gi;

/**
 * Reply and forward prefixes: English (Re, Fw, Fwd), German (AW, WG), Dutch (Antw, Doorst),
 * Scandinavian (SV, VS, VB, Vid), Finnish (VL, VS), French (Réf, TR), Italian (R, RIF, I),
 * Spanish and Portuguese (RE, RV, ENC, RES), Polish (Odp, PD), Czech (Odp, Fw), Turkish (YNT,
 * İLT), Hungarian (Vá, Továbbítás), Greek (ΑΠ, ΣΧΕΤ, ΠΡΘ), Russian (Ответ, Пересл, Отв), Chinese
 * (回复, 回覆, 答复, 转发, 轉寄), Japanese (返信, 転送), Korean (회신, 전달); optionally counted
 * (`Re[2]:`, `Re(3):`) and with a full-width colon.
 */
const PREFIX_WORDS = [
  're',
  'fw',
  'fwd',
  'aw',
  'wg',
  'antw',
  'antwort',
  'doorst',
  'sv',
  'vs',
  'vb',
  'vid',
  'vl',
  'réf',
  'ref',
  'tr',
  'rif',
  'r',
  'i',
  'rv',
  'enc',
  'res',
  'odp',
  'pd',
  'ynt',
  'i̇lt',
  'ilt',
  'vá',
  'továbbítás',
  'απ',
  'σχετ',
  'πρθ',
  'ответ',
  'пересл',
  'отв',
  'fs',
  '回复',
  '回覆',
  '答复',
  '转发',
  '轉寄',
  '返信',
  '転送',
  '회신',
  '전달',
];
/**
 * A prefix is read as a scanner reads it — spaces, a word, spaces, an optional count and spaces,
 * a colon, spaces — each part a sticky match that never gives characters back. One pattern with
 * `\s*(?:count)?\s*` backtracked catastrophically on `RE` and 60,000 spaces (issue 13); here no
 * character is looked at more than a few times. Words are tried longest first: a word is letters,
 * so when a longer word matches, a shorter one could only be followed by a letter, never a prefix.
 */
const SPACES = /\s*/uy;
const WORD = new RegExp(
  [...PREFIX_WORDS]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
    .join('|'),
  'iuy',
);
const COUNT = /\[\d+\]|\(\d+\)/y;
const COLON = /[:：]/y;

/**
 * The subject without reply/forward prefixes, interaction tokens and redundant whitespace:
 * `RE: AW: Fwd:  Order 42 [#P7-0000]` → `Order 42`. Linear in the subject's length.
 */
export function normalizeSubject(subject: string | null | undefined): string {
  const text = removeSubjectTokens(subject ?? '');
  let start = 0;
  for (let end = prefixEnd(text, start); end !== undefined; end = prefixEnd(text, start)) start = end;
  return text.slice(start).replace(/\s+/g, ' ').trim();
}

/** Where the prefix starting at `at` ends, or undefined when none starts there. */
function prefixEnd(text: string, at: number): number | undefined {
  const word = stickyEnd(WORD, text, stickyEnd(SPACES, text, at) ?? at);
  if (word === undefined) return undefined;
  let next = stickyEnd(SPACES, text, word) ?? word;
  const counted = stickyEnd(COUNT, text, next);
  if (counted !== undefined) next = stickyEnd(SPACES, text, counted) ?? counted;
  const colon = stickyEnd(COLON, text, next);
  return colon === undefined ? undefined : (stickyEnd(SPACES, text, colon) ?? colon);
}

/** The end of a sticky pattern's match at `at`, or undefined. */
function stickyEnd(pattern: RegExp, text: string, at: number): number | undefined {
  pattern.lastIndex = at;
  return pattern.test(text) ? pattern.lastIndex : undefined;
}

/** The token stored for an interaction: `#P123-7KQX`. */
export function formatSubjectToken(interactionId: number, check: string): string {
  if (!Number.isSafeInteger(interactionId) || interactionId <= 0)
    throw new RangeError('interaction id must be a positive integer');
  const { prefix, suffix } = subjectTokenAround(check);
  return `${prefix}${interactionId}${suffix}`;
}

/**
 * What a subject token holds before and after the interaction id (`#P`, `-7KQX`): for a store
 * that writes the id into the token in the same statement that allocates it.
 */
export function subjectTokenAround(check: string): { readonly prefix: string; readonly suffix: string } {
  const normalized = check.toUpperCase();
  if (!new RegExp(`^[${CHECK_ALPHABET}]{${CHECK_LENGTH}}$`).test(normalized)) {
    throw new RangeError(`check must be ${CHECK_LENGTH} characters of Crockford base32`);
  }
  return { prefix: '#P', suffix: `-${normalized}` };
}

/** A token check (four base32 characters) from random bytes (at least three). */
export function tokenCheckFromBytes(bytes: Uint8Array): string {
  if (bytes.length < 3) throw new RangeError('a token check needs 3 random bytes');
  let bits = ((bytes[0] ?? 0) << 16) | ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0);
  let check = '';
  for (let i = 0; i < CHECK_LENGTH; i += 1) {
    check = (CHECK_ALPHABET[bits & 31] ?? '0') + check;
    bits >>>= 5;
  }
  return check;
}

/** The tag written in subjects: `[#P123-7KQX]`. */
export function subjectTokenTag(token: string): string {
  return `[${token}]`;
}

/** Every token in a subject, in the stored form (`#P123-7KQX`), without repeats. */
export function findSubjectTokens(subject: string | null | undefined): string[] {
  if (subject === null || subject === undefined) return [];
  const tokens = [...subject.matchAll(TOKEN_PATTERN)].map(
    (match) => `#P${Number(match[1])}-${(match[2] ?? '').toUpperCase()}`,
  );
  return [...new Set(tokens)];
}

/** The subject with the token's tag appended, unless it already carries that token. */
export function addSubjectToken(subject: string, token: string): string {
  if (findSubjectTokens(subject).includes(token.toUpperCase())) return subject;
  const trimmed = subject.trim();
  return trimmed === '' ? subjectTokenTag(token) : `${trimmed} ${subjectTokenTag(token)}`;
}

function removeSubjectTokens(subject: string): string {
  return subject.replace(TOKEN_PATTERN, ' ');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
