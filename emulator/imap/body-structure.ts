/**
 * The BODY and BODYSTRUCTURE data items, built from the MIME tree of a stored message.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-7.4.2 (BODYSTRUCTURE)
 */
import {
  findHeader,
  parseParameterizedValue,
  type MimePart,
  type ParameterizedValue,
} from '../exchange/mime-structure.js';
import { encodeEnvelope } from './envelope.js';
import { imapNString, imapString, joinParts, parenthesize, type WirePart } from './wire.js';

/** BODYSTRUCTURE (`extended`) or BODY (basic fields only). */
export function encodeBodyStructure(part: MimePart, extended: boolean): WirePart[] {
  if (part.type === 'multipart') return encodeMultipart(part, extended);
  return encodeSinglePart(part, extended);
}

function encodeMultipart(part: MimePart, extended: boolean): WirePart[] {
  const out: WirePart[] = ['('];
  if (part.children.length === 0) {
    // A multipart without recognisable parts still needs one body (RFC 3501 body-type-mpart).
    out.push('("text" "plain" NIL NIL NIL "7bit" 0 0)');
  }
  for (const child of part.children) out.push(...encodeBodyStructure(child, extended));
  out.push(' ', ...imapString(part.subtype));
  if (extended) {
    out.push(
      ' ',
      ...encodeParams(part.contentType),
      ' ',
      ...encodeDisposition(part),
      ' ',
      ...encodeLanguage(part),
      ' ',
      ...imapNString(findHeader(part, 'content-location')),
    );
  }
  out.push(')');
  return out;
}

function encodeSinglePart(part: MimePart, extended: boolean): WirePart[] {
  const encoding = (findHeader(part, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  const fields: WirePart[][] = [
    imapString(part.type),
    imapString(part.subtype),
    encodeParams(part.contentType),
    imapNString(findHeader(part, 'content-id')),
    imapNString(findHeader(part, 'content-description')),
    imapString(encoding === '' ? '7bit' : encoding),
    [String(part.bodyEnd - part.bodyStart)],
  ];
  if (part.type === 'message' && part.subtype === 'rfc822' && part.message) {
    fields.push(encodeEnvelope(part.message), encodeBodyStructure(part.message, extended), [String(part.lines)]);
  } else if (part.type === 'text') {
    fields.push([String(part.lines)]);
  }
  if (extended) {
    fields.push(
      imapNString(findHeader(part, 'content-md5')),
      encodeDisposition(part),
      encodeLanguage(part),
      imapNString(findHeader(part, 'content-location')),
    );
  }
  return parenthesize(joinParts(fields));
}

function encodeParams(value: ParameterizedValue): WirePart[] {
  if (value.params.length === 0) return ['NIL'];
  return parenthesize(joinParts(value.params.flatMap(([name, param]) => [imapString(name), imapString(param)])));
}

function encodeDisposition(part: MimePart): WirePart[] {
  const header = findHeader(part, 'content-disposition');
  if (header === undefined) return ['NIL'];
  const disposition = parseParameterizedValue(header);
  if (disposition.value === '') return ['NIL'];
  return parenthesize([...imapString(disposition.value), ' ', ...encodeParams(disposition)]);
}

function encodeLanguage(part: MimePart): WirePart[] {
  const header = findHeader(part, 'content-language');
  if (header === undefined || header.trim() === '') return ['NIL'];
  const languages = header
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return parenthesize(joinParts(languages.map((l) => imapString(l))));
}
