/**
 * The IMAP command parser, in two steps:
 *
 * 1. `CommandFramer` is fed the octets of a connection as they arrive and cuts them into command
 *    frames: the text lines of one command and the literals between them. A line ending in
 *    `{n}` asks for a continuation (`+ Ready for additional command text.`) before the client
 *    sends the literal; `{n+}` (LITERAL+) does not. Any number of commands may be in flight
 *    (pipelining); a literal may be split across reads.
 * 2. `tokenizeFrame` turns a frame into tokens: atoms (with `[section]<partial>` for FETCH items),
 *    strings (quoted or literal) and parenthesized lists.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-9 (formal syntax)
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-7.5 (command continuation request)
 * @see https://www.rfc-editor.org/rfc/rfc7888 (LITERAL+)
 */

/** One complete command: `lines[i]` is followed by `literals[i]` when there is one. */
export interface CommandFrame {
  readonly lines: readonly string[];
  readonly literals: readonly Buffer[];
  /** Set when the frame could not be read whole (line or literal over the limits). */
  readonly error?: 'line-too-long' | 'literal-too-large';
}

export type ImapToken =
  | { readonly type: 'atom'; readonly value: string }
  | { readonly type: 'string'; readonly value: Buffer; readonly literal: boolean }
  | { readonly type: 'list'; readonly items: readonly ImapToken[] };

export class ImapSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImapSyntaxError';
  }
}

export interface FramerOptions {
  readonly maxLineLength?: number;
  readonly maxLiteralSize?: number;
  readonly onFrame: (frame: CommandFrame) => void;
  /** A synchronizing literal was announced: the server must send a continuation request. */
  readonly onContinuationRequest: () => void;
}

const LF = 0x0a;
const LITERAL_MARKER = /\{(\d{1,12})(\+?)\}$/;

/** Cuts a byte stream into command frames. */
export class CommandFramer {
  private pending: Buffer = Buffer.alloc(0);
  private lines: string[] = [];
  private literals: Buffer[] = [];
  private literalRemaining = 0;
  private literalChunks: Buffer[] = [];
  private discarding = false;
  private discardLine = false;
  private readonly maxLine: number;
  private readonly maxLiteral: number;

  constructor(private readonly options: FramerOptions) {
    this.maxLine = options.maxLineLength ?? 64 * 1024;
    this.maxLiteral = options.maxLiteralSize ?? 160 * 1024 * 1024;
  }

  feed(chunk: Buffer): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.literalRemaining > 0) {
        const take = Math.min(this.literalRemaining, data.length);
        if (!this.discarding) this.literalChunks.push(data.subarray(0, take));
        this.literalRemaining -= take;
        data = data.subarray(take);
        if (this.literalRemaining === 0) this.finishLiteral();
        continue;
      }
      const end = data.indexOf(LF);
      if (end === -1) {
        if (this.discardLine) return;
        if (data.length > this.maxLine) {
          this.emitError('line-too-long');
          // Skip the rest of this over-long line, whatever reads it takes.
          this.discardLine = true;
          return;
        }
        this.pending = Buffer.from(data);
        return;
      }
      const lineBytes = data.subarray(0, end > 0 && data[end - 1] === 0x0d ? end - 1 : end);
      data = data.subarray(end + 1);
      if (this.discardLine) {
        this.discardLine = false;
        continue;
      }
      if (lineBytes.length > this.maxLine) {
        this.emitError('line-too-long');
        continue;
      }
      this.acceptLine(lineBytes.toString('utf8'));
    }
  }

  private acceptLine(line: string): void {
    this.lines.push(line);
    const marker = LITERAL_MARKER.exec(line);
    if (!marker) {
      this.emit();
      return;
    }
    const size = Number(marker[1]);
    const synchronizing = marker[2] !== '+';
    if (size > this.maxLiteral) {
      if (synchronizing) {
        // The client waits for our go-ahead, so nothing follows: refuse at once.
        this.emitError('literal-too-large');
        return;
      }
      this.discarding = true;
    } else if (synchronizing) {
      this.options.onContinuationRequest();
    }
    this.literalRemaining = size;
    if (size === 0) this.finishLiteral();
  }

  private finishLiteral(): void {
    if (this.discarding) {
      this.discarding = false;
      this.literalChunks = [];
      this.lines = [];
      this.literals = [];
      // The rest of the command line after the literal goes with it.
      this.discardLine = true;
      this.options.onFrame({ lines: [], literals: [], error: 'literal-too-large' });
      return;
    }
    const [only] = this.literalChunks;
    this.literals.push(
      only !== undefined && this.literalChunks.length === 1 ? only : Buffer.concat(this.literalChunks),
    );
    this.literalChunks = [];
  }

  private emit(): void {
    const frame: CommandFrame = { lines: this.lines, literals: this.literals };
    this.lines = [];
    this.literals = [];
    this.options.onFrame(frame);
  }

  private emitError(error: 'line-too-long' | 'literal-too-large'): void {
    const frame: CommandFrame = { lines: this.lines, literals: [], error };
    this.lines = [];
    this.literals = [];
    this.options.onFrame(frame);
  }
}

/** Open lists while tokenizing: the innermost last; the bottom one holds the top-level tokens. */
class ListStack {
  private readonly lists: ImapToken[][] = [[]];

  get top(): ImapToken[] {
    const list = this.lists[this.lists.length - 1];
    if (!list) throw new ImapSyntaxError('unexpected )');
    return list;
  }

  open(): void {
    this.lists.push([]);
  }

  close(): void {
    if (this.lists.length === 1) throw new ImapSyntaxError('unexpected )');
    const items = this.lists.pop() ?? [];
    this.top.push({ type: 'list', items });
  }

  /** The top-level tokens; throws when a list is left open. */
  finish(): ImapToken[] {
    if (this.lists.length !== 1) throw new ImapSyntaxError('unbalanced parenthesis');
    return this.top;
  }
}

/** Tokenizes a whole frame; lists may span literals. */
export function tokenizeFrame(frame: CommandFrame): ImapToken[] {
  const stack = new ListStack();
  frame.lines.forEach((line, index) => {
    const literal = frame.literals[index];
    const text = literal === undefined ? line : line.replace(LITERAL_MARKER, '');
    tokenizeText(text, stack);
    if (literal !== undefined) stack.top.push({ type: 'string', value: literal, literal: true });
  });
  return stack.finish();
}

/** Tokenizes a text without literals (used for FETCH section specifiers too). */
export function tokenizeString(text: string): ImapToken[] {
  const stack = new ListStack();
  tokenizeText(text, stack);
  return stack.finish();
}

function tokenizeText(text: string, stack: ListStack): void {
  let pos = 0;
  while (pos < text.length) {
    const ch = text[pos];
    if (ch === ' ') {
      pos += 1;
    } else if (ch === '(') {
      stack.open();
      pos += 1;
    } else if (ch === ')') {
      stack.close();
      pos += 1;
    } else if (ch === '"') {
      const [value, next] = readQuoted(text, pos);
      stack.top.push({ type: 'string', value: Buffer.from(value, 'utf8'), literal: false });
      pos = next;
    } else if (ch === '{') {
      throw new ImapSyntaxError('literal marker not at end of line');
    } else {
      const [value, next] = readAtom(text, pos);
      stack.top.push({ type: 'atom', value });
      pos = next;
    }
  }
}

function readQuoted(text: string, start: number): [string, number] {
  let value = '';
  for (let i = start + 1; i < text.length; i += 1) {
    const ch = text.charAt(i);
    if (ch === '\\') {
      const next = text[i + 1];
      if (next !== '\\' && next !== '"') throw new ImapSyntaxError('bad escape in quoted string');
      value += next;
      i += 1;
    } else if (ch === '"') {
      return [value, i + 1];
    } else {
      value += ch;
    }
  }
  throw new ImapSyntaxError('unterminated quoted string');
}

/** Reads an atom; a `[` starts a section that may hold spaces and lists, up to its `]`. */
function readAtom(text: string, start: number): [string, number] {
  let i = start;
  while (i < text.length) {
    const ch = text.charAt(i);
    if (ch === ' ' || ch === '(' || ch === ')' || ch === '"' || ch === '{') break;
    if (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f) throw new ImapSyntaxError('control character in atom');
    if (ch === '[') {
      i = skipSection(text, i);
      continue;
    }
    if (ch === ']') throw new ImapSyntaxError('unexpected ]');
    i += 1;
  }
  if (i === start) throw new ImapSyntaxError('empty atom');
  return [text.slice(start, i), i];
}

function skipSection(text: string, open: number): number {
  let quoted = false;
  for (let i = open + 1; i < text.length; i += 1) {
    const ch = text[i];
    if (quoted) {
      if (ch === '\\') i += 1;
      else if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === ']') return i + 1;
  }
  throw new ImapSyntaxError('unterminated section');
}

/** A parsed command line: tag, command name (upper case) and arguments. */
export interface ImapCommand {
  readonly tag: string;
  readonly name: string;
  readonly args: readonly ImapToken[];
}

const TAG = /^[\x21-\x7e]+$/;

/**
 * Splits a frame into tag, command and arguments. Returns the tag alone (no name) when only the tag
 * can be read, and `undefined` when not even a tag can.
 */
export function parseCommand(frame: CommandFrame): { tag?: string; command?: ImapCommand; syntaxError?: string } {
  const first = frame.lines[0] ?? '';
  const tagMatch = /^([^\s(){%*"\\]+)(?: |$)/.exec(first);
  const tag = tagMatch?.[1];
  if (tag === undefined || !TAG.test(tag) || tag.includes('+')) return {};
  let tokens: ImapToken[];
  try {
    tokens = tokenizeFrame(frame);
  } catch (error) {
    return { tag, syntaxError: error instanceof Error ? error.message : 'syntax error' };
  }
  const nameToken = tokens[1];
  if (!nameToken || nameToken.type !== 'atom') return { tag };
  return { tag, command: { tag, name: nameToken.value.toUpperCase(), args: tokens.slice(2) } };
}
