/**
 * Persistence of the mail store in the emulator's data directory: an append-only journal of store
 * operations (`journal.jsonl`) and the raw messages as content-addressed files (`blobs/`). On open
 * the journal is replayed, then rewritten as a compact snapshot, so it never grows past one entry
 * per folder and message plus the changes since the last start.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { MailFolder } from './mail-folder.js';
import { canonicalFlag, type MessageFlag } from './message-flags.js';
import { MessageContent, type StoredMessage } from './stored-message.js';
import type { MailStore } from './mail-store.js';

const wellKnown = z.enum(['inbox', 'sentitems', 'junkemail', 'deleteditems', 'drafts']);
const specialUse = z.enum(['\\Sent', '\\Trash', '\\Junk', '\\Drafts']);

const entrySchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('folder'),
    mailbox: z.string(),
    id: z.string(),
    name: z.string(),
    uidValidity: z.number().int(),
    uidNext: z.number().int().optional(),
    subscribed: z.boolean().optional(),
    wellKnown: wellKnown.optional(),
    specialUse: specialUse.optional(),
  }),
  z.object({ op: z.literal('rename'), mailbox: z.string(), id: z.string(), name: z.string() }),
  z.object({ op: z.literal('delete-folder'), mailbox: z.string(), id: z.string() }),
  z.object({ op: z.literal('subscribe'), mailbox: z.string(), folder: z.string(), subscribed: z.boolean() }),
  z.object({
    op: z.literal('append'),
    mailbox: z.string(),
    folder: z.string(),
    uid: z.number().int(),
    id: z.string(),
    blob: z.string().regex(/^[0-9a-f]{64}$/),
    internalDate: z.number(),
    flags: z.array(z.string()),
  }),
  z.object({
    op: z.literal('flags'),
    mailbox: z.string(),
    folder: z.string(),
    uid: z.number().int(),
    flags: z.array(z.string()),
  }),
  z.object({ op: z.literal('expunge'), mailbox: z.string(), folder: z.string(), uids: z.array(z.number().int()) }),
]);

/** One journal line. */
export type JournalEntry = z.infer<typeof entrySchema>;

/** What the mail store records; `undefined` journal means memory only. */
export interface StoreJournal {
  record(entry: Exclude<JournalEntry, { op: 'append' }>): void;
  recordAppend(mailbox: string, folder: MailFolder, message: StoredMessage): void;
  replay(store: MailStore): void;
}

/** A journal in `<dir>/journal.jsonl` with message files under `<dir>/blobs/`. */
export class FileStoreJournal implements StoreJournal {
  private readonly journalPath: string;
  private readonly blobDir: string;
  private replaying = false;

  constructor(readonly dir: string) {
    this.journalPath = join(dir, 'journal.jsonl');
    this.blobDir = join(dir, 'blobs');
    mkdirSync(this.blobDir, { recursive: true });
  }

  record(entry: Exclude<JournalEntry, { op: 'append' }>): void {
    if (this.replaying) return;
    appendFileSync(this.journalPath, `${JSON.stringify(entry)}\n`);
  }

  recordAppend(mailbox: string, folder: MailFolder, message: StoredMessage): void {
    if (this.replaying) return;
    const blob = this.writeBlob(message.content.raw);
    const entry: JournalEntry = {
      op: 'append',
      mailbox,
      folder: folder.id,
      uid: message.uid,
      id: message.id,
      blob,
      internalDate: message.internalDate.getTime(),
      flags: [...message.flags],
    };
    appendFileSync(this.journalPath, `${JSON.stringify(entry)}\n`);
  }

  replay(store: MailStore): void {
    if (!existsSync(this.journalPath)) return;
    this.replaying = true;
    try {
      const blobs = new Map<string, MessageContent>();
      const recordedUidNext = new Map<MailFolder, number>();
      for (const line of readFileSync(this.journalPath, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        const parsed = entrySchema.safeParse(safeJson(line));
        // A torn last line (crash mid-write) is skipped; everything before it is kept.
        if (!parsed.success) continue;
        const folder = this.apply(store, parsed.data, blobs);
        if (folder && parsed.data.op === 'folder' && parsed.data.uidNext !== undefined)
          recordedUidNext.set(folder, parsed.data.uidNext);
      }
      // UIDNEXT survives expunges of the last messages: restore it once every append is replayed.
      for (const [folder, uidNext] of recordedUidNext) folder.uidNext = Math.max(folder.uidNext, uidNext);
    } finally {
      this.replaying = false;
    }
    this.compact(store);
  }

  /** Applies one entry; returns the folder an entry created. */
  private apply(store: MailStore, entry: JournalEntry, blobs: Map<string, MessageContent>): MailFolder | undefined {
    const mailbox = store.existingMailbox(entry.mailbox);
    switch (entry.op) {
      case 'folder': {
        const folder = new MailFolder(entry.id, entry.name, entry.uidValidity, 1, entry.wellKnown, entry.specialUse);
        if (entry.subscribed !== undefined) folder.subscribed = entry.subscribed;
        store.restoreFolder(entry.mailbox, folder);
        return folder;
      }
      case 'rename': {
        const folder = mailbox?.byIdOf(entry.id);
        if (folder) folder.name = entry.name;
        return;
      }
      case 'delete-folder':
        mailbox?.delete(entry.id);
        return;
      case 'subscribe': {
        const folder = mailbox?.byIdOf(entry.folder);
        if (folder) folder.subscribed = entry.subscribed;
        return;
      }
      case 'append': {
        const folder = mailbox?.byIdOf(entry.folder);
        if (!folder || entry.uid < folder.uidNext) return;
        let content = blobs.get(entry.blob);
        if (!content) {
          const path = join(this.blobDir, `${entry.blob}.eml`);
          if (!existsSync(path)) return;
          content = new MessageContent(readFileSync(path));
          blobs.set(entry.blob, content);
        }
        folder.insert({
          id: entry.id,
          uid: entry.uid,
          content,
          internalDate: new Date(entry.internalDate),
          flags: toFlags(entry.flags),
        });
        return;
      }
      case 'flags': {
        const folder = mailbox?.byIdOf(entry.folder);
        const message = folder?.get(entry.uid);
        if (!folder || !message) return;
        const wasSeen = message.flags.has('\\Seen');
        message.flags.clear();
        for (const flag of toFlags(entry.flags)) message.flags.add(flag);
        folder.noteSeenChange(wasSeen, message.flags.has('\\Seen'));
        return;
      }
      case 'expunge':
        mailbox?.byIdOf(entry.folder)?.remove(entry.uids);
        return;
    }
  }

  /** Rewrites the journal as one entry per folder and message. */
  private compact(store: MailStore): void {
    const lines: string[] = [];
    for (const address of store.addresses) {
      const mailbox = store.existingMailbox(address);
      if (!mailbox) continue;
      for (const folder of mailbox.all) {
        const folderEntry: JournalEntry = {
          op: 'folder',
          mailbox: address,
          id: folder.id,
          name: folder.name,
          uidValidity: folder.uidValidity,
          uidNext: folder.uidNext,
          subscribed: folder.subscribed,
          wellKnown: folder.wellKnown,
          specialUse: folder.specialUse,
        };
        lines.push(JSON.stringify(folderEntry));
        for (const message of folder.messages) {
          const entry: JournalEntry = {
            op: 'append',
            mailbox: address,
            folder: folder.id,
            uid: message.uid,
            id: message.id,
            blob: this.writeBlob(message.content.raw),
            internalDate: message.internalDate.getTime(),
            flags: [...message.flags],
          };
          lines.push(JSON.stringify(entry));
        }
      }
    }
    const temporary = `${this.journalPath}.tmp`;
    writeFileSync(temporary, lines.length > 0 ? `${lines.join('\n')}\n` : '');
    renameSync(temporary, this.journalPath);
  }

  private writeBlob(raw: Buffer): string {
    const hash = createHash('sha256').update(raw).digest('hex');
    const path = join(this.blobDir, `${hash}.eml`);
    if (!existsSync(path)) writeFileSync(path, raw);
    return hash;
  }
}

function toFlags(flags: readonly string[]): Set<MessageFlag> {
  const out = new Set<MessageFlag>();
  for (const flag of flags) {
    const canonical = canonicalFlag(flag);
    if (canonical) out.add(canonical);
  }
  return out;
}

function safeJson(line: string): unknown {
  try {
    const value: unknown = JSON.parse(line);
    return value;
  } catch {
    return undefined;
  }
}
