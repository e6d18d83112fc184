/**
 * Sending a message too large for one Graph request (4 MB) through a draft:
 *
 * 1. the stored MIME, without its largest top-level attachments (as few as needed to fit one
 *    request), creates a draft: `POST /users/{mailbox}/messages` with the base64 MIME — Exchange
 *    keeps Message-ID, In-Reply-To, References and Thread-Index from it (the draft's
 *    `internetMessageId` is the stored Message-ID);
 * 2. each attachment taken out is added to the draft: under 3 MB with one
 *    `POST …/messages/{id}/attachments` (`#microsoft.graph.fileAttachment`, `contentBytes`), from
 *    3 MB with an upload session (`…/attachments/createUploadSession`, then `PUT` ranges of at
 *    most 4 MB to its pre-authenticated `uploadUrl`, in order);
 * 3. `POST …/messages/{id}/send` sends it as `sendMail` would (202).
 *
 * What Graph may change on this path, unlike a single `sendMail`: Exchange writes the MIME again
 * from the draft item when it sends it — the boundaries, the order of header fields, transfer
 * encodings and the attachments' part headers are Exchange's, and `Date` is the time of sending;
 * the identity and threading fields (Message-ID, In-Reply-To, References, Thread-Topic,
 * Thread-Index), From, the recipients, the subject, the bodies and the attachments' names,
 * types, content ids and bytes are kept. The stored message stays what Postern composed.
 *
 * A failure before the draft is sent deletes the draft (best effort), so that a retry does not
 * leave drafts behind; a crash leaves at most an unsent draft in the mailbox's Drafts folder.
 *
 * @see https://learn.microsoft.com/graph/api/user-post-messages (create a draft from MIME)
 * @see https://learn.microsoft.com/graph/outlook-large-attachments
 * @see https://learn.microsoft.com/graph/api/attachment-createuploadsession
 * @see https://learn.microsoft.com/graph/api/message-send
 */
import { simpleParser } from 'mailparser';
import { z } from 'zod';
import { PosternError } from '../../errors/index.js';
import { readHeaderFields, splitHeader } from '../mime/raw-headers.js';
import type { GraphSendClient } from './graph-sender.js';

/** From this size an attachment goes through an upload session (Graph: 3 MB to 150 MB). */
export const UPLOAD_SESSION_MIN_BYTES = 3 * 1024 * 1024;

const draftSchema = z.object({ id: z.string().min(1).max(1000) });
const sessionSchema = z.object({ uploadUrl: z.string().min(1).max(8000) });

/** An attachment taken out of the MIME, to be added to the draft. */
export interface TakenAttachment {
  readonly name: string;
  readonly contentType: string;
  readonly content: Buffer;
  readonly contentId: string | null;
  readonly inline: boolean;
}

/** The MIME that creates the draft, and the attachments added afterwards. */
export interface DraftPlan {
  readonly mime: Buffer;
  readonly attachments: readonly TakenAttachment[];
}

/** Sends `raw` through a draft; throws the catalogue error of the step that failed. */
export async function sendThroughDraft(
  client: GraphSendClient,
  raw: Buffer,
  limits: { maxRequestBase64: number; chunkBytes: number },
): Promise<void> {
  const plan = await planDraft(raw, limits.maxRequestBase64);
  const created = draftSchema.safeParse(
    await client.json<unknown>({
      method: 'POST',
      path: '/messages',
      body: { text: plan.mime.toString('base64'), contentType: 'text/plain' },
    }),
  );
  if (!created.success) throw unexpected(client.mailbox, 'the new draft has no id');
  const messagePath = `/messages/${encodeURIComponent(created.data.id)}`;
  try {
    for (const attachment of plan.attachments) await attach(client, messagePath, attachment, limits.chunkBytes);
    await client.send({ method: 'POST', path: `${messagePath}/send` });
  } catch (error) {
    await client.send({ method: 'DELETE', path: messagePath }).catch(() => undefined);
    throw error;
  }
}

async function attach(
  client: GraphSendClient,
  messagePath: string,
  attachment: TakenAttachment,
  chunkBytes: number,
): Promise<void> {
  const described = {
    name: attachment.name,
    contentType: attachment.contentType,
    isInline: attachment.inline,
    ...(attachment.contentId === null ? {} : { contentId: attachment.contentId }),
  };
  if (attachment.content.length < UPLOAD_SESSION_MIN_BYTES) {
    await client.json<unknown>({
      method: 'POST',
      path: `${messagePath}/attachments`,
      body: {
        json: {
          '@odata.type': '#microsoft.graph.fileAttachment',
          ...described,
          contentBytes: attachment.content.toString('base64'),
        },
      },
    });
    return;
  }
  const session = sessionSchema.safeParse(
    await client.json<unknown>({
      method: 'POST',
      path: `${messagePath}/attachments/createUploadSession`,
      body: { json: { AttachmentItem: { attachmentType: 'file', ...described, size: attachment.content.length } } },
    }),
  );
  if (!session.success) throw unexpected(client.mailbox, 'the upload session has no uploadUrl');
  const total = attachment.content.length;
  for (let start = 0; start < total; start += chunkBytes) {
    const chunk = attachment.content.subarray(start, Math.min(total, start + chunkBytes));
    await client.uploadChunk(session.data.uploadUrl, chunk, start, total);
  }
}

function unexpected(mailbox: string, what: string): PosternError {
  return new PosternError('GRAPH_REQUEST_FAILED', {
    message: `Microsoft Graph answered in an unexpected way: ${what} (mailbox ${mailbox}).`,
    details: { mailbox },
  });
}

/** One part of the top-level multipart body, by byte offsets into the message. */
interface PartSpan {
  /** Where the part's delimiter line starts (its leading line break included). */
  readonly cutStart: number;
  /** Where the next delimiter's leading line break starts. */
  readonly cutEnd: number;
  readonly contentStart: number;
}

/**
 * The draft's MIME and the attachments to add: top-level attachments of a `multipart/mixed`
 * message are taken out, largest first, until the rest fits one request. A message of another
 * structure, or whose rest still does not fit, is returned whole — Graph then refuses it as too
 * large, which names the problem.
 */
export async function planDraft(raw: Buffer, maxRequestBase64: number): Promise<DraftPlan> {
  const fits = (size: number): boolean => Math.ceil(size / 3) * 4 <= maxRequestBase64;
  if (fits(raw.length)) return { mime: raw, attachments: [] };
  const { header, bodyStart } = splitHeader(raw);
  const contentType = readHeaderFields(header).get('content-type')?.[0] ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/mixed')) return { mime: raw, attachments: [] };
  const boundary = boundaryOf(contentType);
  if (boundary === null) return { mime: raw, attachments: [] };
  const candidates = partsOf(raw, bodyStart, boundary)
    .filter((part) => isAttachmentPart(raw.subarray(part.contentStart, part.cutEnd)))
    .sort((a, b) => b.cutEnd - b.cutStart - (a.cutEnd - a.cutStart));
  const taken: PartSpan[] = [];
  let size = raw.length;
  for (const part of candidates) {
    if (fits(size)) break;
    taken.push(part);
    size -= part.cutEnd - part.cutStart;
  }
  if (taken.length === 0) return { mime: raw, attachments: [] };
  taken.sort((a, b) => a.cutStart - b.cutStart);
  const kept: Buffer[] = [];
  let at = 0;
  for (const part of taken) {
    kept.push(raw.subarray(at, part.cutStart));
    at = part.cutEnd;
  }
  kept.push(raw.subarray(at));
  const attachments: TakenAttachment[] = [];
  for (const part of taken) attachments.push(await readAttachment(raw.subarray(part.contentStart, part.cutEnd)));
  return { mime: Buffer.concat(kept), attachments };
}

/** The `boundary` parameter of a Content-Type value (quoted or a token). */
export function boundaryOf(contentType: string): string | null {
  const lower = contentType.toLowerCase();
  let index = lower.indexOf('boundary=');
  while (index > 0 && !/[;\s]/.test(lower.charAt(index - 1))) index = lower.indexOf('boundary=', index + 1);
  if (index < 0) return null;
  let value = contentType.slice(index + 'boundary='.length);
  if (value.startsWith('"')) {
    const end = value.indexOf('"', 1);
    value = end < 0 ? '' : value.slice(1, end);
  } else {
    const end = value.search(/[;\s]/);
    value = end < 0 ? value : value.slice(0, end);
  }
  return value.length === 0 || value.length > 200 ? null : value;
}

/** The parts of the top-level multipart body: between `--boundary` lines, up to `--boundary--`. */
function partsOf(raw: Buffer, bodyStart: number, boundary: string): PartSpan[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const lines: Array<{ lineStart: number; cutStart: number; close: boolean; contentStart: number }> = [];
  let search = bodyStart;
  for (;;) {
    const found = raw.indexOf(delimiter, search);
    if (found < 0) break;
    search = found + delimiter.length;
    if (found !== bodyStart && raw[found - 1] !== 0x0a) continue;
    const close = raw[found + delimiter.length] === 0x2d && raw[found + delimiter.length + 1] === 0x2d;
    const lineEnd = raw.indexOf(0x0a, found);
    const cutStart = found === bodyStart ? found : found - (raw[found - 2] === 0x0d ? 2 : 1);
    lines.push({ lineStart: found, cutStart, close, contentStart: lineEnd < 0 ? raw.length : lineEnd + 1 });
    if (close) break;
  }
  const parts: PartSpan[] = [];
  for (let i = 0; i + 1 < lines.length; i += 1) {
    const line = lines[i];
    const next = lines[i + 1];
    if (line === undefined || next === undefined || line.close) continue;
    parts.push({ cutStart: line.cutStart, cutEnd: next.cutStart, contentStart: line.contentStart });
  }
  return parts;
}

/** A part that is an attachment: `Content-Disposition: attachment`, or a file name without a disposition. */
function isAttachmentPart(part: Buffer): boolean {
  const fields = readHeaderFields(splitHeader(part).header);
  const disposition = (fields.get('content-disposition')?.[0] ?? '').toLowerCase();
  if (disposition.startsWith('attachment')) return true;
  if (disposition.startsWith('inline')) return false;
  const type = (fields.get('content-type')?.[0] ?? '').toLowerCase();
  return !type.startsWith('multipart/') && !type.startsWith('text/') && type.includes('name=');
}

/** A part's file name, type, content id and decoded bytes, read by mailparser. */
async function readAttachment(part: Buffer): Promise<TakenAttachment> {
  const parsed = await simpleParser(Buffer.concat([Buffer.from('MIME-Version: 1.0\r\n'), part]), {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    skipTextLinks: true,
  });
  const attachment = parsed.attachments[0];
  if (attachment === undefined) {
    return {
      name: 'attachment',
      contentType: 'application/octet-stream',
      content: part,
      contentId: null,
      inline: false,
    };
  }
  return {
    name: attachment.filename ?? 'attachment',
    contentType: attachment.contentType,
    content: attachment.content,
    contentId: attachment.cid ?? null,
    inline: attachment.contentDisposition === 'inline',
  };
}
