/**
 * An attachment's bytes, wherever they are kept: in its row (outgoing messages, and inbound ones
 * stored before migration 0009), or as a part of the message's raw MIME, parsed again and checked
 * against the digest and size stored at ingest — never other bytes in their place. The inbox
 * (downloads) and the send service (a forward carrying the original's attachments) both read
 * attachments through it.
 */
import { PosternError } from '../../errors/index.js';
import { getMessageRaw, getStoredAttachment, type AttachmentContent, type Database } from '../../store/index.js';
import type { ParseFunction } from '../inbound/ingest-message.js';

/**
 * The attachment `attachmentId` of message `messageId` with its content.
 *
 * @throws PosternError RESOURCE_NOT_FOUND; MESSAGE_ORIGINAL_EXPIRED when retention removed it;
 *   STORE_ATTACHMENT_MISMATCH when the raw MIME no longer yields the bytes stored at ingest.
 */
export async function readAttachmentContent(
  db: Database,
  parse: ParseFunction,
  messageId: number,
  attachmentId: number,
): Promise<AttachmentContent> {
  const stored = await getStoredAttachment(db, messageId, attachmentId);
  if ('content' in stored) return stored;
  const { rawPart, ...attachment } = stored;
  const parsed = await parse(await getMessageRaw(db, messageId));
  const part = parsed.attachments[rawPart];
  if (part !== undefined && part.sha256 === attachment.sha256 && part.size === attachment.size)
    return { ...attachment, content: part.content };
  throw new PosternError('STORE_ATTACHMENT_MISMATCH', {
    message:
      part === undefined
        ? `Attachment ${attachment.id} of message ${messageId} is part ${rawPart} of the raw MIME, which has only ${parsed.attachments.length} attachments now.`
        : `Attachment ${attachment.id} of message ${messageId} no longer matches part ${rawPart} of the raw MIME (digest or size differs).`,
    details: { resource: 'attachment', id: attachment.id, messageId, rawPart },
  });
}
