/**
 * The emulated Exchange mail store: per mailbox, the folders and their messages, with UIDs and
 * UIDVALIDITY as IMAP requires, change notifications for IDLE, and optional persistence through a
 * journal in the emulator's data directory.
 *
 * Mailboxes are keyed by their primary SMTP address, lower-cased; a mailbox's storage is created
 * with Exchange's default folders the first time it is used.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-2.3.1.1
 * @see https://learn.microsoft.com/graph/api/resources/mailfolder (well-known folder names)
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_FOLDERS, MailFolder, type WellKnownFolder } from './mail-folder.js';
import { canonicalFlag, type MessageFlag } from './message-flags.js';
import { MessageContent, type StoredMessage } from './stored-message.js';
import type { StoreJournal } from './store-journal.js';
import type { ExchangeClock } from './exchange-clock.js';

/** How a flag update combines with the flags a message has. */
export type FlagMode = 'add' | 'remove' | 'replace';

/** Thrown for store operations that cannot be done; `code` lets protocol layers pick their reply. */
export class MailStoreError extends Error {
  constructor(
    readonly code: 'folder-exists' | 'folder-not-found' | 'folder-protected' | 'invalid-name',
    message: string,
  ) {
    super(message);
    this.name = 'MailStoreError';
  }
}

export interface AppendOptions {
  readonly flags?: Iterable<string>;
  readonly internalDate?: Date;
  /** The session making the change, so that it is not told about its own change. */
  readonly origin?: object;
}

export interface MailStoreOptions {
  readonly clock: ExchangeClock;
  readonly journal?: StoreJournal;
}

/** One mailbox's folders. */
export class MailboxFolders {
  private readonly byId = new Map<string, MailFolder>();

  constructor(readonly address: string) {}

  get all(): MailFolder[] {
    return [...this.byId.values()];
  }

  byIdOf(id: string): MailFolder | undefined {
    return this.byId.get(id);
  }

  /** Finds a folder by path; names compare case-insensitively, as Exchange's do. */
  byName(name: string): MailFolder | undefined {
    const wanted = normalizeName(name);
    for (const folder of this.byId.values()) if (normalizeName(folder.name) === wanted) return folder;
    return undefined;
  }

  wellKnown(name: WellKnownFolder): MailFolder {
    for (const folder of this.byId.values()) if (folder.wellKnown === name) return folder;
    throw new Error(`mailbox ${this.address} has no ${name} folder`);
  }

  add(folder: MailFolder): void {
    this.byId.set(folder.id, folder);
  }

  delete(id: string): void {
    this.byId.delete(id);
  }
}

export class MailStore {
  private readonly mailboxes = new Map<string, MailboxFolders>();
  private readonly clock: ExchangeClock;
  private readonly journal: StoreJournal | undefined;
  private nextValidity: number;

  constructor(options: MailStoreOptions) {
    this.clock = options.clock;
    this.journal = options.journal;
    // Time-based, so a folder recreated after a restart never reuses a UIDVALIDITY.
    this.nextValidity = Math.max(1, Math.floor(options.clock.now() / 1000) % 1_000_000_000);
    if (this.journal) this.journal.replay(this);
  }

  /** The mailbox's folders, created with Exchange's defaults on first use. */
  mailbox(address: string): MailboxFolders {
    const key = address.toLowerCase();
    let mailbox = this.mailboxes.get(key);
    if (!mailbox) {
      mailbox = new MailboxFolders(key);
      this.mailboxes.set(key, mailbox);
      for (const spec of DEFAULT_FOLDERS) {
        const folder = new MailFolder(
          randomUUID(),
          spec.name,
          this.allocateValidity(),
          1,
          spec.wellKnown,
          spec.specialUse,
        );
        mailbox.add(folder);
        this.journal?.record({
          op: 'folder',
          mailbox: key,
          id: folder.id,
          name: folder.name,
          uidValidity: folder.uidValidity,
          wellKnown: spec.wellKnown,
          specialUse: spec.specialUse,
        });
      }
    }
    return mailbox;
  }

  /** Addresses of the mailboxes that have storage. */
  get addresses(): string[] {
    return [...this.mailboxes.keys()];
  }

  /** Creates a folder; parents are implied by the `/` delimiter and need not exist. */
  createFolder(address: string, name: string): MailFolder {
    const mailbox = this.mailbox(address);
    const clean = validateName(name);
    if (mailbox.byName(clean)) throw new MailStoreError('folder-exists', `${clean} already exists`);
    const folder = new MailFolder(randomUUID(), clean, this.allocateValidity(), 1);
    mailbox.add(folder);
    this.journal?.record({
      op: 'folder',
      mailbox: mailbox.address,
      id: folder.id,
      name: folder.name,
      uidValidity: folder.uidValidity,
    });
    return folder;
  }

  /** Deletes a created folder (and the folders under it). Default folders cannot be deleted. */
  deleteFolder(address: string, name: string): void {
    const mailbox = this.mailbox(address);
    const folder = mailbox.byName(name);
    if (!folder) throw new MailStoreError('folder-not-found', `${name} doesn't exist`);
    if (folder.wellKnown) throw new MailStoreError('folder-protected', `${folder.name} cannot be deleted`);
    const prefix = `${normalizeName(folder.name)}/`;
    for (const candidate of mailbox.all) {
      if (candidate === folder || normalizeName(candidate.name).startsWith(prefix)) {
        mailbox.delete(candidate.id);
        this.journal?.record({ op: 'delete-folder', mailbox: mailbox.address, id: candidate.id });
        candidate.notify({ kind: 'removed' });
      }
    }
  }

  /** Renames a created folder and the folders under it. */
  renameFolder(address: string, from: string, to: string): void {
    const mailbox = this.mailbox(address);
    const folder = mailbox.byName(from);
    if (!folder) throw new MailStoreError('folder-not-found', `${from} doesn't exist`);
    if (folder.wellKnown) throw new MailStoreError('folder-protected', `${folder.name} cannot be renamed`);
    const target = validateName(to);
    if (mailbox.byName(target)) throw new MailStoreError('folder-exists', `${target} already exists`);
    const oldName = folder.name;
    const oldPrefix = `${normalizeName(oldName)}/`;
    for (const candidate of mailbox.all) {
      const lower = normalizeName(candidate.name);
      if (candidate !== folder && !lower.startsWith(oldPrefix)) continue;
      candidate.name = candidate === folder ? target : target + candidate.name.slice(oldName.length);
      this.journal?.record({ op: 'rename', mailbox: mailbox.address, id: candidate.id, name: candidate.name });
    }
  }

  setSubscribed(address: string, folder: MailFolder, subscribed: boolean): void {
    folder.subscribed = subscribed;
    this.journal?.record({ op: 'subscribe', mailbox: address.toLowerCase(), folder: folder.id, subscribed });
  }

  /** Stores a new message at the end of a folder. */
  append(
    address: string,
    folder: MailFolder,
    raw: Buffer | MessageContent,
    options: AppendOptions = {},
  ): StoredMessage {
    const content = raw instanceof MessageContent ? raw : new MessageContent(raw);
    // Parsed now rather than at the first FETCH: delivery is rare, a full fetch of a big folder is not.
    void content.structure;
    const message = this.insert(address, folder, content, options);
    folder.notify({ kind: 'append', messages: [message], origin: options.origin });
    return message;
  }

  /** Changes flags of these UIDs; returns the messages whose flags changed. */
  setFlags(
    address: string,
    folder: MailFolder,
    uids: Iterable<number>,
    mode: FlagMode,
    flags: Iterable<MessageFlag>,
    origin?: object,
  ): StoredMessage[] {
    const wanted = [...flags];
    const changed: StoredMessage[] = [];
    for (const uid of uids) {
      const message = folder.get(uid);
      if (!message) continue;
      const before = [...message.flags].sort().join(' ');
      const wasSeen = message.flags.has('\\Seen');
      if (mode === 'replace') message.flags.clear();
      for (const flag of wanted) {
        if (mode === 'remove') message.flags.delete(flag);
        else message.flags.add(flag);
      }
      if ([...message.flags].sort().join(' ') === before) continue;
      folder.noteSeenChange(wasSeen, message.flags.has('\\Seen'));
      changed.push(message);
      this.journal?.record({
        op: 'flags',
        mailbox: address.toLowerCase(),
        folder: folder.id,
        uid,
        flags: [...message.flags],
      });
    }
    if (changed.length > 0) folder.notify({ kind: 'flags', messages: changed, origin });
    return changed;
  }

  /**
   * Removes messages: those flagged \Deleted, or only the given UIDs among them (UID EXPUNGE), or
   * the given UIDs regardless of flags (`force`, used by MOVE and the control API).
   */
  expunge(
    address: string,
    folder: MailFolder,
    options: { uids?: Iterable<number>; force?: boolean; origin?: object } = {},
  ): number[] {
    const candidates = options.uids ? [...options.uids] : folder.messages.map((m) => m.uid);
    const doomed = candidates.filter((uid) => {
      const message = folder.get(uid);
      return message !== undefined && (options.force === true || message.flags.has('\\Deleted'));
    });
    const removed = folder.remove(doomed);
    if (removed.length === 0) return removed;
    this.journal?.record({ op: 'expunge', mailbox: address.toLowerCase(), folder: folder.id, uids: removed });
    folder.notify({ kind: 'expunge', uids: removed, origin: options.origin });
    return removed;
  }

  /** Copies messages into another folder; returns `[sourceUid, destinationUid]` pairs. */
  copy(
    address: string,
    from: MailFolder,
    uids: Iterable<number>,
    to: MailFolder,
    origin?: object,
  ): Array<[number, number]> {
    const pairs: Array<[number, number]> = [];
    const added: StoredMessage[] = [];
    for (const uid of uids) {
      const message = from.get(uid);
      if (!message) continue;
      const copy = this.insert(address, to, message.content, {
        flags: message.flags,
        internalDate: message.internalDate,
      });
      pairs.push([uid, copy.uid]);
      added.push(copy);
    }
    if (added.length > 0) to.notify({ kind: 'append', messages: added, origin });
    return pairs;
  }

  /** Moves messages: copy, then expunge from the source regardless of \Deleted. */
  move(
    address: string,
    from: MailFolder,
    uids: Iterable<number>,
    to: MailFolder,
    origin?: object,
  ): Array<[number, number]> {
    const pairs = this.copy(address, from, uids, to, origin);
    this.expunge(address, from, { uids: pairs.map(([source]) => source), force: true, origin });
    return pairs;
  }

  /**
   * Gives a folder a new UIDVALIDITY, its messages new UIDs from 1 (same content, flags, dates):
   * what a client sees when Exchange moves a mailbox to another database. Sessions that had the
   * folder selected see it gone (the caller drops their connections, as the move does).
   *
   * @see https://www.rfc-editor.org/rfc/rfc3501#section-2.3.1.1
   */
  renewUidValidity(address: string, name: string): MailFolder {
    const mailbox = this.mailbox(address);
    const old = mailbox.byName(name);
    if (!old) throw new MailStoreError('folder-not-found', `${name} doesn't exist`);
    const renewed = new MailFolder(old.id, old.name, this.allocateValidity(), 1, old.wellKnown, old.specialUse);
    renewed.subscribed = old.subscribed;
    mailbox.add(renewed);
    this.journal?.record({ op: 'delete-folder', mailbox: mailbox.address, id: old.id });
    this.journal?.record({
      op: 'folder',
      mailbox: mailbox.address,
      id: renewed.id,
      name: renewed.name,
      uidValidity: renewed.uidValidity,
      subscribed: renewed.subscribed,
      wellKnown: renewed.wellKnown,
      specialUse: renewed.specialUse,
    });
    for (const message of old.messages) {
      const moved: StoredMessage = { ...message, uid: renewed.uidNext, flags: new Set(message.flags) };
      renewed.insert(moved);
      this.journal?.recordAppend(mailbox.address, renewed, moved);
    }
    old.notify({ kind: 'removed' });
    return renewed;
  }

  /** Journal replay: recreates a folder exactly as recorded. */
  restoreFolder(address: string, folder: MailFolder): void {
    let mailbox = this.mailboxes.get(address);
    if (!mailbox) {
      mailbox = new MailboxFolders(address);
      this.mailboxes.set(address, mailbox);
    }
    mailbox.add(folder);
    this.nextValidity = Math.max(this.nextValidity, folder.uidValidity + 1);
  }

  /** Journal replay: the mailbox's folders without creating defaults. */
  existingMailbox(address: string): MailboxFolders | undefined {
    return this.mailboxes.get(address);
  }

  private insert(address: string, folder: MailFolder, content: MessageContent, options: AppendOptions): StoredMessage {
    const flags = new Set<MessageFlag>();
    for (const flag of options.flags ?? []) {
      const canonical = canonicalFlag(flag);
      if (canonical) flags.add(canonical);
    }
    const internalDate = options.internalDate ?? new Date(this.clock.now());
    const message: StoredMessage = { id: randomUUID(), uid: folder.uidNext, content, internalDate, flags };
    folder.insert(message);
    this.journal?.recordAppend(address.toLowerCase(), folder, message);
    return message;
  }

  private allocateValidity(): number {
    const value = this.nextValidity;
    this.nextValidity += 1;
    return value;
  }
}

function normalizeName(name: string): string {
  return name.toLowerCase();
}

function validateName(name: string): string {
  const clean = name.replace(/(?<!\/)\/+$/, '');
  if (clean === '' || clean.startsWith('/') || clean.includes('//') || /[\x00-\x1f]/.test(clean)) {
    throw new MailStoreError('invalid-name', `${name} is not a valid folder name`);
  }
  return clean;
}
