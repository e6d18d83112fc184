/**
 * SEARCH criteria, compiled to predicates over stored messages: flags, internal and sent dates,
 * sizes, header and text matches (case-insensitive substrings; text parts are decoded from
 * base64 / quoted-printable before BODY and TEXT match), UID and sequence sets, NOT, OR and
 * parenthesized groups.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.4.4
 */
import { findHeader, paramValue, type MimePart } from '../exchange/mime-structure.js';
import { canonicalFlag } from '../exchange/message-flags.js';
import type { MessageContent, StoredMessage } from '../exchange/stored-message.js';
import { ArgumentError, astring, number, searchDate, sequenceSet } from './arguments.js';
import type { ImapToken } from './parser.js';
import { inSequenceSet } from './sequence-set.js';

/** What a predicate may look at besides the message. */
export interface SearchContext {
  readonly seq: number;
  readonly maxUid: number;
  readonly count: number;
  /** RFC822.SIZE as this session reports it (Exchange's estimate unless exact sizes are on). */
  readonly size: (message: StoredMessage) => number;
}

export type SearchPredicate = (message: StoredMessage, context: SearchContext) => boolean;

const DAY = 86_400_000;

/** Compiles a list of search keys (implicitly ANDed). */
export function compileSearch(tokens: readonly ImapToken[]): SearchPredicate {
  const reader = new KeyReader(tokens);
  const predicates: SearchPredicate[] = [];
  while (!reader.done) predicates.push(reader.key());
  if (predicates.length === 0) throw new ArgumentError('SEARCH needs a key', 'count');
  return and(predicates);
}

function and(predicates: readonly SearchPredicate[]): SearchPredicate {
  return (message, context) => predicates.every((p) => p(message, context));
}

function flag(name: string, present: boolean): SearchPredicate {
  const canonical = canonicalFlag(name);
  return (message) => (canonical !== undefined && message.flags.has(canonical)) === present;
}

class KeyReader {
  private index = 0;

  constructor(private readonly tokens: readonly ImapToken[]) {}

  get done(): boolean {
    return this.index >= this.tokens.length;
  }

  private next(): ImapToken {
    const token = this.tokens[this.index];
    if (token === undefined) throw new ArgumentError('SEARCH key is missing its argument', 'count');
    this.index += 1;
    return token;
  }

  private text(): string {
    return astring(this.next()).toLowerCase();
  }

  key(): SearchPredicate {
    const token = this.next();
    if (token.type === 'list') {
      const inner = new KeyReader(token.items);
      const predicates: SearchPredicate[] = [];
      while (!inner.done) predicates.push(inner.key());
      if (predicates.length === 0) throw new ArgumentError('empty SEARCH group');
      return and(predicates);
    }
    if (token.type !== 'atom') throw new ArgumentError('bad SEARCH key');
    const name = token.value.toUpperCase();
    switch (name) {
      case 'ALL':
        return () => true;
      case 'ANSWERED':
      case 'DELETED':
      case 'DRAFT':
      case 'FLAGGED':
      case 'SEEN':
        return flag(`\\${name}`, true);
      case 'UNANSWERED':
      case 'UNDELETED':
      case 'UNDRAFT':
      case 'UNFLAGGED':
      case 'UNSEEN':
        return flag(`\\${name.slice(2)}`, false);
      case 'NEW':
        return flag('\\Seen', false);
      case 'RECENT':
        return () => false;
      case 'OLD':
        return () => true;
      case 'KEYWORD':
        return flag(astring(this.next()), true);
      case 'UNKEYWORD':
        return flag(astring(this.next()), false);
      case 'BEFORE':
      case 'ON':
      case 'SINCE':
        return dateKey(name, searchDate(this.next()), (m) => m.internalDate.getTime());
      case 'SENTBEFORE':
      case 'SENTON':
      case 'SENTSINCE':
        return dateKey(name.slice(4), searchDate(this.next()), (m) => sentDate(m.content));
      case 'LARGER': {
        const size = number(this.next());
        return (m, c) => c.size(m) > size;
      }
      case 'SMALLER': {
        const size = number(this.next());
        return (m, c) => c.size(m) < size;
      }
      case 'FROM':
      case 'TO':
      case 'CC':
      case 'BCC':
      case 'SUBJECT': {
        const field = name.toLowerCase();
        const needle = this.text();
        return (m) => headerValues(m.content, field).some((v) => v.toLowerCase().includes(needle));
      }
      case 'HEADER': {
        const field = astring(this.next()).toLowerCase();
        const needle = this.text();
        return (m) => headerValues(m.content, field).some((v) => v.toLowerCase().includes(needle));
      }
      case 'BODY': {
        const needle = this.text();
        return (m) => bodyText(m.content).toLowerCase().includes(needle);
      }
      case 'TEXT': {
        const needle = this.text();
        return (m) =>
          headerText(m.content).toLowerCase().includes(needle) || bodyText(m.content).toLowerCase().includes(needle);
      }
      case 'UID': {
        const ranges = sequenceSet(this.next());
        return (m, c) => inSequenceSet(ranges, m.uid, c.maxUid);
      }
      case 'NOT': {
        const inner = this.key();
        return (m, c) => !inner(m, c);
      }
      case 'OR': {
        const left = this.key();
        const right = this.key();
        return (m, c) => left(m, c) || right(m, c);
      }
      default: {
        const ranges = sequenceSet(token);
        return (_m, c) => inSequenceSet(ranges, c.seq, c.count);
      }
    }
  }
}

function dateKey(kind: string, day: number, valueOf: (m: StoredMessage) => number): SearchPredicate {
  return (message) => {
    const value = valueOf(message);
    if (Number.isNaN(value)) return false;
    const date = Math.floor(value / DAY) * DAY;
    if (kind === 'BEFORE') return date < day;
    if (kind === 'ON') return date === day;
    return date >= day;
  };
}

function sentDate(content: MessageContent): number {
  const header = content.header('date');
  return header === undefined ? Number.NaN : Date.parse(header);
}

function headerValues(content: MessageContent, field: string): string[] {
  return content.structure.headers.filter((h) => h.key === field).map((h) => h.value);
}

function headerText(content: MessageContent): string {
  return content.structure.headers.map((h) => `${h.name}: ${h.value}`).join('\n');
}

/** The decoded text of the message's text parts (base64 and quoted-printable undone). */
function bodyText(content: MessageContent): string {
  const out: string[] = [];
  collectText(content.raw, content.structure, out);
  return out.join('\n');
}

function collectText(raw: Buffer, part: MimePart, out: string[]): void {
  if (part.type === 'multipart') {
    for (const child of part.children) collectText(raw, child, out);
    return;
  }
  if (part.message) {
    collectText(raw, part.message, out);
    return;
  }
  if (part.type !== 'text') return;
  const body = raw.subarray(part.bodyStart, part.bodyEnd);
  const encoding = (findHeader(part, 'content-transfer-encoding') ?? '').trim().toLowerCase();
  let bytes: Buffer = body;
  if (encoding === 'base64') bytes = Buffer.from(body.toString('latin1').replace(/\s+/g, ''), 'base64');
  else if (encoding === 'quoted-printable') bytes = decodeQuotedPrintable(body.toString('latin1'));
  const charset = (paramValue(part.contentType, 'charset') ?? 'utf-8').toLowerCase();
  // UTF-8 is a superset of US-ASCII, and mislabelled 8-bit text is far more often UTF-8 than not.
  out.push(
    bytes.toString(charset === 'iso-8859-1' || charset === 'latin1' || charset === 'windows-1252' ? 'latin1' : 'utf8'),
  );
}

function decodeQuotedPrintable(text: string): Buffer {
  const bytes: number[] = [];
  const input = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < input.length; i += 1) {
    const ch = input.charAt(i);
    if (ch === '=' && /^[0-9A-Fa-f]{2}$/.test(input.slice(i + 1, i + 3))) {
      bytes.push(parseInt(input.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(ch.charCodeAt(0) & 0xff);
    }
  }
  return Buffer.from(bytes);
}
