import { describe, expect, it } from 'vitest';
import { systemClock } from '../exchange/exchange-clock.js';
import { MailStore } from '../exchange/mail-store.js';
import { GraphError } from './graph-errors.js';
import { encodeFolderId, encodeMessageId } from './graph-ids.js';
import { displayNameOf, GraphMailbox } from './graph-mailbox.js';

const ADDRESS = 'andrea@contoso.com';

function mailbox(): GraphMailbox {
  return new GraphMailbox(new MailStore({ clock: systemClock }), ADDRESS);
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof GraphError) return error.code;
    throw error;
  }
  return undefined;
}

describe('GraphMailbox', () => {
  it('resolves well-known names case-insensitively, folder ids, and the root', () => {
    const box = mailbox();
    const inbox = box.folders.wellKnown('inbox');
    expect(box.requireFolder('Inbox')).toBe(inbox);
    expect(box.requireFolder(encodeFolderId(inbox.id))).toBe(inbox);
    expect(box.resolveFolder('msgfolderroot')).toEqual({ kind: 'root' });
    expect(box.resolveFolder(box.rootId)).toEqual({ kind: 'root' });
    expect(codeOf(() => box.resolveFolder('archive'))).toBe('ErrorInvalidIdMalformed');
    expect(codeOf(() => box.resolveFolder(encodeFolderId('00000000-0000-4000-8000-000000000000')))).toBe(
      'ErrorItemNotFound',
    );
    expect(codeOf(() => box.resolveFolder(new GraphMailbox(box.store, 'marco@contoso.com').rootId))).toBe(
      'ErrorItemNotFound',
    );
  });

  it('builds the hierarchy from the store’s /-separated names', () => {
    const box = mailbox();
    const sub = box.store.createFolder(ADDRESS, 'Inbox/Customers');
    box.store.createFolder(ADDRESS, 'Inbox/Customers/Acme');
    const inbox = box.folders.wellKnown('inbox');
    expect(box.childrenOf({ kind: 'root' }).map(displayNameOf)).toEqual([
      'Inbox',
      'Drafts',
      'Sent Items',
      'Deleted Items',
      'Junk Email',
    ]);
    expect(box.childrenOf({ kind: 'folder', folder: inbox }).map(displayNameOf)).toEqual(['Customers']);
    expect(box.parentIdOf(sub)).toBe(encodeFolderId(inbox.id));
    expect(box.parentIdOf(inbox)).toBe(box.rootId);
  });

  it('finds messages by id and no longer after they moved', () => {
    const box = mailbox();
    const inbox = box.folders.wellKnown('inbox');
    const stored = box.store.append(ADDRESS, inbox, Buffer.from('Subject: hi\r\n\r\nbody'));
    const id = encodeMessageId(inbox.id, stored.uid);
    expect(box.findMessage(id).message).toBe(stored);
    box.store.move(ADDRESS, inbox, [stored.uid], box.folders.wellKnown('deleteditems'));
    expect(codeOf(() => box.findMessage(id))).toBe('ErrorItemNotFound');
    expect(codeOf(() => box.findMessage('AAMk='))).toBe('ErrorInvalidIdMalformed');
  });
});
