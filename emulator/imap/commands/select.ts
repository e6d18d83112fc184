/**
 * SELECT / EXAMINE, CLOSE and UNSELECT, with Exchange's SELECT response lines.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.3.1
 * @see https://www.rfc-editor.org/rfc/rfc3691 (UNSELECT)
 */
import { EXCHANGE_FLAGS } from '../../exchange/message-flags.js';
import { astring, at, expectCount } from '../arguments.js';
import type { CommandHandler } from '../command-registry.js';
import { SELECT_TEXT, doesNotExist } from '../replies.js';
import { findFolder, mailboxOf } from './folders.js';

const FLAG_LIST = `(${EXCHANGE_FLAGS.join(' ')})`;

export const selectCommand: CommandHandler = async (session, command) => {
  expectCount(command.args, 1);
  const examine = command.name === 'EXAMINE';
  const name = astring(at(command.args, 0));
  const folder = findFolder(session, name);
  if (!folder) {
    // A failed SELECT leaves no folder selected (RFC 3501 §6.3.1).
    session.deselect();
    return { status: 'NO', text: doesNotExist(name) };
  }
  const selected = session.select(folder, examine);
  const w = session.writer;
  w.line(`* ${selected.exists} EXISTS`);
  w.line('* 0 RECENT');
  w.line(`* FLAGS ${FLAG_LIST}`);
  w.line(`* OK [PERMANENTFLAGS ${FLAG_LIST}] ${SELECT_TEXT.permanentFlags}`);
  const firstUnseen = selected.messages.findIndex((message) => !message.flags.has('\\Seen'));
  if (firstUnseen >= 0) w.line(`* OK [UNSEEN ${firstUnseen + 1}] ${SELECT_TEXT.unseen}`);
  w.line(`* OK [UIDVALIDITY ${folder.uidValidity}] ${SELECT_TEXT.uidValidity}`);
  w.line(`* OK [UIDNEXT ${folder.uidNext}] ${SELECT_TEXT.uidNext}`);
  return { status: 'OK', text: examine ? '[READ-ONLY] EXAMINE completed.' : '[READ-WRITE] SELECT completed.' };
};

/** CLOSE: silently expunges \Deleted messages of a read-write selection, then deselects. */
export const closeCommand: CommandHandler = async (session, command) => {
  expectCount(command.args, 0);
  const selected = session.selected;
  if (selected && !selected.readOnly) session.store.expunge(mailboxOf(session), selected.folder, { origin: session });
  session.deselect();
  return { status: 'OK', text: 'CLOSE completed.' };
};

export const unselectCommand: CommandHandler = async (session, command) => {
  expectCount(command.args, 0);
  session.deselect();
  return { status: 'OK', text: 'UNSELECT completed.' };
};
