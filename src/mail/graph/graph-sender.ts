/**
 * Sends a message Postern composed and stored through Microsoft Graph, byte for byte as far as
 * Graph allows: the stored MIME goes to `POST /users/{mailbox}/sendMail` in base64
 * (`Content-Type: text/plain`), so Message-ID, In-Reply-To, References, Thread-Topic and
 * Thread-Index survive and the customer's answer threads. The path is the account's mailbox — a
 * shared mailbox sends as itself (From = the shared address, the copy in its own Sent Items; the
 * delegate's token needs Mail.Send.Shared and Send As).
 *
 * - **Bcc**: Graph takes a MIME message's recipients from its To, Cc and Bcc fields, not from an
 *   envelope, and Postern never writes Bcc into the stored message (SMTP carries it in the
 *   envelope). Recipients of the envelope that To and Cc do not name are added as a `Bcc:` field
 *   to the copy sent; Exchange removes it on delivery.
 * - **Too large for one request**: Graph refuses a request over 4 MB. A larger message is sent
 *   through a draft (see graph-sender-draft.ts): the MIME without its largest attachments creates
 *   the draft, the attachments are added one by one (upload sessions in chunks for 3 MB and more),
 *   then the draft is sent.
 *
 * `sendMail` is not idempotent: the client never repeats it after a 5xx or a lost answer (only a
 * 429, which Graph answers before doing anything, is waited out and tried again).
 *
 * @see https://learn.microsoft.com/graph/api/user-sendmail (MIME format, 4 MB)
 * @see https://learn.microsoft.com/graph/outlook-send-mail-from-other-user
 * @see ../../../../shared/reference/microsoft-protocols.md §6, §8
 */
import addressparser from 'nodemailer/lib/addressparser';
import { readHeaderFields, splitHeader } from '../mime/raw-headers.js';
import type { GraphClient } from './graph-client.js';
import { sendThroughDraft } from './graph-sender-draft.js';

/**
 * The largest base64 body Postern sends in one `sendMail` request. Graph's limit is 4 MB per
 * request; a little is kept back for the added Bcc field and rounding.
 */
export const MAX_SINGLE_REQUEST_BASE64 = 4 * 1024 * 1024 - 64 * 1024;

/** What the sender needs of the Graph client. */
export type GraphSendClient = Pick<GraphClient, 'mailbox' | 'send' | 'json' | 'uploadChunk'>;

/** One message to send: the stored MIME and the recipients of its envelope. */
export interface GraphOutgoing {
  readonly raw: Buffer;
  readonly recipients: readonly string[];
}

/** What Graph answered (the shape of the SMTP submitter's result). */
export interface GraphSendResult {
  /** e.g. `202 Accepted by Microsoft Graph (sendMail)`. */
  readonly response: string;
  readonly accepted: readonly string[];
  readonly rejected: ReadonlyArray<{ readonly address: string; readonly response: string }>;
  /** How it left: one request, or a draft with attachments added. */
  readonly way: 'sendMail' | 'draft';
}

/** Options (tests lower the limits to exercise the draft path with small messages). */
export interface GraphSenderOptions {
  readonly maxSingleRequestBase64?: number;
  /** Bytes per upload-session PUT. Default 3 MiB (Graph: under 4 MB each). */
  readonly uploadChunkBytes?: number;
}

/** Sends stored MIME messages from one mailbox through Graph. */
export class GraphSender {
  constructor(
    private readonly client: GraphSendClient,
    private readonly options: GraphSenderOptions = {},
  ) {}

  async send(message: GraphOutgoing): Promise<GraphSendResult> {
    const raw = withBcc(message.raw, message.recipients);
    const base64Length = Math.ceil(raw.length / 3) * 4;
    const accepted = [...message.recipients];
    if (base64Length <= (this.options.maxSingleRequestBase64 ?? MAX_SINGLE_REQUEST_BASE64)) {
      await this.client.send({
        method: 'POST',
        path: '/sendMail',
        body: { text: raw.toString('base64'), contentType: 'text/plain' },
      });
      return { response: '202 Accepted by Microsoft Graph (sendMail)', accepted, rejected: [], way: 'sendMail' };
    }
    await sendThroughDraft(this.client, raw, {
      maxRequestBase64: this.options.maxSingleRequestBase64 ?? MAX_SINGLE_REQUEST_BASE64,
      chunkBytes: this.options.uploadChunkBytes ?? 3 * 1024 * 1024,
    });
    return {
      response: '202 Accepted by Microsoft Graph (draft with attachments, send)',
      accepted,
      rejected: [],
      way: 'draft',
    };
  }
}

/** Longest header section searched for To and Cc (Exchange's own header limit is 256 KB). */
const MAX_HEADER_SCAN = 256 * 1024;

/**
 * The message with a `Bcc:` field naming the envelope recipients that its To and Cc fields do not,
 * or the message itself when there are none.
 */
export function withBcc(raw: Buffer, recipients: readonly string[]): Buffer {
  const { header } = splitHeader(raw.subarray(0, Math.min(raw.length, MAX_HEADER_SCAN)));
  const fields = readHeaderFields(header);
  const named = new Set<string>();
  for (const name of ['to', 'cc', 'bcc'])
    for (const value of fields.get(name) ?? [])
      for (const address of addressparser(value, { flatten: true })) named.add(address.address.toLowerCase());
  const hidden = [...new Set(recipients.map((r) => r.toLowerCase()))].filter((r) => !named.has(r));
  if (hidden.length === 0) return raw;
  const eol = header.includes('\r\n') || header.length === 0 ? '\r\n' : '\n';
  return Buffer.concat([Buffer.from(`Bcc: ${hidden.join(',' + eol + ' ')}${eol}`, 'utf8'), raw]);
}
