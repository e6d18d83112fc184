/**
 * COPY / UID COPY and MOVE / UID MOVE, with UIDPLUS's COPYUID. MOVE reports COPYUID in an
 * untagged OK, then the EXPUNGEs, then completes (RFC 6851 §4.3).
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.4.7
 * @see https://www.rfc-editor.org/rfc/rfc4315#section-3 (COPYUID)
 * @see https://www.rfc-editor.org/rfc/rfc6851 (MOVE)
 */
import type { MailFolder } from '../../exchange/mail-folder.js';
import { ArgumentError, astring, at, expectCount, sequenceSet } from '../arguments.js';
import type { CommandHandler } from '../command-registry.js';
import { REPLY, completed } from '../replies.js';
import type { ImapToken } from '../parser.js';
import { formatSequenceSet } from '../sequence-set.js';
import type { ImapSession } from '../session.js';
import { findFolder, mailboxOf } from './folders.js';

export const NOT_FOUND = '[TRYCREATE] Folder is not found.';

export const copyCommand: CommandHandler = async (session, command, { uid }) => {
  const plan = prepare(session, command.args, uid);
  if ('status' in plan) return plan;
  const pairs = session.store.copy(mailboxOf(session), plan.from, plan.uids, plan.to);
  const code = pairs.length > 0 ? `[COPYUID ${plan.to.uidValidity} ${copyUid(pairs)}] ` : '';
  return { status: 'OK', text: `${code}${completed('COPY')}` };
};

export const moveCommand: CommandHandler = async (session, command, { uid }) => {
  const plan = prepare(session, command.args, uid);
  if ('status' in plan) return plan;
  const selected = session.selected;
  if (!selected) return { status: 'BAD', text: REPLY.invalidState };
  if (selected.readOnly) return { status: 'NO', text: REPLY.accessDenied };
  for (const line of selected.drain(true)) session.writer.line(line);
  const pairs = session.store.copy(mailboxOf(session), plan.from, plan.uids, plan.to);
  if (pairs.length > 0) session.writer.line(`* OK [COPYUID ${plan.to.uidValidity} ${copyUid(pairs)}]`);
  const removed = session.store.expunge(mailboxOf(session), plan.from, {
    uids: pairs.map(([source]) => source),
    force: true,
    origin: session,
  });
  for (const seq of selected.removeOwn(removed)) session.writer.line(`* ${seq} EXPUNGE`);
  return { status: 'OK', text: completed('MOVE') };
};

interface Plan {
  readonly from: MailFolder;
  readonly to: MailFolder;
  readonly uids: number[];
}

function prepare(
  session: ImapSession,
  args: readonly ImapToken[],
  uid: boolean,
): Plan | { status: 'NO' | 'BAD'; text: string } {
  expectCount(args, 2);
  const selected = session.selected;
  if (!selected) return { status: 'BAD', text: REPLY.invalidState };
  const ranges = sequenceSet(at(args, 0));
  if (!uid && selected.outOfRange(ranges)) throw new ArgumentError('message set out of range', 'message-set');
  const to = findFolder(session, astring(at(args, 1)));
  if (!to) return { status: 'NO', text: NOT_FOUND };
  const uids = selected.resolve(ranges, uid).map(({ message }) => message.uid);
  return { from: selected.folder, to, uids };
}

function copyUid(pairs: ReadonlyArray<[number, number]>): string {
  return `${formatSequenceSet(pairs.map(([source]) => source))} ${formatSequenceSet(pairs.map(([, target]) => target))}`;
}
