/**
 * Inbound attachments stored once, on both engines: the row keeps an empty content and the part's
 * position in the raw MIME (`raw_part`); a download parses the raw MIME again and returns exactly
 * the original bytes (an inline cid image too); an outgoing attachment, and an inbound one stored
 * before migration 0009, still come from their stored content; a raw MIME that no longer holds the
 * stored bytes gives STORE_ATTACHMENT_MISMATCH, never other bytes.
 */
import crypto from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { isPosternError, type PosternError } from '../../src/errors/index.js';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import { ingestMessage, type StoredResult } from '../../src/services/inbound/ingest-message.js';
import { InteractionService, type Viewer } from '../../src/services/inbox/interaction-service.js';
import { insertOutgoingMessage, type Database, type EmailAccountRecord } from '../../src/store/index.js';
import { migrateDown, migrateToLatest } from '../../src/store/migrations/index.js';
import { forEachEngine } from '../helpers/store.js';
import { buildAccount, buildMessage } from './helpers.js';
import { ingestNew } from '../helpers/store-factories.js';

const ADMIN: Viewer = { userId: 0, role: 'admin' };
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const PDF = crypto.randomBytes(7000);
const NOTES = Buffer.from('café = latte', 'utf8');

/** A message with an inline cid image (in multipart/related), a binary attachment and a quoted-printable text one. */
function buildAttachedMessage(messageId: string, pdf: Buffer = PDF): Buffer {
  return Buffer.from(
    [
      'From: Grace <grace@example.org>',
      'To: support@contoso.com',
      'Subject: Invoice and screenshot',
      `Message-ID: ${messageId}`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary=outer',
      '',
      '--outer',
      'Content-Type: multipart/related; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>See <img src="cid:shot@x"></p>',
      '--inner',
      'Content-Type: image/png',
      'Content-ID: <shot@x>',
      'Content-Disposition: inline',
      'Content-Transfer-Encoding: base64',
      '',
      PNG.toString('base64'),
      '--inner--',
      '--outer',
      'Content-Type: application/pdf; name="invoice.pdf"',
      'Content-Disposition: attachment; filename="invoice.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      pdf.toString('base64').replace(/.{76}/g, '$&\r\n').trimEnd(),
      '--outer',
      'Content-Type: text/plain; charset=utf-8; name="notes.txt"',
      'Content-Disposition: attachment; filename="notes.txt"',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'caf=C3=A9 =3D latte',
      '--outer--',
      '',
    ].join('\r\n'),
  );
}

const sha256 = (bytes: Buffer): string => crypto.createHash('sha256').update(bytes).digest('hex');

async function attachmentRows(db: Database, messageRowId: number) {
  return db.kysely.selectFrom('attachments').selectAll().where('message_id', '=', messageRowId).orderBy('id').execute();
}

/** The error `promise` rejects with, or a failure when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<PosternError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isPosternError(error)) throw new Error(`expected a PosternError, got ${String(error)}`);
  return error;
}

forEachEngine((engine, openFresh) => {
  let db: Database;
  let account: EmailAccountRecord;
  let interactions: InteractionService;
  let uid = 0;

  async function ingest(raw: Buffer): Promise<StoredResult> {
    uid += 1;
    const result = await ingestMessage(db, account, { folder: 'INBOX', uidvalidity: 1, uid, raw, isJunk: false });
    if (result.outcome !== 'stored') throw new Error(`expected a stored message, got ${JSON.stringify(result)}`);
    return result;
  }

  beforeAll(async () => {
    db = await openFresh();
    account = await buildAccount(db);
    interactions = new InteractionService(db);
  });

  it('stores an inbound attachment once: empty content, its position in the raw MIME, its digest', async () => {
    const { messageRowId } = await ingest(buildAttachedMessage(`<rows-${engine}@example.org>`));
    const rows = await attachmentRows(db, messageRowId);
    expect(
      rows.map((row) => ({
        filename: row.filename,
        rawPart: row.raw_part,
        contentLength: row.content.length,
        size: row.size,
        inline: row.inline,
      })),
    ).toEqual([
      { filename: 'attachment-1.png', rawPart: 0, contentLength: 0, size: PNG.length, inline: 1 },
      { filename: 'invoice.pdf', rawPart: 1, contentLength: 0, size: PDF.length, inline: 0 },
      { filename: 'notes.txt', rawPart: 2, contentLength: 0, size: NOTES.length, inline: 0 },
    ]);
    expect(rows.map((row) => row.sha256)).toEqual([sha256(PNG), sha256(PDF), sha256(NOTES)]);
  });

  it('downloads exactly the original bytes of each part, the inline cid image too', async () => {
    const { messageRowId } = await ingest(buildAttachedMessage(`<download-${engine}@example.org>`));
    const [image, pdf, notes] = await attachmentRows(db, messageRowId);
    if (image === undefined || pdf === undefined || notes === undefined) throw new Error('attachments missing');

    const inline = await interactions.attachment(ADMIN, messageRowId, image.id);
    expect(inline).toMatchObject({
      id: image.id,
      messageId: messageRowId,
      contentType: 'image/png',
      contentId: 'shot@x',
      inline: true,
      size: PNG.length,
    });
    expect(inline.content.equals(PNG)).toBe(true);
    expect(Object.keys(inline)).not.toContain('rawPart');

    const invoice = await interactions.attachment(ADMIN, messageRowId, pdf.id);
    expect(invoice).toMatchObject({ filename: 'invoice.pdf', contentType: 'application/pdf', inline: false });
    expect(invoice.content.equals(PDF)).toBe(true);
    expect((await interactions.attachment(ADMIN, messageRowId, notes.id)).content.equals(NOTES)).toBe(true);
  });

  it('parses with the parse function it is given', async () => {
    const { messageRowId } = await ingest(buildAttachedMessage(`<parse-${engine}@example.org>`));
    const [image] = await attachmentRows(db, messageRowId);
    let parsed = 0;
    const counting = new InteractionService(db, {
      parse: (raw) => {
        parsed += 1;
        return parseMessage(raw);
      },
    });
    expect((await counting.attachment(ADMIN, messageRowId, image?.id ?? 0)).content.equals(PNG)).toBe(true);
    expect(parsed).toBe(1);
  });

  it('downloads an outgoing attachment from its stored content', async () => {
    const { interactionId } = await ingest(buildMessage({ messageId: `<thread-${engine}@example.org>` }));
    const receipt = crypto.randomBytes(1500);
    const messageRowId = await insertOutgoingMessage(
      db,
      {
        accountId: account.id,
        interactionId,
        messageId: `<out-${engine}@contoso.com>`,
        inReplyTo: null,
        references: [],
        from: { name: 'Support', address: account.emailAddress },
        to: [{ name: '', address: 'ada@example.org' }],
        cc: [],
        bcc: [],
        replyTo: [],
        subject: 'Your receipt',
        text: 'Attached.',
        html: null,
        date: new Date('2026-03-02T10:00:00.000Z'),
        authorUserId: null,
        isAutoReply: false,
        attachments: [
          {
            filename: 'receipt.bin',
            contentType: 'application/octet-stream',
            size: receipt.length,
            contentId: null,
            inline: false,
            sha256: sha256(receipt),
            content: receipt,
          },
        ],
      },
      // Not the composed MIME: proof that the bytes come from the row, not from parsing.
      Buffer.from('Subject: Your receipt\r\n\r\nAttached.\r\n'),
    );
    const [row] = await attachmentRows(db, messageRowId);
    expect(row).toMatchObject({ raw_part: null });
    expect(row?.content.length).toBe(receipt.length);
    const download = await interactions.attachment(ADMIN, messageRowId, row?.id ?? 0);
    expect(download).toMatchObject({ filename: 'receipt.bin', contentType: 'application/octet-stream' });
    expect(download.content.equals(receipt)).toBe(true);
  });

  it('refuses, with STORE_ATTACHMENT_MISMATCH, a part whose raw MIME no longer holds the stored bytes', async () => {
    const raw = buildAttachedMessage(`<tampered-${engine}@example.org>`);
    const { messageRowId } = await ingest(raw);
    const [image, pdf] = await attachmentRows(db, messageRowId);
    if (image === undefined || pdf === undefined) throw new Error('attachments missing');
    // The same structure, another PDF of the same length: the digest gives it away.
    const other = Buffer.from(PDF);
    other[100] = (other[100] ?? 0) ^ 0xff;
    const tampered = buildAttachedMessage(`<tampered-${engine}@example.org>`, other);
    await db.kysely.updateTable('message_raw').set({ raw: tampered }).where('message_id', '=', messageRowId).execute();

    const error = await rejection(interactions.attachment(ADMIN, messageRowId, pdf.id));
    expect(error).toMatchObject({
      code: 'STORE_ATTACHMENT_MISMATCH',
      status: 500,
      details: { id: pdf.id, messageId: messageRowId, rawPart: 1 },
    });
    expect(error.message).toContain(`Attachment ${pdf.id} of message ${messageRowId} no longer matches part 1`);
    expect(error.remedy).toContain('.eml');
    // A part that still matches is still served.
    expect((await interactions.attachment(ADMIN, messageRowId, image.id)).content.equals(PNG)).toBe(true);

    // A raw MIME without the part at all.
    await db.kysely
      .updateTable('message_raw')
      .set({ raw: buildMessage() })
      .where('message_id', '=', messageRowId)
      .execute();
    const missing = await rejection(interactions.attachment(ADMIN, messageRowId, image.id));
    expect(missing).toMatchObject({ code: 'STORE_ATTACHMENT_MISMATCH', details: { rawPart: 0 } });
    expect(missing.message).toContain('has only 0 attachments');
  });

  it('keeps serving an inbound attachment stored with its content before migration 0009', async () => {
    const legacy = await openFresh();
    const legacyAccount = await buildAccount(legacy);
    const result = await ingestNew(legacy, legacyAccount, buildMessage(), 1);
    await migrateDown(legacy, '0008-grant-email');
    const bytes = crypto.randomBytes(900);
    // As ingest wrote attachments before 0009: the bytes in the row.
    await legacy.kysely
      .insertInto('attachments')
      .values({
        message_id: result.messageRowId,
        filename: 'old.bin',
        content_type: 'application/octet-stream',
        size: bytes.length,
        content_id: null,
        inline: 0,
        sha256: sha256(bytes),
        content: bytes,
      })
      .execute();
    // 0009 first; later migrations (whatever they are) follow it.
    expect((await migrateToLatest(legacy)).applied[0]).toBe('0009-attachments-in-raw');

    const [row] = await attachmentRows(legacy, result.messageRowId);
    expect(row).toMatchObject({ raw_part: null, filename: 'old.bin' });
    const download = await new InteractionService(legacy).attachment(ADMIN, result.messageRowId, row?.id ?? 0);
    expect(download.content.equals(bytes)).toBe(true);
  });
});
