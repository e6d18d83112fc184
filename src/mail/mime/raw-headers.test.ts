import { describe, expect, it } from 'vitest';
import {
  declaredTypes,
  isKnownCharset,
  isValidUtf8,
  readHeaderFields,
  repairEightBitHeader,
  splitHeader,
} from './raw-headers.js';

describe('splitHeader', () => {
  it('splits at CRLF CRLF or LF LF, whichever comes first', () => {
    const crlf = Buffer.from('A: 1\r\nB: 2\r\n\r\nbody\n\nmore');
    expect(splitHeader(crlf).header.toString()).toBe('A: 1\r\nB: 2\r\n');
    expect(crlf.subarray(splitHeader(crlf).bodyStart).toString()).toBe('body\n\nmore');
    const lf = Buffer.from('A: 1\n\nbody\r\n\r\nx');
    expect(splitHeader(lf).header.toString()).toBe('A: 1\n');
    expect(lf.subarray(splitHeader(lf).bodyStart).toString()).toBe('body\r\n\r\nx');
  });
  it('treats a message without an empty line as all header', () => {
    const raw = Buffer.from('A: 1\r\nB: 2');
    expect(splitHeader(raw)).toEqual({ header: raw, bodyStart: raw.length });
  });
});

describe('readHeaderFields', () => {
  it('unfolds, lower-cases names, keeps repeats in order and skips junk lines', () => {
    const fields = readHeaderFields(
      Buffer.from('Subject: a\r\n  b\r\nReceived: 1\r\nReceived: 2\r\nnot a header\r\n: empty name\r\n'),
    );
    expect(fields.get('subject')).toEqual(['a  b']);
    expect(fields.get('received')).toEqual(['1', '2']);
    expect(fields.size).toBe(2);
  });
  it('reads a Latin-1 line as Windows-1252 and a UTF-8 line as UTF-8 in the same header', () => {
    const header = Buffer.concat([Buffer.from('From: J\xfcrgen\r\n', 'latin1'), Buffer.from('To: Zoë\r\n', 'utf8')]);
    const fields = readHeaderFields(header);
    expect(fields.get('from')).toEqual(['Jürgen']);
    expect(fields.get('to')).toEqual(['Zoë']);
  });
});

describe('repairEightBitHeader', () => {
  it('leaves UTF-8 headers alone', () => {
    expect(repairEightBitHeader(Buffer.from('Subject: Grüße\r\n\r\nbody'))).toBeUndefined();
  });
  it('re-encodes Latin-1 header bytes as UTF-8 and keeps the body byte for byte', () => {
    const raw = Buffer.concat([Buffer.from('Subject: Gr\xfc\xdfe\r\n\r\n', 'latin1'), Buffer.from([0xe9, 0x00, 0xff])]);
    const repaired = repairEightBitHeader(raw);
    expect(repaired?.subarray(0, 20).toString('utf8')).toBe('Subject: Grüße\r\n\r\n');
    expect([...(repaired?.subarray(-3) ?? [])]).toEqual([0xe9, 0x00, 0xff]);
    expect(isValidUtf8(repaired?.subarray(0, 20) ?? Buffer.alloc(0))).toBe(true);
  });
});

describe('declaredTypes and charsets', () => {
  it('lists every Content-Type, nested and folded ones included', () => {
    const raw = Buffer.from(
      'Content-Type: multipart/mixed;\r\n boundary=x\r\n\r\n--x\r\ncontent-type: TEXT/plain; charset="ISO-8859-1"\r\n\r\nhi\r\n--x--\r\n',
    );
    expect(declaredTypes(raw)).toEqual([
      { mediaType: 'multipart/mixed', charset: null },
      { mediaType: 'text/plain', charset: 'iso-8859-1' },
    ]);
  });
  it('reads the bytes as the former whole-message regular expression did (now without a string of the message)', () => {
    // The former implementation, kept here as the reference.
    const reference = (raw: Buffer) =>
      [...raw.toString('latin1').matchAll(/^content-type[ \t]*:[ \t]*([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/gim)]
        .map((match) => (match[1] ?? '').replace(/\r?\n[ \t]/g, ' '))
        .map((value) => ({
          mediaType: value.split(';')[0]?.trim().toLowerCase() ?? '',
          charset: /charset\s*=\s*"?([^";\s]+)/i.exec(value)?.[1]?.toLowerCase() ?? null,
        }))
        .filter((type) => type.mediaType !== '');
    const samples = [
      'CONTENT-TYPE : text/html;\n\tcharset=utf-8\n\nx',
      'Content-Type:text/plain\rContent-Type: image/png\r\n',
      'X-Content-Type: a/b\r\nContent-Typo: c/d\r\ncontent-type:\r\n\r\ncontent-type: e/f; charset=koi8-r',
      'Content\rType: g/h\r\nContent-Type: i/j;\r\n\r\n charset=not-folded\r\n',
      'Content-Type: k/l;\r\n charset=a\r\n\tname=b\r\n',
      'Content-Type',
      '',
    ];
    for (const sample of samples) {
      const raw = Buffer.from(sample, 'latin1');
      expect(declaredTypes(raw), JSON.stringify(sample)).toEqual(reference(raw));
    }
    expect(declaredTypes(Buffer.from('Content-Type: k/l;\r\n charset=a\r\n'))).toEqual([
      { mediaType: 'k/l', charset: 'a' },
    ]);
    // Random texts made of the pieces that matter (names, blanks, colons, line breaks), from a
    // fixed seed: the colon-to-colon scan finds exactly what the line-by-line reference finds.
    const pieces = [
      'Content-Type',
      'content-type',
      'CONTENT-TYPE',
      'Content',
      '-Type',
      ':',
      ' ',
      '\t',
      '\r',
      '\n',
      '\r\n',
      'text/plain',
      ';',
      'charset=x',
      'a:b',
      '"',
    ];
    let seed = 20261203;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let sample = 0; sample < 2000; sample += 1) {
      let text = '';
      for (let piece = next(40); piece > 0; piece -= 1) text += pieces[next(pieces.length)];
      const raw = Buffer.from(text, 'latin1');
      expect(declaredTypes(raw), JSON.stringify(text)).toEqual(reference(raw));
    }
  });
  it('knows WHATWG charset labels', () => {
    expect(isKnownCharset('iso-8859-1')).toBe(true);
    expect(isKnownCharset('iso-2022-jp')).toBe(true);
    expect(isKnownCharset('x-klingon')).toBe(false);
  });
});
