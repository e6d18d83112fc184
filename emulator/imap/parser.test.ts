import { describe, expect, it } from 'vitest';
import {
  CommandFramer,
  ImapSyntaxError,
  parseCommand,
  tokenizeFrame,
  tokenizeString,
  type CommandFrame,
  type ImapToken,
} from './parser.js';

function frame(options: { maxLineLength?: number; maxLiteralSize?: number } = {}) {
  const frames: CommandFrame[] = [];
  let continuations = 0;
  const framer = new CommandFramer({
    ...options,
    onFrame: (f) => frames.push(f),
    onContinuationRequest: () => (continuations += 1),
  });
  return { framer, frames, continuations: () => continuations };
}

function text(token: ImapToken | undefined): string {
  if (!token) return '<none>';
  if (token.type === 'atom') return token.value;
  if (token.type === 'string') return `"${token.value.toString()}"`;
  return `(${token.items.map(text).join(' ')})`;
}

describe('CommandFramer', () => {
  it('cuts pipelined commands out of one read', () => {
    const { framer, frames } = frame();
    framer.feed(Buffer.from('a1 NOOP\r\na2 CAPABILITY\r\na3 LOGOUT\r\n'));
    expect(frames.map((f) => f.lines[0])).toEqual(['a1 NOOP', 'a2 CAPABILITY', 'a3 LOGOUT']);
  });

  it('keeps a partial line until its end arrives, and accepts bare LF', () => {
    const { framer, frames } = frame();
    framer.feed(Buffer.from('a1 NO'));
    expect(frames).toHaveLength(0);
    framer.feed(Buffer.from('OP\na2 NOOP\r'));
    framer.feed(Buffer.from('\n'));
    expect(frames.map((f) => f.lines[0])).toEqual(['a1 NOOP', 'a2 NOOP']);
  });

  it('asks for a continuation for a synchronizing literal only', () => {
    const { framer, frames, continuations } = frame();
    framer.feed(Buffer.from('a1 APPEND INBOX {5}\r\n'));
    expect(continuations()).toBe(1);
    framer.feed(Buffer.from('hel'));
    framer.feed(Buffer.from('lo\r\n'));
    framer.feed(Buffer.from('a2 APPEND INBOX {3+}\r\nabc\r\n'));
    expect(continuations()).toBe(1);
    expect(frames).toHaveLength(2);
    expect(frames[0]?.literals[0]?.toString()).toBe('hello');
    expect(frames[1]?.literals[0]?.toString()).toBe('abc');
  });

  it('carries literals with CRLF and binary octets intact, split byte by byte', () => {
    const { framer, frames } = frame();
    const payload = Buffer.from([0x0d, 0x0a, 0x00, 0xff, 0x7b, 0x31, 0x7d, 0x0d, 0x0a]);
    const input = Buffer.concat([
      Buffer.from(`a1 APPEND INBOX {${payload.length}+}\r\n`),
      payload,
      Buffer.from(' more\r\n'),
    ]);
    for (const byte of input) framer.feed(Buffer.from([byte]));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.literals[0]).toEqual(payload);
    expect(frames[0]?.lines).toEqual([`a1 APPEND INBOX {${payload.length}+}`, ' more']);
  });

  it('handles several literals in one command and an empty literal', () => {
    const { framer, frames } = frame();
    framer.feed(Buffer.from('a1 LOGIN {1+}\r\na {0+}\r\n\r\n'));
    expect(frames[0]?.literals.map((l) => l.toString())).toEqual(['a', '']);
  });

  it('reports an over-long line and skips the rest of it', () => {
    const { framer, frames } = frame({ maxLineLength: 16 });
    framer.feed(Buffer.from('a1 '.padEnd(40, 'X')));
    framer.feed(Buffer.from('XXXX\r\na2 NOOP\r\n'));
    expect(frames.map((f) => f.error ?? f.lines[0])).toEqual(['line-too-long', 'a2 NOOP']);
  });

  it('refuses an oversized synchronizing literal at once and discards a non-synchronizing one', () => {
    const { framer, frames, continuations } = frame({ maxLiteralSize: 4 });
    framer.feed(Buffer.from('a1 APPEND INBOX {10}\r\n'));
    framer.feed(Buffer.from('a2 APPEND INBOX {6+}\r\nabcdef\r\na3 NOOP\r\n'));
    expect(continuations()).toBe(0);
    expect(frames.map((f) => f.error ?? f.lines[0])).toEqual(['literal-too-large', 'literal-too-large', 'a3 NOOP']);
  });
});

describe('tokenizer', () => {
  it('reads atoms, quoted strings with escapes, NIL and nested lists', () => {
    const tokens = tokenizeString('a1 STORE 1:* +FLAGS (\\Seen (\\Draft)) "he said \\"hi\\" \\\\" NIL');
    expect(tokens.map(text)).toEqual([
      'a1',
      'STORE',
      '1:*',
      '+FLAGS',
      '(\\Seen (\\Draft))',
      '"he said "hi" \\"',
      'NIL',
    ]);
  });

  it('keeps a FETCH section with spaces and lists as one atom, with its partial', () => {
    const tokens = tokenizeString('a1 UID FETCH 1 (UID BODY.PEEK[HEADER.FIELDS (DATE FROM)]<0.2048> BODY[])');
    const items = tokens[4];
    expect(items?.type === 'list' && items.items.map(text)).toEqual([
      'UID',
      'BODY.PEEK[HEADER.FIELDS (DATE FROM)]<0.2048>',
      'BODY[]',
    ]);
  });

  it('places literals where their markers were, also inside lists', () => {
    const tokens = tokenizeFrame({
      lines: ['a1 ID ("name" {7}', ' "version" "1")'],
      literals: [Buffer.from('postern')],
    });
    expect(tokens.map(text)).toEqual(['a1', 'ID', '("name" "postern" "version" "1")']);
    expect(tokens[2]?.type === 'list' && tokens[2].items[1]).toMatchObject({ type: 'string', literal: true });
  });

  it('rejects unbalanced lists, bad escapes and stray brackets', () => {
    expect(() => tokenizeString('a1 LIST ("" "*"')).toThrow(ImapSyntaxError);
    expect(() => tokenizeString('a1 NOOP )')).toThrow(ImapSyntaxError);
    expect(() => tokenizeString('a1 LOGIN "a\\b" c')).toThrow(ImapSyntaxError);
    expect(() => tokenizeString('a1 FETCH 1 BODY[TEXT')).toThrow(ImapSyntaxError);
    expect(() => tokenizeString('a1 FETCH 1 x]')).toThrow(ImapSyntaxError);
  });
});

describe('parseCommand', () => {
  it('splits tag, upper-cased name and arguments', () => {
    const parsed = parseCommand({ lines: ['A7 uid fetch 1 FLAGS'], literals: [] });
    expect(parsed.command?.tag).toBe('A7');
    expect(parsed.command?.name).toBe('UID');
    expect(parsed.command?.args.map(text)).toEqual(['fetch', '1', 'FLAGS']);
  });

  it('returns the tag alone for a tag without a command, nothing for no tag', () => {
    expect(parseCommand({ lines: ['a1'], literals: [] })).toEqual({ tag: 'a1' });
    expect(parseCommand({ lines: [''], literals: [] })).toEqual({});
    expect(parseCommand({ lines: [' a1 NOOP'], literals: [] })).toEqual({});
    expect(parseCommand({ lines: ['+ NOOP'], literals: [] })).toEqual({});
  });

  it('reports a syntax error with the tag', () => {
    expect(parseCommand({ lines: ['a1 SELECT "INBOX'], literals: [] })).toMatchObject({
      tag: 'a1',
      syntaxError: expect.any(String),
    });
  });
});
