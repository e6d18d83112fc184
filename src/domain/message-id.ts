/**
 * Message identity: the Message-ID of a message, the ids it refers to (In-Reply-To, References),
 * and a stable synthetic id for mail that has none, so that every stored message can be found
 * again by id and a replayed fetch is recognised.
 *
 * Canonical form: `<id-left@id-right>` with angle brackets, no whitespace, the id-right (domain)
 * lower-cased. The id-left keeps its case: RFC 5322 gives no case rule for it and some senders
 * generate ids that differ only by case.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4 (msg-id, In-Reply-To, References)
 */
import { createHash } from 'node:crypto';

/** Longest id kept; RFC 5322 §2.1.1 caps a line at 998 characters. */
const MAX_ID_LENGTH = 998;
/** References kept for threading: the root and the most recent ones. */
export const MAX_REFERENCES = 100;
/** The domain of synthetic ids: `.invalid` can never be a real host (RFC 2606 §2). */
const SYNTHETIC_ID_DOMAIN = 'synthetic.postern.invalid';

/**
 * The canonical form of one Message-ID header value, or undefined when there is no usable id.
 * Accepts the forms found in the wild: `<a@b>`, `a@b`, a folded value, a trailing comment.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4
 */
export function normalizeMessageId(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const bracketed = /<([^<>]*)>/.exec(value);
  const inner =
    bracketed?.[1] ??
    value
      .replace(/\([^()]*\)/g, ' ')
      .trim()
      .split(/\s+/)[0] ??
    '';
  return canonical(inner);
}

/**
 * Every id of an In-Reply-To or References header, canonical, de-duplicated, in header order.
 * Long reference chains keep the first (the thread's root) and the most recent ones.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4
 */
export function parseMessageIdList(value: string | readonly string[] | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  const text = typeof value === 'string' ? value : value.join(' ');
  const bracketed = bracketedTokens(text);
  // Some mailers drop the brackets: take the bare tokens that look like ids.
  const tokens = bracketed !== undefined ? bracketed : text.split(/[\s,]+/).filter((token) => token.includes('@'));
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const token of tokens) {
    const id = canonical(token);
    if (id === undefined || seen.has(id)) continue;
    seen.add(id);
    ids.push(id);
  }
  if (ids.length <= MAX_REFERENCES) return ids;
  return [ids[0] ?? '', ...ids.slice(ids.length - (MAX_REFERENCES - 1))];
}

/** What a synthetic id is computed from: raw header texts and the body's digest. */
export interface SyntheticIdInput {
  /** The Date header as written (not parsed: an unparseable date must still give a stable id). */
  readonly date: string | null | undefined;
  /** The From header as written. */
  readonly from: string | null | undefined;
  /** The Subject header as written. */
  readonly subject: string | null | undefined;
  /** SHA-256 (hex) of the body bytes, see {@link bodyDigest}. */
  readonly bodyDigest: string;
}

/**
 * A stable id for a message without Message-ID: the same message fetched again (another UID,
 * another UIDVALIDITY, another folder) gets the same id, so it is not stored twice.
 */
export function syntheticMessageId(input: SyntheticIdInput): string {
  const hash = createHash('sha256');
  for (const part of [input.date, input.from, input.subject, input.bodyDigest]) {
    hash.update((part ?? '').trim().replace(/\s+/g, ' '));
    hash.update('\u0000');
  }
  return `<${hash.digest('hex').slice(0, 40)}@${SYNTHETIC_ID_DOMAIN}>`;
}

/** True for ids made by {@link syntheticMessageId}. */
export function isSyntheticMessageId(id: string): boolean {
  return id.endsWith(`@${SYNTHETIC_ID_DOMAIN}>`);
}

/**
 * SHA-256 (hex) of a raw message's body: the bytes after the first empty line. Without an empty
 * line there is no telling header from body, and the whole input is digested, so that two
 * different shapeless inputs never share an id.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-2.1 (header, empty line, body)
 */
export function bodyDigest(raw: Uint8Array): string {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const crlf = bytes.indexOf('\r\n\r\n');
  const lf = bytes.indexOf('\n\n');
  const candidates = [crlf === -1 ? -1 : crlf + 4, lf === -1 ? -1 : lf + 2].filter((at) => at >= 0);
  const start = candidates.length === 0 ? 0 : Math.min(...candidates);
  return createHash('sha256').update(bytes.subarray(start)).digest('hex');
}

/**
 * The texts between `<` and `>` (each `<` … `>` holding neither), as `/<([^<>]*)>/g` would find
 * them — but with two index scans instead of a match object per pair, so that a hostile header of
 * a million `<>` costs no more than its length. Empty pairs are counted, not kept. Undefined when
 * the text holds no pair at all.
 */
function bracketedTokens(text: string): string[] | undefined {
  const tokens: string[] = [];
  let pairs = 0;
  let open = text.indexOf('<');
  while (open !== -1) {
    const close = text.indexOf('>', open + 1);
    if (close === -1) break;
    // The last `<` before the `>` opens the pair; the scan back stops at `open`, and never again
    // covers what it covered: the next search starts after `close`.
    const start = text.lastIndexOf('<', close);
    pairs += 1;
    if (close > start + 1) tokens.push(text.slice(start + 1, close));
    open = text.indexOf('<', close + 1);
  }
  return pairs === 0 ? undefined : tokens;
}

function canonical(inner: string): string | undefined {
  const id = inner.replace(/\s+/g, '');
  if (id === '' || id.length > MAX_ID_LENGTH || /[\u0000-\u001f<>]/.test(id)) return undefined;
  const at = id.lastIndexOf('@');
  if (at <= 0 || at === id.length - 1) return `<${id}>`;
  return `<${id.slice(0, at)}@${id.slice(at + 1).toLowerCase()}>`;
}
