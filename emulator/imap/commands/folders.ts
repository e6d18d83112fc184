/**
 * Folder commands: LIST / LSUB, STATUS, CREATE, DELETE, RENAME, SUBSCRIBE / UNSUBSCRIBE.
 * LIST answers as Exchange Online does: `/` delimiter, `\HasChildren`/`\HasNoChildren`, the
 * special-use attributes on its default folders, and the Inbox as `INBOX`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.3
 * @see https://www.rfc-editor.org/rfc/rfc6154 (special-use attributes)
 */
import type { MailFolder } from '../../exchange/mail-folder.js';
import { MailStoreError } from '../../exchange/mail-store.js';
import { ArgumentError, astring, at, atom, expectCount, list } from '../arguments.js';
import type { CommandHandler } from '../command-registry.js';
import { toFolderPath, toWireName } from '../mailbox-name.js';
import { REPLY, completed, doesNotExist } from '../replies.js';
import type { ImapSession } from '../session.js';
import { mailboxAstring } from '../wire.js';

export const listCommand: CommandHandler = async (session, command) => {
  expectCount(command.args, 2);
  const reference = astring(at(command.args, 0));
  const pattern = astring(at(command.args, 1));
  const verb = command.name;
  if (pattern === '') {
    // RFC 3501: an empty pattern asks for the hierarchy delimiter.
    session.writer.line(`* ${verb} (\\Noselect) "/" ""`);
    return { status: 'OK', text: completed(verb) };
  }
  const matcher = patternToRegExp(toFolderPath(reference + pattern));
  const folders = foldersOf(session)
    .filter((folder) => verb === 'LIST' || folder.subscribed)
    .filter((folder) => matcher.test(folder.name))
    .sort((a, b) => toWireName(a.name).localeCompare(toWireName(b.name), 'en', { sensitivity: 'base' }));
  for (const folder of folders)
    session.writer.line(`* ${verb} (${attributesOf(session, folder)}) "/" ${mailboxAstring(toWireName(folder.name))}`);
  return { status: 'OK', text: completed(verb) };
};

const STATUS_ITEMS = new Set(['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN']);

export const statusCommand: CommandHandler = async (session, command) => {
  expectCount(command.args, 2);
  const name = astring(at(command.args, 0));
  const items = list(at(command.args, 1)).map((token) => atom(token).toUpperCase());
  if (items.length === 0 || items.some((item) => !STATUS_ITEMS.has(item))) throw new ArgumentError('bad status item');
  const folder = findFolder(session, name);
  if (!folder) return { status: 'NO', text: doesNotExist(name) };
  const values = items.map((item) => `${item} ${statusValue(folder, item)}`);
  session.writer.line(`* STATUS ${mailboxAstring(toWireName(folder.name))} (${values.join(' ')})`);
  return { status: 'OK', text: completed('STATUS') };
};

/** Creates the folder and any missing parents; `Mailbox already exists.` otherwise. */
export const createCommand: CommandHandler = async (session, command) => {
  expectCount(command.args, 1);
  const path = toFolderPath(astring(at(command.args, 0))).replace(/(?<!\/)\/+$/, '');
  if (path === '') throw new ArgumentError('empty name');
  const address = mailboxOf(session);
  if (session.store.mailbox(address).byName(path)) return { status: 'NO', text: 'Mailbox already exists.' };
  const segments = path.split('/');
  for (let depth = 1; depth <= segments.length; depth += 1) {
    const partial = segments.slice(0, depth).join('/');
    if (!session.store.mailbox(address).byName(partial)) {
      try {
        session.store.createFolder(address, partial);
      } catch (error) {
        if (error instanceof MailStoreError && error.code === 'invalid-name') throw new ArgumentError(error.message);
        throw error;
      }
    }
  }
  return { status: 'OK', text: completed('CREATE') };
};

export const deleteCommand: CommandHandler = async (session, command) => {
  expectCount(command.args, 1);
  const name = astring(at(command.args, 0));
  const folder = findFolder(session, name);
  if (!folder) return { status: 'NO', text: doesNotExist(name) };
  if (folder.wellKnown) return { status: 'NO', text: REPLY.accessDenied };
  session.store.deleteFolder(mailboxOf(session), folder.name);
  return { status: 'OK', text: completed('DELETE') };
};

export const renameCommand: CommandHandler = async (session, command) => {
  expectCount(command.args, 2);
  const from = astring(at(command.args, 0));
  const folder = findFolder(session, from);
  if (!folder) return { status: 'NO', text: doesNotExist(from) };
  if (folder.wellKnown) return { status: 'NO', text: REPLY.accessDenied };
  const target = toFolderPath(astring(at(command.args, 1)));
  if (session.store.mailbox(mailboxOf(session)).byName(target))
    return { status: 'NO', text: 'Mailbox already exists.' };
  session.store.renameFolder(mailboxOf(session), folder.name, target);
  return { status: 'OK', text: completed('RENAME') };
};

export const subscribeCommand: CommandHandler = async (session, command) => {
  expectCount(command.args, 1);
  const name = astring(at(command.args, 0));
  const folder = findFolder(session, name);
  if (!folder) return { status: 'NO', text: doesNotExist(name) };
  session.store.setSubscribed(mailboxOf(session), folder, command.name === 'SUBSCRIBE');
  return { status: 'OK', text: completed(command.name) };
};

/** The folder a client-supplied name refers to. */
export function findFolder(session: ImapSession, wireName: string): MailFolder | undefined {
  return session.store.mailbox(mailboxOf(session)).byName(toFolderPath(wireName));
}

export function mailboxOf(session: ImapSession): string {
  if (session.mailbox === undefined) throw new Error('no mailbox open');
  return session.mailbox;
}

function foldersOf(session: ImapSession): MailFolder[] {
  return session.store.mailbox(mailboxOf(session)).all;
}

function attributesOf(session: ImapSession, folder: MailFolder): string {
  const prefix = `${folder.name.toLowerCase()}/`;
  const hasChildren = foldersOf(session).some((other) => other.name.toLowerCase().startsWith(prefix));
  const attributes: string[] = [];
  if (folder.wellKnown === 'inbox' && folder.unseen > 0) attributes.push('\\Marked');
  attributes.push(hasChildren ? '\\HasChildren' : '\\HasNoChildren');
  if (folder.specialUse) attributes.push(folder.specialUse);
  return attributes.join(' ');
}

function statusValue(folder: MailFolder, item: string): number {
  switch (item) {
    case 'MESSAGES':
      return folder.size;
    case 'RECENT':
      return 0;
    case 'UIDNEXT':
      return folder.uidNext;
    case 'UIDVALIDITY':
      return folder.uidValidity;
    default:
      return folder.unseen;
  }
}

/** LIST wildcards: `*` matches anything, `%` anything but the delimiter. */
function patternToRegExp(pattern: string): RegExp {
  const source = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '%' ? '[^/]*' : ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'i');
}
