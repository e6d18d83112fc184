/**
 * What a forward carries: the message forwarded (of the conversation, never another's) and its
 * attachments with their bytes, read from the store (the row's content, or the stored raw MIME
 * parsed again and checked), so that a client never uploads them a second time. Refusals are
 * added to the request's field problems.
 */
import { safeFilename } from '../../mail/mime/attachment-names.js';
import type { ComposeAttachment } from '../../mail/mime/compose.js';
import {
  findLatestMessage,
  requireMessage,
  type Database,
  type InteractionRecord,
  type MessageRecord,
} from '../../store/index.js';
import type { ParseFunction } from '../inbound/ingest-message.js';
import { readAttachmentContent } from '../inbox/attachment-content.js';
import type { FieldProblems } from './outgoing-draft.js';

/** The message a forward carries: the one named, of this conversation, or the latest. */
export async function forwardedMessage(
  db: Database,
  interaction: InteractionRecord,
  requested: number | undefined,
  problems: FieldProblems,
): Promise<MessageRecord | undefined> {
  if (requested === undefined) {
    const latest = await findLatestMessage(db, interaction.id);
    if (latest === undefined) problems.add('messageId', 'the conversation has no message to forward');
    return latest === undefined ? undefined : requireMessage(db, latest);
  }
  const message = await requireMessage(db, requested).catch(() => undefined);
  if (message?.interactionId === interaction.id) return message;
  problems.add('messageId', `there is no message ${requested} in this conversation`);
  return undefined;
}

/** The forwarded message's attachments that go with the forward, with their bytes. */
export async function carriedAttachments(
  db: Database,
  parse: ParseFunction,
  original: MessageRecord,
  requested: readonly number[] | undefined,
  problems: FieldProblems,
): Promise<ComposeAttachment[]> {
  const chosen =
    requested === undefined
      ? original.attachments
          .filter((a) => !a.inline || a.contentId === null)
          .map((attachment) => ({ attachment, field: 'attachmentIds' }))
      : requested.flatMap((id, index) => {
          const attachment = original.attachments.find((a) => a.id === id);
          if (attachment === undefined)
            problems.add(`attachmentIds[${index}]`, `message ${original.id} has no attachment ${id}`);
          return attachment === undefined ? [] : [{ attachment, field: `attachmentIds[${index}]` }];
        });
  const gone = chosen.filter(({ attachment }) => attachment.removed);
  for (const { attachment, field } of gone)
    problems.add(
      field,
      `"${attachment.filename ?? `attachment ${attachment.id}`}" is no longer stored (the account's retention removed it): leave it out`,
    );
  if (gone.length > 0) return [];
  const seen = new Set<number>();
  const carried: ComposeAttachment[] = [];
  for (const { attachment } of chosen) {
    if (seen.has(attachment.id)) continue;
    seen.add(attachment.id);
    const stored = await readAttachmentContent(db, parse, original.id, attachment.id);
    // The forward's HTML does not show the original's inline images: each goes as a file.
    carried.push({
      filename: safeFilename(stored.filename, carried.length, stored.contentType),
      contentType: stored.contentType,
      content: stored.content,
      contentId: null,
      inline: false,
    });
  }
  return carried;
}
