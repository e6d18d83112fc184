import { describe, expect, it } from 'vitest';
import { MessageContent } from '../exchange/stored-message.js';
import { encodeBodyStructure } from './body-structure.js';
import { encodeEnvelope } from './envelope.js';
import { extractSection, parseFetchItems, sectionLabel, type SectionItem } from './fetch-items.js';
import { tokenizeString } from './parser.js';
import type { WirePart } from './wire.js';

const raw = Buffer.from(
  [
    'From: "Ann Lee" <ann@example.org>',
    'To: bob@contoso.com, team: c@contoso.com, d@contoso.com;',
    'Subject: Report',
    'Message-ID: <r1@example.org>',
    'Content-Type: multipart/mixed; boundary="XX"',
    '',
    '--XX',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello Bob',
    '--XX',
    'Content-Type: message/rfc822',
    '',
    'Subject: Forwarded',
    'From: old@example.org',
    '',
    'old body',
    '--XX--',
    '',
  ].join('\r\n'),
);
const content = new MessageContent(raw);
const wire = (parts: WirePart[]): string => parts.map((p) => (typeof p === 'string' ? p : p.toString())).join('');

function section(text: string): SectionItem {
  const [token] = tokenizeString(text);
  const [item] = token ? parseFetchItems(token) : [];
  if (item?.kind !== 'section') throw new Error('not a section');
  return item;
}

describe('FETCH items', () => {
  it('expands macros and parses sections with partials', () => {
    const [token] = tokenizeString('FAST');
    expect(token && parseFetchItems(token).map((i) => (i.kind === 'simple' ? i.name : ''))).toEqual([
      'FLAGS',
      'INTERNALDATE',
      'RFC822.SIZE',
    ]);
    const item = section('BODY.PEEK[1.HEADER.FIELDS.NOT (Date)]<10.20>');
    expect(item).toMatchObject({
      peek: true,
      path: [1],
      specifier: 'HEADER.FIELDS.NOT',
      fields: ['DATE'],
      partial: { start: 10, length: 20 },
    });
    expect(sectionLabel(item)).toBe('BODY[1.HEADER.FIELDS.NOT (DATE)]<10>');
  });

  it('extracts whole message, header, text, parts, MIME headers and encapsulated headers', () => {
    expect(extractSection(content, section('BODY[]')).equals(raw)).toBe(true);
    expect(extractSection(content, section('BODY[HEADER]')).toString()).toMatch(/^From: .*\r\n\r\n$/s);
    expect(extractSection(content, section('BODY[1]')).toString()).toBe('Hello Bob');
    expect(extractSection(content, section('BODY[1.MIME]')).toString()).toBe(
      'Content-Type: text/plain; charset=utf-8\r\n\r\n',
    );
    expect(extractSection(content, section('BODY[2.HEADER]')).toString()).toBe(
      'Subject: Forwarded\r\nFrom: old@example.org\r\n\r\n',
    );
    expect(extractSection(content, section('BODY[2.TEXT]')).toString()).toBe('old body');
    expect(extractSection(content, section('BODY[2.1]')).toString()).toBe('old body');
    expect(extractSection(content, section('BODY[3]')).length).toBe(0);
    expect(extractSection(content, section('BODY[HEADER.FIELDS (SUBJECT MESSAGE-ID)]')).toString()).toBe(
      'Subject: Report\r\nMessage-ID: <r1@example.org>\r\n\r\n',
    );
    expect(extractSection(content, section('BODY[]<6.4>')).toString()).toBe('"Ann');
    expect(extractSection(content, section('BODY[]<100000.4>')).length).toBe(0);
  });

  it('encodes ENVELOPE with groups and BODYSTRUCTURE with extension data', () => {
    expect(wire(encodeEnvelope(content.structure))).toBe(
      '(NIL "Report" (("Ann Lee" NIL "ann" "example.org")) (("Ann Lee" NIL "ann" "example.org")) (("Ann Lee" NIL "ann" "example.org")) ' +
        '((NIL NIL "bob" "contoso.com")(NIL NIL "team" NIL)(NIL NIL "c" "contoso.com")(NIL NIL "d" "contoso.com")(NIL NIL NIL NIL)) NIL NIL NIL "<r1@example.org>")',
    );
    expect(wire(encodeBodyStructure(content.structure, false))).toBe(
      '(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 9 1)("message" "rfc822" NIL NIL NIL "7bit" 53 ' +
        '(NIL "Forwarded" ((NIL NIL "old" "example.org")) ((NIL NIL "old" "example.org")) ((NIL NIL "old" "example.org")) NIL NIL NIL NIL NIL) ' +
        '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 8 1) 4) "mixed")',
    );
    expect(wire(encodeBodyStructure(content.structure, true))).toMatch(/ "mixed" \("boundary" "XX"\) NIL NIL NIL\)$/);
  });
});
