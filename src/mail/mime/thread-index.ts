/**
 * Outlook's conversation index, sent as the `Thread-Index` header (base64) beside `Thread-Topic`,
 * so that Outlook and Exchange keep a reply in its conversation even where they do not thread by
 * References. A first message gets a 22-byte header block (0x01, the time, a new GUID); a reply
 * copies its parent's index and appends a 5-byte response level (the time elapsed since the
 * header block, and a random byte).
 *
 * @see https://learn.microsoft.com/openspecs/exchange_server_protocols/ms-oxomsg/9e994fbb-b839-495f-84e3-2c8c02c7dd9b (PidTagConversationIndex)
 * @see https://learn.microsoft.com/office/client-developer/outlook/mapi/tracking-conversations
 * @see https://learn.microsoft.com/openspecs/exchange_server_protocols/ms-oxcmail (Thread-Index, Thread-Topic mapping)
 */

const HEADER_BYTES = 22;
const LEVEL_BYTES = 5;
/** 100-nanosecond intervals between 1601-01-01 and 1970-01-01, as FILETIME counts. */
const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n;
/** A conversation index holds at most this many response levels here; deeper threads start over. */
const MAX_LEVELS = 50;

/** Random bytes, injectable for tests. */
export type RandomBytes = (size: number) => Uint8Array;

/** The FILETIME (100 ns since 1601) of a date. */
function fileTimeOf(at: Date): bigint {
  return BigInt(at.getTime()) * 10_000n + FILETIME_UNIX_EPOCH;
}

/** A new conversation's index: 0x01, the 40 high bits of the FILETIME, a random GUID. */
export function newThreadIndex(at: Date, random: RandomBytes): Buffer {
  const index = Buffer.alloc(HEADER_BYTES);
  index[0] = 0x01;
  writeUint40(index, 1, fileTimeOf(at) >> 24n);
  const guid = Buffer.from(random(16));
  // RFC 9562 version 4 layout, so that the GUID is a well-formed random GUID.
  guid[6] = ((guid[6] ?? 0) & 0x0f) | 0x40;
  guid[8] = ((guid[8] ?? 0) & 0x3f) | 0x80;
  guid.copy(index, 6, 0, 16);
  return index;
}

/**
 * The index of a reply to a message whose index is `parent`: the parent's bytes plus one response
 * level. The delta code bit is 0 when the elapsed time fits 31 bits after dropping 18 low bits
 * (about 1.7 years), else 1 with 23 bits dropped.
 */
export function childThreadIndex(parent: Buffer, at: Date, random: RandomBytes): Buffer {
  const headerTime = readUint40(parent, 1) << 24n;
  let delta = fileTimeOf(at) - headerTime;
  if (delta < 0n) delta = 0n;
  const small = delta >> 18n < 0x8000_0000n;
  const value = small ? (delta >> 18n) & 0x7fff_ffffn : ((delta >> 23n) & 0x7fff_ffffn) | 0x8000_0000n;
  const level = Buffer.alloc(LEVEL_BYTES);
  level.writeUInt32BE(Number(value), 0);
  level[4] = random(1)[0] ?? 0;
  return Buffer.concat([parent, level]);
}

/**
 * A Thread-Index header value read back, or undefined when it is not a conversation index (wrong
 * length, wrong reserved byte, not base64) or is deeper than Postern extends.
 */
export function parseThreadIndex(value: string | null | undefined): Buffer | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length < HEADER_BYTES || (bytes.length - HEADER_BYTES) % LEVEL_BYTES !== 0) return undefined;
  if (bytes[0] !== 0x01 || (bytes.length - HEADER_BYTES) / LEVEL_BYTES >= MAX_LEVELS) return undefined;
  return bytes;
}

/** The index for an outgoing message: a reply level under the parent's index, else a new one. */
export function threadIndexFor(parentHeader: string | null | undefined, at: Date, random: RandomBytes): Buffer {
  const parent = parseThreadIndex(parentHeader);
  return parent === undefined ? newThreadIndex(at, random) : childThreadIndex(parent, at, random);
}

function writeUint40(buffer: Buffer, offset: number, value: bigint): void {
  for (let i = 4; i >= 0; i -= 1) buffer[offset + (4 - i)] = Number((value >> BigInt(8 * i)) & 0xffn);
}

function readUint40(buffer: Buffer, offset: number): bigint {
  let value = 0n;
  for (let i = 0; i < 5; i += 1) value = (value << 8n) | BigInt(buffer[offset + i] ?? 0);
  return value;
}
