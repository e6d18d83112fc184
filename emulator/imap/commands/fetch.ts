/**
 * FETCH and UID FETCH. Responses are streamed message by message with back-pressure, so a full
 * fetch of a 10,000-message folder never builds one giant reply. A non-PEEK body fetch in a
 * read-write selection sets \Seen and reports the new FLAGS.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.4.5
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-7.4.2 (FETCH response)
 */
import type { MessageContent, StoredMessage } from '../../exchange/stored-message.js';
import { ArgumentError, at, expectCount, formatDateTime, sequenceSet } from '../arguments.js';
import { encodeBodyStructure } from '../body-structure.js';
import type { CommandHandler } from '../command-registry.js';
import { encodeEnvelope } from '../envelope.js';
import { extractSection, parseFetchItems, sectionLabel, type FetchItem } from '../fetch-items.js';
import { REPLY, completed } from '../replies.js';
import { imapLiteral, type WirePart } from '../wire.js';
import { mailboxOf } from './folders.js';

export const fetchCommand: CommandHandler = async (session, command, { uid }) => {
  expectCount(command.args, 2);
  const selected = session.selected;
  if (!selected) return { status: 'BAD', text: REPLY.invalidState };
  const ranges = sequenceSet(at(command.args, 0));
  const items = parseFetchItems(at(command.args, 1));
  if (!uid && selected.outOfRange(ranges)) throw new ArgumentError('message set out of range', 'message-set');
  const wanted: FetchItem[] =
    uid && !items.some((i) => i.kind === 'simple' && i.name === 'UID')
      ? [{ kind: 'simple', name: 'UID' }, ...items]
      : items;
  const marksSeen =
    !selected.readOnly &&
    wanted.some(
      (i) =>
        (i.kind === 'section' && !i.peek) || (i.kind === 'simple' && (i.name === 'RFC822' || i.name === 'RFC822.TEXT')),
    );
  const reportsFlags = wanted.some((i) => i.kind === 'simple' && i.name === 'FLAGS');
  const fetchesBody = wanted.some(
    (i) => i.kind === 'section' || (i.kind === 'simple' && ['RFC822', 'RFC822.HEADER', 'RFC822.TEXT'].includes(i.name)),
  );
  for (const { seq, message } of selected.resolve(ranges, uid)) {
    if (fetchesBody && session.context.faults.takeImapOmitFetch(session.mailbox, message.uid)) continue;
    let flagsChanged = false;
    if (marksSeen && !message.flags.has('\\Seen') && selected.folder.get(message.uid)) {
      session.store.setFlags(mailboxOf(session), selected.folder, [message.uid], 'add', ['\\Seen'], session);
      flagsChanged = true;
    }
    // Exchange serves re-rendered MIME and an estimated size (see exchange/imap-rendering.ts).
    const served = session.context.rendering.served(session.mailbox, message.content);
    const size = (): number => session.context.rendering.size(session.mailbox, served);
    const parts: WirePart[] = [`* ${seq} FETCH (`];
    wanted.forEach((item, index) => {
      if (index > 0) parts.push(' ');
      parts.push(...encodeItem(item, message, served, size));
    });
    if (flagsChanged && !reportsFlags) parts.push(` FLAGS (${[...message.flags].join(' ')})`);
    parts.push(')\r\n');
    session.writer.push(parts);
    await session.writer.maybeFlush();
    if (session.isClosed) return undefined;
  }
  return { status: 'OK', text: completed('FETCH') };
};

function encodeItem(item: FetchItem, message: StoredMessage, content: MessageContent, size: () => number): WirePart[] {
  if (item.kind === 'section') return [`${sectionLabel(item)} `, ...imapLiteral(extractSection(content, item))];
  switch (item.name) {
    case 'UID':
      return [`UID ${message.uid}`];
    case 'FLAGS':
      return [`FLAGS (${[...message.flags].join(' ')})`];
    case 'INTERNALDATE':
      return [`INTERNALDATE ${formatDateTime(message.internalDate)}`];
    case 'RFC822.SIZE':
      return [`RFC822.SIZE ${size()}`];
    case 'ENVELOPE':
      return [content.memo('imap:envelope', (c) => flatten('ENVELOPE ', encodeEnvelope(c.structure)), Buffer.isBuffer)];
    case 'BODYSTRUCTURE':
      return [
        content.memo(
          'imap:bodystructure',
          (c) => flatten('BODYSTRUCTURE ', encodeBodyStructure(c.structure, true)),
          Buffer.isBuffer,
        ),
      ];
    case 'BODY':
      return [
        content.memo('imap:body', (c) => flatten('BODY ', encodeBodyStructure(c.structure, false)), Buffer.isBuffer),
      ];
    case 'RFC822':
      return ['RFC822 ', ...imapLiteral(content.raw)];
    case 'RFC822.HEADER':
      return ['RFC822.HEADER ', ...imapLiteral(content.raw.subarray(0, content.structure.bodyStart))];
    case 'RFC822.TEXT':
      return ['RFC822.TEXT ', ...imapLiteral(content.raw.subarray(content.structure.bodyStart))];
  }
}

/** One buffer for a label and its encoded value, kept with the message content. */
function flatten(label: string, parts: readonly WirePart[]): Buffer {
  if (parts.every((p) => typeof p === 'string')) return Buffer.from(label + parts.join(''), 'utf8');
  return Buffer.concat([Buffer.from(label), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p))]);
}
