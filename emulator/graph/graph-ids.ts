/**
 * Graph ids for the emulated store: opaque, URL-safe base64 strings shaped like Exchange's
 * (`AAMk…=` for messages, `AQMk…=` for folders), built from the store's own coordinates so a
 * lookup needs no index and survives a restart of the emulator (the journal keeps folder ids and
 * UIDs). A message id names its folder and UID: moving a message gives it a new id, as Graph does.
 *
 * @see https://learn.microsoft.com/graph/api/message-move (the moved message has a new id)
 * @see https://learn.microsoft.com/graph/outlook-immutable-id (ids are not immutable by default)
 */
import { createHash } from 'node:crypto';

const MESSAGE_PREFIX = 'AAMk';
const FOLDER_PREFIX = 'AQMk';
const ATTACHMENT_PREFIX = 'AAMkAtt';

const KIND_MESSAGE = 1;
const KIND_FOLDER = 2;
const KIND_ROOT = 3;
const KIND_ATTACHMENT = 4;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A message's place in the store. */
export interface MessageCoordinates {
  readonly folderId: string;
  readonly uid: number;
}

/** A folder reference decoded from a Graph id. */
export type FolderCoordinates =
  { readonly kind: 'folder'; readonly folderId: string } | { readonly kind: 'root'; readonly mailboxHash: string };

function uuidBytes(uuid: string): Buffer {
  if (!UUID.test(uuid)) throw new Error(`store id ${uuid} is not a UUID`);
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

function uuidOf(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function encode(prefix: string, bytes: Buffer): string {
  return `${prefix}${bytes.toString('base64url')}=`;
}

function decode(prefix: string, id: string): Buffer | undefined {
  if (!id.startsWith(prefix) || !id.endsWith('=')) return undefined;
  const body = id.slice(prefix.length, -1);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) return undefined;
  const bytes = Buffer.from(body, 'base64url');
  return bytes.toString('base64url') === body ? bytes : undefined;
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** The Graph id of the message with this UID in this folder. */
export function encodeMessageId(folderId: string, uid: number): string {
  return encode(MESSAGE_PREFIX, Buffer.concat([Buffer.from([KIND_MESSAGE]), uuidBytes(folderId), uint32(uid)]));
}

/** The folder and UID a message id names, or undefined when the id is malformed. */
export function decodeMessageId(id: string): MessageCoordinates | undefined {
  const bytes = decode(MESSAGE_PREFIX, id);
  if (bytes === undefined || bytes.length !== 21 || bytes[0] !== KIND_MESSAGE) return undefined;
  return { folderId: uuidOf(bytes.subarray(1, 17)), uid: bytes.readUInt32BE(17) };
}

/** The Graph id of a folder. */
export function encodeFolderId(folderId: string): string {
  return encode(FOLDER_PREFIX, Buffer.concat([Buffer.from([KIND_FOLDER]), uuidBytes(folderId)]));
}

function mailboxHash(address: string): Buffer {
  return createHash('sha256').update(address.toLowerCase()).digest().subarray(0, 16);
}

/** The Graph id of a mailbox's root folder (`msgfolderroot`), the parent of the top-level folders. */
export function rootFolderId(address: string): string {
  return encode(FOLDER_PREFIX, Buffer.concat([Buffer.from([KIND_ROOT]), mailboxHash(address)]));
}

/** What a folder id names, or undefined when it is malformed. */
export function decodeFolderId(id: string): FolderCoordinates | undefined {
  const bytes = decode(FOLDER_PREFIX, id);
  if (bytes === undefined || bytes.length !== 17) return undefined;
  if (bytes[0] === KIND_FOLDER) return { kind: 'folder', folderId: uuidOf(bytes.subarray(1)) };
  if (bytes[0] === KIND_ROOT) return { kind: 'root', mailboxHash: bytes.subarray(1).toString('hex') };
  return undefined;
}

/** Whether a decoded root id belongs to this mailbox. */
export function isRootOf(coordinates: FolderCoordinates, address: string): boolean {
  return coordinates.kind === 'root' && coordinates.mailboxHash === mailboxHash(address).toString('hex');
}

/** The Graph id of the n-th attachment of a message. */
export function encodeAttachmentId(message: MessageCoordinates, index: number): string {
  const position = Buffer.alloc(2);
  position.writeUInt16BE(index);
  return encode(
    ATTACHMENT_PREFIX,
    Buffer.concat([Buffer.from([KIND_ATTACHMENT]), uuidBytes(message.folderId), uint32(message.uid), position]),
  );
}

/** The message and position an attachment id names. */
export function decodeAttachmentId(id: string): (MessageCoordinates & { readonly index: number }) | undefined {
  const bytes = decode(ATTACHMENT_PREFIX, id);
  if (bytes === undefined || bytes.length !== 23 || bytes[0] !== KIND_ATTACHMENT) return undefined;
  return { folderId: uuidOf(bytes.subarray(1, 17)), uid: bytes.readUInt32BE(17), index: bytes.readUInt16BE(21) };
}

/**
 * The `changeKey` of a message version: it changes whenever the message changes (its flags; the
 * content never does). `@odata.etag` is `W/"changeKey"`.
 */
export function changeKeyOf(messageId: string, version: string): string {
  return `CQAAABYAAA${createHash('sha256').update(`${messageId}\n${version}`).digest().subarray(0, 15).toString('base64')}`;
}

/** A stable GUID-shaped id derived from a string (for directory objects the directory keeps no id for). */
export function guidOf(text: string): string {
  const hex = createHash('sha256').update(text.toLowerCase()).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
