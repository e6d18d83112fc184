/**
 * The ENVELOPE data item, built from the top-level header of a message.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-7.4.2 (ENVELOPE)
 */
import { parseAddressList, type ParsedAddress } from '../exchange/address-list.js';
import { findHeader, type MimePart } from '../exchange/mime-structure.js';
import { imapNString, parenthesize, type WirePart } from './wire.js';

/** `(date subject from sender reply-to to cc bcc in-reply-to message-id)`. */
export function encodeEnvelope(part: MimePart): WirePart[] {
  const header = (name: string): string | undefined => findHeader(part, name);
  const from = header('from');
  const out: WirePart[] = ['('];
  out.push(...imapNString(header('date')), ' ', ...imapNString(header('subject')), ' ');
  out.push(...addresses(from), ' ');
  // RFC 3501: sender and reply-to default to from when absent.
  out.push(...addresses(header('sender') ?? from), ' ');
  out.push(...addresses(header('reply-to') ?? from), ' ');
  out.push(...addresses(header('to')), ' ', ...addresses(header('cc')), ' ', ...addresses(header('bcc')), ' ');
  out.push(...imapNString(header('in-reply-to')), ' ', ...imapNString(header('message-id')), ')');
  return out;
}

function addresses(value: string | undefined): WirePart[] {
  if (value === undefined || value.trim() === '') return ['NIL'];
  const parsed = parseAddressList(value);
  if (parsed.length === 0) return ['NIL'];
  const out: WirePart[] = [];
  for (const address of parsed) out.push(...parenthesize(addressParts(address)));
  return parenthesize(out);
}

function addressParts(address: ParsedAddress): WirePart[] {
  return [...imapNString(address.name), ' NIL ', ...imapNString(address.mailbox), ' ', ...imapNString(address.host)];
}
