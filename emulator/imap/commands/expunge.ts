/**
 * EXPUNGE and UID EXPUNGE (UIDPLUS): removes \Deleted messages (only those of the UID set for
 * UID EXPUNGE) and tells each removal with an untagged EXPUNGE.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.4.3
 * @see https://www.rfc-editor.org/rfc/rfc4315#section-2.1 (UID EXPUNGE)
 */
import { at, expectCount, sequenceSet } from '../arguments.js';
import type { CommandHandler } from '../command-registry.js';
import { REPLY, completed } from '../replies.js';
import type { ImapSession } from '../session.js';
import { mailboxOf } from './folders.js';

export const expungeCommand: CommandHandler = async (session, command, { uid }) => {
  expectCount(command.args, uid ? 1 : 0);
  const selected = session.selected;
  if (!selected) return { status: 'BAD', text: REPLY.invalidState };
  if (selected.readOnly) return { status: 'NO', text: REPLY.accessDenied };
  let uids: number[] | undefined;
  if (uid) uids = selected.resolve(sequenceSet(at(command.args, 0)), true).map(({ message }) => message.uid);
  expungeAndAnnounce(session, uids);
  return { status: 'OK', text: completed('EXPUNGE') };
};

/** Expunges (\Deleted among `uids`, or all \Deleted) and writes the untagged EXPUNGE lines. */
function expungeAndAnnounce(session: ImapSession, uids?: readonly number[], force = false): void {
  const selected = session.selected;
  if (!selected) return;
  // Changes others made are told first, so the sequence numbers below are the client's.
  for (const line of selected.drain(true)) session.writer.line(line);
  const removed = session.store.expunge(mailboxOf(session), selected.folder, { uids, force, origin: session });
  for (const seq of selected.removeOwn(removed)) session.writer.line(`* ${seq} EXPUNGE`);
}
