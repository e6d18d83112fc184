/**
 * STORE and UID STORE: `FLAGS`, `+FLAGS`, `-FLAGS`, each with `.SILENT`. Exchange keeps only the
 * system flags and `$MDNSent`: a keyword is refused with `BAD Command Argument Error. 11`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.4.6
 */
import { canonicalFlag, type MessageFlag } from '../../exchange/message-flags.js';
import { ArgumentError, at, atom, sequenceSet } from '../arguments.js';
import type { CommandHandler } from '../command-registry.js';
import type { ImapToken } from '../parser.js';
import { REPLY, completed } from '../replies.js';
import { mailboxOf } from './folders.js';

const ITEM = /^([+-]?)FLAGS(\.SILENT)?$/i;

export const storeCommand: CommandHandler = async (session, command, { uid }) => {
  const selected = session.selected;
  if (!selected) return { status: 'BAD', text: REPLY.invalidState };
  if (command.args.length < 3) throw new ArgumentError('STORE needs a set, an item and flags', 'count');
  const ranges = sequenceSet(at(command.args, 0));
  const item = ITEM.exec(atom(at(command.args, 1)));
  if (!item) throw new ArgumentError('bad STORE item');
  const flags = parseFlags(command.args.slice(2));
  if (!uid && selected.outOfRange(ranges)) throw new ArgumentError('message set out of range', 'message-set');
  if (selected.readOnly) return { status: 'NO', text: REPLY.accessDenied };
  const mode = item[1] === '+' ? 'add' : item[1] === '-' ? 'remove' : 'replace';
  const targets = selected.resolve(ranges, uid);
  session.store.setFlags(
    mailboxOf(session),
    selected.folder,
    targets.map(({ message }) => message.uid),
    mode,
    flags,
    session,
  );
  if (item[2] === undefined) {
    for (const { seq, message } of targets) {
      const flagList = [...message.flags].join(' ');
      session.writer.line(
        uid ? `* ${seq} FETCH (FLAGS (${flagList}) UID ${message.uid})` : `* ${seq} FETCH (FLAGS (${flagList}))`,
      );
    }
  }
  return { status: 'OK', text: completed('STORE') };
};

/** A flag list, parenthesized or bare; any flag Exchange does not store is an argument error. */
function parseFlags(tokens: readonly ImapToken[]): MessageFlag[] {
  const items = tokens.length === 1 && tokens[0]?.type === 'list' ? tokens[0].items : tokens;
  const flags: MessageFlag[] = [];
  for (const token of items) {
    const flag = canonicalFlag(atom(token));
    if (!flag) throw new ArgumentError('unsupported flag');
    flags.push(flag);
  }
  return flags;
}
