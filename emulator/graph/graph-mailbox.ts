/**
 * One mailbox of the Exchange mail store as Graph addresses it: folders by well-known name
 * (`inbox`, `sentitems`, `junkemail`, `deleteditems`, `drafts`, `msgfolderroot`, case-insensitive)
 * or by id, the folder hierarchy (the store's `/`-separated names under the root folder), and
 * messages by id. Malformed ids answer `ErrorInvalidIdMalformed`, unknown ones `ErrorItemNotFound`.
 *
 * @see https://learn.microsoft.com/graph/api/resources/mailfolder (well-known folder names)
 */
import type { MailFolder, WellKnownFolder } from '../exchange/mail-folder.js';
import type { MailStore, MailboxFolders } from '../exchange/mail-store.js';
import type { StoredMessage } from '../exchange/stored-message.js';
import { graphErrors } from './graph-errors.js';
import {
  decodeFolderId,
  decodeMessageId,
  encodeFolderId,
  encodeMessageId,
  isRootOf,
  rootFolderId,
} from './graph-ids.js';

const WELL_KNOWN: readonly WellKnownFolder[] = ['inbox', 'sentitems', 'junkemail', 'deleteditems', 'drafts'];

/** A folder Graph can name: the root, or a folder of the store. */
export type FolderRef = { readonly kind: 'root' } | { readonly kind: 'folder'; readonly folder: MailFolder };

/** A message located in its folder. */
export interface LocatedMessage {
  readonly folder: MailFolder;
  readonly message: StoredMessage;
}

/** One mailbox of the store, addressed the Graph way. */
export class GraphMailbox {
  constructor(
    readonly store: MailStore,
    /** Primary SMTP address, lower-cased (the mail store's key). */
    readonly address: string,
  ) {}

  get folders(): MailboxFolders {
    return this.store.mailbox(this.address);
  }

  get rootId(): string {
    return rootFolderId(this.address);
  }

  /** Resolves a folder reference from a URL or a request body. */
  resolveFolder(ref: string): FolderRef {
    const lower = ref.toLowerCase();
    if (lower === 'msgfolderroot') return { kind: 'root' };
    const wellKnown = WELL_KNOWN.find((name) => name === lower);
    if (wellKnown !== undefined) return { kind: 'folder', folder: this.folders.wellKnown(wellKnown) };
    const decoded = decodeFolderId(ref);
    if (decoded === undefined) throw graphErrors.idMalformed();
    if (decoded.kind === 'root') {
      if (!isRootOf(decoded, this.address)) throw graphErrors.itemNotFound();
      return { kind: 'root' };
    }
    const folder = this.folders.byIdOf(decoded.folderId);
    if (folder === undefined) throw graphErrors.itemNotFound();
    return { kind: 'folder', folder };
  }

  /** A folder that holds messages (the root holds none here). */
  requireFolder(ref: string): MailFolder {
    const resolved = this.resolveFolder(ref);
    if (resolved.kind === 'root') throw graphErrors.itemNotFound();
    return resolved.folder;
  }

  /** The message a Graph id names, in this mailbox. */
  findMessage(id: string): LocatedMessage {
    const coordinates = decodeMessageId(id);
    if (coordinates === undefined) throw graphErrors.idMalformed();
    const folder = this.folders.byIdOf(coordinates.folderId);
    const message = folder?.get(coordinates.uid);
    if (folder === undefined || message === undefined) throw graphErrors.itemNotFound();
    return { folder, message };
  }

  /** The folders directly under a folder (or under the root), in the store's order. */
  childrenOf(ref: FolderRef): MailFolder[] {
    const all = this.folders.all;
    if (ref.kind === 'root') return all.filter((f) => !f.name.includes('/'));
    const prefix = `${ref.folder.name.toLowerCase()}/`;
    return all.filter((f) => f.name.toLowerCase().startsWith(prefix) && !f.name.slice(prefix.length).includes('/'));
  }

  /** The Graph id of a folder's parent (the root for top-level folders). */
  parentIdOf(folder: MailFolder): string {
    const slash = folder.name.lastIndexOf('/');
    if (slash === -1) return this.rootId;
    const parent = this.folders.byName(folder.name.slice(0, slash));
    return parent === undefined ? this.rootId : encodeFolderId(parent.id);
  }

  /** Every message of the mailbox with its folder. */
  allMessages(): LocatedMessage[] {
    return this.folders.all.flatMap((folder) => folder.messages.map((message) => ({ folder, message })));
  }

  messageId(folder: MailFolder, message: StoredMessage): string {
    return encodeMessageId(folder.id, message.uid);
  }
}

/** The last segment of a folder's path: its Graph `displayName`. */
export function displayNameOf(folder: MailFolder): string {
  const slash = folder.name.lastIndexOf('/');
  return slash === -1 ? folder.name : folder.name.slice(slash + 1);
}
