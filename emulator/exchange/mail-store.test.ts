import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FolderChange } from './mail-folder.js';
import { MailStore, MailStoreError } from './mail-store.js';
import { FileStoreJournal } from './store-journal.js';

const clock = { now: () => Date.UTC(2025, 0, 15) };
const A = 'andrea@contoso.com';
const msg = (subject: string): Buffer => Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`);
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('MailStore', () => {
  it('creates Exchange default folders with distinct UIDVALIDITY on first use', () => {
    const store = new MailStore({ clock });
    const mailbox = store.mailbox('Andrea@Contoso.com');
    expect(mailbox.all.map((f) => f.name).sort()).toEqual([
      'Deleted Items',
      'Drafts',
      'Inbox',
      'Junk Email',
      'Sent Items',
    ]);
    expect(new Set(mailbox.all.map((f) => f.uidValidity)).size).toBe(5);
    expect(store.mailbox(A)).toBe(mailbox);
    expect(mailbox.byName('INBOX')).toBe(mailbox.wellKnown('inbox'));
  });

  it('assigns ascending UIDs, never reuses one after expunge, and tracks unseen', () => {
    const store = new MailStore({ clock });
    const inbox = store.mailbox(A).wellKnown('inbox');
    const one = store.append(A, inbox, msg('one'));
    const two = store.append(A, inbox, msg('two'), { flags: ['\\Seen', '$Label'] });
    expect([one.uid, two.uid]).toEqual([1, 2]);
    expect([...two.flags]).toEqual(['\\Seen']);
    expect(inbox.unseen).toBe(1);
    store.setFlags(A, inbox, [1], 'add', ['\\Deleted']);
    expect(store.expunge(A, inbox)).toEqual([1]);
    expect(store.append(A, inbox, msg('three')).uid).toBe(3);
    expect(inbox.messages.map((m) => m.uid)).toEqual([2, 3]);
    expect(inbox.unseen).toBe(1);
  });

  it('notifies watchers with the origin of each change', () => {
    const store = new MailStore({ clock });
    const inbox = store.mailbox(A).wellKnown('inbox');
    const seen: FolderChange[] = [];
    const stop = inbox.watch((change) => seen.push(change));
    const session = {};
    store.append(A, inbox, msg('x'));
    store.setFlags(A, inbox, [1], 'add', ['\\Seen'], session);
    store.setFlags(A, inbox, [1], 'add', ['\\Seen'], session);
    store.expunge(A, inbox, { uids: [1], force: true });
    stop();
    store.append(A, inbox, msg('unheard'));
    expect(seen.map((c) => c.kind)).toEqual(['append', 'flags', 'expunge']);
    expect(seen[1]?.origin).toBe(session);
  });

  it('copies and moves with UID pairs, sharing the content', () => {
    const store = new MailStore({ clock });
    const mailbox = store.mailbox(A);
    const inbox = mailbox.wellKnown('inbox');
    const archive = store.createFolder(A, 'Archive/2025');
    const original = store.append(A, inbox, msg('keep'), { flags: ['\\Flagged'] });
    store.append(A, inbox, msg('move'));
    expect(store.copy(A, inbox, [1], archive)).toEqual([[1, 1]]);
    expect(archive.get(1)?.content).toBe(original.content);
    expect([...(archive.get(1)?.flags ?? [])]).toEqual(['\\Flagged']);
    expect(store.move(A, inbox, [2, 99], archive)).toEqual([[2, 2]]);
    expect(inbox.messages.map((m) => m.uid)).toEqual([1]);
  });

  it('creates, renames and deletes folders, protecting the default ones', () => {
    const store = new MailStore({ clock });
    store.createFolder(A, 'Projects');
    store.createFolder(A, 'Projects/Alpha');
    expect(() => store.createFolder(A, 'projects')).toThrow(MailStoreError);
    store.renameFolder(A, 'Projects', 'Work');
    expect(store.mailbox(A).byName('Work/Alpha')).toBeDefined();
    expect(() => store.deleteFolder(A, 'Inbox')).toThrow(/cannot be deleted/);
    store.deleteFolder(A, 'Work');
    expect(store.mailbox(A).byName('Work/Alpha')).toBeUndefined();
  });

  it('persists through the journal and restores folders, UIDs, flags and UIDNEXT', () => {
    const dir = mkdtempSync(join(tmpdir(), 'exchange-store-'));
    dirs.push(dir);
    const first = new MailStore({ clock, journal: new FileStoreJournal(dir) });
    const inbox = first.mailbox(A).wellKnown('inbox');
    first.append(A, inbox, msg('one'));
    first.append(A, inbox, msg('two'));
    first.setFlags(A, inbox, [2], 'replace', ['\\Seen', '\\Answered']);
    first.expunge(A, inbox, { uids: [1], force: true });
    const custom = first.createFolder(A, 'Customers');
    first.append(A, custom, msg('copy of two'));
    first.setSubscribed(A, custom, false);

    const second = new MailStore({ clock, journal: new FileStoreJournal(dir) });
    const restored = second.mailbox(A).wellKnown('inbox');
    expect(restored.uidValidity).toBe(inbox.uidValidity);
    expect(restored.messages.map((m) => [m.uid, [...m.flags].sort()])).toEqual([[2, ['\\Answered', '\\Seen']]]);
    expect(restored.uidNext).toBe(3);
    expect(restored.get(2)?.content.header('subject')).toBe('two');
    expect(second.mailbox(A).byName('Customers')?.subscribed).toBe(false);
    expect(second.append(A, restored, msg('three')).uid).toBe(3);

    // A third start replays the compacted journal plus the append made by the second.
    const third = new MailStore({ clock, journal: new FileStoreJournal(dir) });
    expect(
      third
        .mailbox(A)
        .wellKnown('inbox')
        .messages.map((m) => m.uid),
    ).toEqual([2, 3]);
  });

  it("renews a folder's UIDVALIDITY: UIDs from 1, flags kept, sessions told it is gone, and the journal keeps it", () => {
    const dir = mkdtempSync(join(tmpdir(), 'exchange-store-'));
    dirs.push(dir);
    const store = new MailStore({ clock, journal: new FileStoreJournal(dir) });
    const inbox = store.mailbox(A).wellKnown('inbox');
    for (const subject of ['one', 'two', 'three']) store.append(A, inbox, msg(subject));
    store.expunge(A, inbox, { uids: [1], force: true });
    store.setFlags(A, inbox, [3], 'add', ['\\Flagged']);
    const changes: FolderChange[] = [];
    inbox.watch((change) => changes.push(change));

    const renewed = store.renewUidValidity(A, 'INBOX');
    expect(renewed.uidValidity).not.toBe(inbox.uidValidity);
    expect(store.mailbox(A).wellKnown('inbox')).toBe(renewed);
    expect(renewed.messages.map((m) => [m.uid, m.content.header('subject'), [...m.flags]])).toEqual([
      [1, 'two', []],
      [2, 'three', ['\\Flagged']],
    ]);
    expect(renewed.uidNext).toBe(3);
    expect(changes.map((change) => change.kind)).toEqual(['removed']);
    expect(() => store.renewUidValidity(A, 'Nowhere')).toThrow(MailStoreError);

    const restored = new MailStore({ clock, journal: new FileStoreJournal(dir) }).mailbox(A).wellKnown('inbox');
    expect(restored.uidValidity).toBe(renewed.uidValidity);
    expect(restored.messages.map((m) => [m.uid, m.content.header('subject')])).toEqual([
      [1, 'two'],
      [2, 'three'],
    ]);
  });
});
