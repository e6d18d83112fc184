/**
 * One folder of an emulated mailbox: its messages in ascending UID order, UIDNEXT and UIDVALIDITY,
 * and the listeners (IMAP sessions) to tell when its contents change.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-2.3.1.1 (UIDs, UIDVALIDITY, UIDNEXT)
 */
import type { StoredMessage } from './stored-message.js';

/** Graph's well-known names of the folders every Exchange mailbox has. */
export type WellKnownFolder = 'inbox' | 'sentitems' | 'junkemail' | 'deleteditems' | 'drafts';

/** RFC 6154 special-use attributes, as Exchange Online puts them in LIST responses. */
export type SpecialUse = '\\Sent' | '\\Trash' | '\\Junk' | '\\Drafts';

/** The default folders of a new mailbox, in the order Exchange creates them. */
export const DEFAULT_FOLDERS: ReadonlyArray<{ name: string; wellKnown: WellKnownFolder; specialUse?: SpecialUse }> = [
  { name: 'Inbox', wellKnown: 'inbox' },
  { name: 'Drafts', wellKnown: 'drafts', specialUse: '\\Drafts' },
  { name: 'Sent Items', wellKnown: 'sentitems', specialUse: '\\Sent' },
  { name: 'Deleted Items', wellKnown: 'deleteditems', specialUse: '\\Trash' },
  { name: 'Junk Email', wellKnown: 'junkemail', specialUse: '\\Junk' },
];

/** What changed in a folder. `origin` identifies the session that made the change, if any. */
export type FolderChange =
  | { readonly kind: 'append'; readonly messages: readonly StoredMessage[]; readonly origin?: object }
  | { readonly kind: 'expunge'; readonly uids: readonly number[]; readonly origin?: object }
  | { readonly kind: 'flags'; readonly messages: readonly StoredMessage[]; readonly origin?: object }
  | { readonly kind: 'removed'; readonly origin?: object };

export type FolderListener = (change: FolderChange) => void;

export class MailFolder {
  private readonly messageList: StoredMessage[] = [];
  private readonly byUid = new Map<number, StoredMessage>();
  private readonly listeners = new Set<FolderListener>();
  private unseenCount = 0;
  subscribed = true;

  constructor(
    readonly id: string,
    public name: string,
    readonly uidValidity: number,
    public uidNext: number,
    readonly wellKnown?: WellKnownFolder,
    readonly specialUse?: SpecialUse,
  ) {}

  /** Messages in ascending UID order. Callers must not mutate the array. */
  get messages(): readonly StoredMessage[] {
    return this.messageList;
  }

  get size(): number {
    return this.messageList.length;
  }

  get unseen(): number {
    return this.unseenCount;
  }

  get(uid: number): StoredMessage | undefined {
    return this.byUid.get(uid);
  }

  /** Adds a message whose UID is at least UIDNEXT; advances UIDNEXT past it. */
  insert(message: StoredMessage): void {
    if (message.uid < this.uidNext) throw new Error(`UID ${message.uid} is below UIDNEXT ${this.uidNext}`);
    this.messageList.push(message);
    this.byUid.set(message.uid, message);
    this.uidNext = message.uid + 1;
    if (!message.flags.has('\\Seen')) this.unseenCount += 1;
  }

  /** Removes these UIDs; returns those that were present, ascending. */
  remove(uids: Iterable<number>): number[] {
    const doomed = new Set<number>();
    for (const uid of uids) if (this.byUid.has(uid)) doomed.add(uid);
    if (doomed.size === 0) return [];
    let write = 0;
    for (const message of this.messageList) {
      if (doomed.has(message.uid)) {
        this.byUid.delete(message.uid);
        if (!message.flags.has('\\Seen')) this.unseenCount -= 1;
        continue;
      }
      this.messageList[write] = message;
      write += 1;
    }
    this.messageList.length = write;
    return [...doomed].sort((a, b) => a - b);
  }

  /** Keeps the unseen counter right when a message's \Seen flag is about to change. */
  noteSeenChange(wasSeen: boolean, isSeen: boolean): void {
    if (wasSeen && !isSeen) this.unseenCount += 1;
    if (!wasSeen && isSeen) this.unseenCount -= 1;
  }

  watch(listener: FolderListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(change: FolderChange): void {
    for (const listener of [...this.listeners]) listener(change);
  }
}
