/**
 * APPEND with synchronizing literals or LITERAL+, optional flags and internal date, answering
 * `[APPENDUID uidvalidity uid] APPEND completed.` (UIDPLUS). Keywords are dropped with Exchange's
 * untagged `* NO Keywords are not supported!`; a missing folder is `NO [TRYCREATE] Folder is not found.`
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.3.11
 * @see https://www.rfc-editor.org/rfc/rfc4315#section-3 (APPENDUID)
 */
import { canonicalFlag, type MessageFlag } from '../../exchange/message-flags.js';
import { ArgumentError, astring, at, atom, dateTime } from '../arguments.js';
import type { CommandHandler } from '../command-registry.js';
import { completed } from '../replies.js';
import { NOT_FOUND } from './copy-move.js';
import { findFolder, mailboxOf } from './folders.js';

export const appendCommand: CommandHandler = async (session, command) => {
  const args = command.args;
  if (args.length < 2 || args.length > 4) throw new ArgumentError('APPEND takes 2 to 4 arguments', 'count');
  const name = astring(at(args, 0));
  const message = args[args.length - 1];
  if (message?.type !== 'string' || !message.literal) throw new ArgumentError('APPEND needs a literal');
  const flags: MessageFlag[] = [];
  let keywords = false;
  let internalDate: Date | undefined;
  for (const token of args.slice(1, -1)) {
    if (token.type === 'list') {
      for (const item of token.items) {
        const text = atom(item);
        if (text.toLowerCase() === '\\recent') throw new ArgumentError('\\Recent cannot be appended');
        const flag = canonicalFlag(text);
        if (flag) flags.push(flag);
        else keywords = true;
      }
    } else {
      internalDate = dateTime(token);
    }
  }
  const folder = findFolder(session, name);
  if (!folder) return { status: 'NO', text: NOT_FOUND };
  const stored = session.store.append(mailboxOf(session), folder, message.value, { flags, internalDate });
  if (keywords) session.writer.line('* NO Keywords are not supported!');
  return { status: 'OK', text: `[APPENDUID ${folder.uidValidity} ${stored.uid}] ${completed('APPEND')}` };
};
