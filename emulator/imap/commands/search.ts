/**
 * SEARCH and UID SEARCH: `* SEARCH` with sequence numbers or UIDs, then `OK SEARCH completed.`
 * CHARSET US-ASCII and UTF-8 are accepted; any other is `NO [BADCHARSET (US-ASCII)] …`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.4.4
 */
import { astring, isAtom } from '../arguments.js';
import type { CommandHandler } from '../command-registry.js';
import { REPLY, completed } from '../replies.js';
import { compileSearch } from '../search-criteria.js';

export const searchCommand: CommandHandler = async (session, command, { uid }) => {
  const selected = session.selected;
  if (!selected) return { status: 'BAD', text: REPLY.invalidState };
  let args = command.args;
  if (isAtom(args[0], 'CHARSET')) {
    const charset = args[1] ? astring(args[1]).toUpperCase() : '';
    if (charset !== 'US-ASCII' && charset !== 'UTF-8') return { status: 'NO', text: REPLY.badCharset };
    args = args.slice(2);
  }
  const predicate = compileSearch(args);
  const messages = selected.messages;
  const maxUid = messages.length > 0 ? (messages[messages.length - 1]?.uid ?? 0) : 0;
  const rendering = session.context.rendering;
  const size = (message: (typeof messages)[number]): number =>
    rendering.size(session.mailbox, rendering.served(session.mailbox, message.content));
  const hits: number[] = [];
  messages.forEach((message, index) => {
    if (predicate(message, { seq: index + 1, maxUid, count: messages.length, size }))
      hits.push(uid ? message.uid : index + 1);
  });
  session.writer.line(hits.length > 0 ? `* SEARCH ${hits.join(' ')}` : '* SEARCH');
  return { status: 'OK', text: completed('SEARCH') };
};
