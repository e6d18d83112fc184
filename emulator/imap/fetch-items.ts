/**
 * FETCH data items: parsing the request (`ALL`, `(UID FLAGS BODY.PEEK[HEADER.FIELDS (DATE)]<0.512>)`)
 * and extracting body sections of a stored message by byte offsets.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.4.5 (FETCH items and section specifiers)
 */
import type { MimePart } from '../exchange/mime-structure.js';
import type { MessageContent } from '../exchange/stored-message.js';
import { ArgumentError, atom } from './arguments.js';
import { tokenizeString, type ImapToken } from './parser.js';

export type SimpleItem =
  | 'UID'
  | 'FLAGS'
  | 'INTERNALDATE'
  | 'RFC822.SIZE'
  | 'ENVELOPE'
  | 'BODYSTRUCTURE'
  | 'BODY'
  | 'RFC822'
  | 'RFC822.HEADER'
  | 'RFC822.TEXT';

export interface SectionItem {
  readonly kind: 'section';
  /** Part numbers, empty for the whole message. */
  readonly path: readonly number[];
  readonly specifier: '' | 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';
  readonly fields: readonly string[];
  readonly peek: boolean;
  readonly partial?: { readonly start: number; readonly length: number };
}

export type FetchItem = { readonly kind: 'simple'; readonly name: SimpleItem } | SectionItem;

const SIMPLE: readonly SimpleItem[] = [
  'UID',
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODYSTRUCTURE',
  'BODY',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.TEXT',
];

function simpleItem(name: string): SimpleItem | undefined {
  return SIMPLE.find((item) => item === name);
}
const MACROS: Record<string, SimpleItem[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const SECTION = /^(BODY(?:\.PEEK)?)\[(.*)\](?:<(\d+)\.(\d+)>)?$/is;

/** Parses the item argument of FETCH. */
export function parseFetchItems(token: ImapToken): FetchItem[] {
  if (token.type === 'atom') {
    const macro = MACROS[token.value.toUpperCase()];
    if (macro) return macro.map((name) => ({ kind: 'simple', name }));
    return [parseItem(token)];
  }
  if (token.type === 'list' && token.items.length > 0) return token.items.map(parseItem);
  throw new ArgumentError('bad FETCH items');
}

function parseItem(token: ImapToken): FetchItem {
  const text = atom(token);
  const simple = simpleItem(text.toUpperCase());
  if (simple) return { kind: 'simple', name: simple };
  const match = SECTION.exec(text);
  if (!match) throw new ArgumentError(`unknown FETCH item ${text}`);
  const [, verb = '', section = '', start, length] = match;
  const partial = start !== undefined ? { start: Number(start), length: Number(length) } : undefined;
  if (partial && partial.length === 0) throw new ArgumentError('empty partial');
  return { kind: 'section', peek: verb.toUpperCase() === 'BODY.PEEK', partial, ...parseSection(section) };
}

function parseSection(text: string): Pick<SectionItem, 'path' | 'specifier' | 'fields'> {
  const trimmed = text.trim();
  const head = /^((?:\d+\.)*\d+)?\.?([A-Za-z.]*)\s*/.exec(trimmed);
  if (!head) throw new ArgumentError('bad section');
  const path = head[1] ? head[1].split('.').map(Number) : [];
  if (path.some((n) => n === 0)) throw new ArgumentError('bad part number');
  const specifier = (head[2] ?? '').toUpperCase();
  const rest = trimmed.slice(head[0].length);
  switch (specifier) {
    case '':
      if (rest !== '') throw new ArgumentError('bad section');
      return { path, specifier: '', fields: [] };
    case 'HEADER':
    case 'TEXT':
      if (rest !== '') throw new ArgumentError('bad section');
      return { path, specifier, fields: [] };
    case 'MIME':
      if (path.length === 0 || rest !== '') throw new ArgumentError('MIME needs a part');
      return { path, specifier, fields: [] };
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT': {
      const tokens = tokenizeString(rest);
      const list = tokens[0];
      if (tokens.length !== 1 || list?.type !== 'list' || list.items.length === 0)
        throw new ArgumentError('bad header list');
      const fields = list.items.map((item) =>
        (item.type === 'atom' ? item.value : item.type === 'string' ? item.value.toString('utf8') : '').toUpperCase(),
      );
      if (fields.some((f) => f === '')) throw new ArgumentError('bad header field name');
      return { path, specifier, fields };
    }
    default:
      throw new ArgumentError(`bad section ${specifier}`);
  }
}

/** The response label of a section item: `BODY[1.HEADER.FIELDS (DATE FROM)]<0>`. */
export function sectionLabel(item: SectionItem): string {
  const parts: string[] = [];
  if (item.path.length > 0) parts.push(item.path.join('.'));
  if (item.specifier !== '') parts.push(item.specifier);
  let section = parts.join('.');
  if (item.fields.length > 0) section += ` (${item.fields.join(' ')})`;
  const origin = item.partial ? `<${item.partial.start}>` : '';
  return `BODY[${section}]${origin}`;
}

/** The octets of a section; `undefined` when the part does not exist (answered with an empty string). */
export function extractSection(content: MessageContent, item: SectionItem): Buffer {
  const raw = content.raw;
  const root = content.structure;
  let bytes: Buffer;
  if (item.path.length === 0) {
    bytes = messageSection(raw, root, item);
  } else {
    const part = resolvePart(root, item.path);
    if (!part) {
      bytes = Buffer.alloc(0);
    } else if (item.specifier === '') {
      bytes = raw.subarray(part.bodyStart, part.bodyEnd);
    } else if (item.specifier === 'MIME') {
      bytes = raw.subarray(part.headerStart, part.bodyStart);
    } else {
      // HEADER / TEXT / HEADER.FIELDS of a part are those of its encapsulated message.
      bytes = part.message ? messageSection(raw, part.message, item) : Buffer.alloc(0);
    }
  }
  if (!item.partial) return bytes;
  return bytes.subarray(
    Math.min(item.partial.start, bytes.length),
    Math.min(item.partial.start + item.partial.length, bytes.length),
  );
}

function messageSection(raw: Buffer, message: MimePart, item: SectionItem): Buffer {
  switch (item.specifier) {
    case 'HEADER':
      return raw.subarray(message.headerStart, message.bodyStart);
    case 'TEXT':
      return raw.subarray(message.bodyStart, message.bodyEnd);
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT':
      return selectHeaderLines(
        raw.subarray(message.headerStart, message.bodyStart),
        item.fields,
        item.specifier === 'HEADER.FIELDS.NOT',
      );
    default:
      return raw.subarray(message.headerStart, message.bodyEnd);
  }
}

/** Part `path` of a message: a non-multipart message is its own part 1; message/rfc822 parts are entered. */
function resolvePart(root: MimePart, path: readonly number[]): MimePart | undefined {
  let entity: MimePart | undefined = root;
  for (const n of path) {
    if (!entity) return undefined;
    if (entity !== root && entity.message) entity = entity.message;
    if (entity.type === 'multipart') entity = entity.children[n - 1];
    else if (n !== 1) return undefined;
  }
  return entity;
}

/** The header lines (with their folded continuations) whose names are (not) in `fields`, plus the blank line. */
function selectHeaderLines(header: Buffer, fields: readonly string[], exclude: boolean): Buffer {
  const wanted = new Set(fields);
  const lines = header.toString('latin1').split(/(?<=\n)/);
  const kept: string[] = [];
  let keeping = false;
  for (const line of lines) {
    if (line === '\r\n' || line === '\n') break;
    if (/^[ \t]/.test(line)) {
      if (keeping) kept.push(line);
      continue;
    }
    const name = line
      .slice(0, Math.max(0, line.indexOf(':')))
      .trim()
      .toUpperCase();
    keeping = name !== '' && wanted.has(name) !== exclude;
    if (keeping) kept.push(line.endsWith('\n') ? line : `${line}\r\n`);
  }
  kept.push('\r\n');
  return Buffer.from(kept.join(''), 'latin1');
}
