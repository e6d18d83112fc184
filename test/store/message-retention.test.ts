/**
 * Issue 19, point 5: the store side of the retention of originals (store/message-retention.ts,
 * migration 0030), on both engines. Old originals are found (outgoing ones only once sent), their
 * removal deletes the raw MIME and the attached files' bytes but keeps the inline image handed
 * over, reading them afterwards says MESSAGE_ORIGINAL_EXPIRED, a second removal changes nothing,
 * the account's setting is held to 1–3650 days by the database too, and on SQLite the freed pages
 * go back to the file system.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import {
  createContact,
  createEmailAccount,
  createInteraction,
  createList,
  findExpiredOriginals,
  getMessage,
  getMessageRaw,
  getStoredAttachment,
  insertInboundMessage,
  insertOutgoingMessage,
  listRetentionAccounts,
  releaseFreePages,
  removeOriginals,
  updateEmailAccount,
  type Database,
  type NewInboundAttachment,
} from '../../src/store/index.js';
import { isPosternError } from '../../src/errors/index.js';
import { forEachEngine, type FreshDatabase } from '../helpers/store.js';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const DAY = 86_400_000;

function attachment(filename: string, inline: boolean, bytes: Buffer): NewInboundAttachment {
  return {
    filename,
    contentType: inline ? 'image/png' : 'application/pdf',
    size: bytes.length,
    contentId: inline ? `<${filename}@example.org>` : null,
    inline,
    sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
  };
}

async function expectExpired(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isPosternError(error, 'MESSAGE_ORIGINAL_EXPIRED')).toBe(true);
}

forEachEngine((engine, openFresh) => {
  let db: FreshDatabase;
  let accountId: number;
  let otherAccountId: number;
  let interactionId: number;
  let serial = 0;

  beforeAll(async () => {
    db = await openFresh({ clock: () => NOW });
    const listId = (await createList(db, { name: 'Customers' })).id;
    accountId = (
      await createEmailAccount(db, {
        name: 'Support',
        key: 'SUP',
        emailAddress: 'support@contoso.com',
        username: 'support@contoso.com',
        rawRetentionDays: 30,
      })
    ).id;
    otherAccountId = (
      await createEmailAccount(db, {
        name: 'Sales',
        key: 'SAL',
        emailAddress: 'sales@contoso.com',
        username: 'sales@contoso.com',
      })
    ).id;
    const contactId = (await createContact(db, { listId, name: 'Ada', addresses: ['ada@example.org'] })).id;
    interactionId = (
      await createInteraction(db, { accountId, contactId, subject: 'Order', tokenCheck: 'ABCD', at: NOW })
    ).id;
  });

  async function inbound(
    receivedAt: Date,
    options: {
      raw?: Buffer;
      attachments?: NewInboundAttachment[];
      html?: string | null;
      account?: number;
      into?: { db: Database; accountId: number; interactionId: number };
    } = {},
  ): Promise<number> {
    serial += 1;
    const id = await insertInboundMessage(
      options.into?.db ?? db,
      {
        accountId: options.into?.accountId ?? options.account ?? accountId,
        interactionId: options.into?.interactionId ?? interactionId,
        messageId: `<m${serial}.${engine}@example.org>`,
        inReplyTo: null,
        references: [],
        from: [{ name: 'Ada', address: 'ada@example.org' }],
        to: [{ name: '', address: 'support@contoso.com' }],
        cc: [],
        bcc: [],
        replyTo: [],
        subject: `Message ${serial}`,
        text: `Text of message ${serial}`,
        html: options.html ?? null,
        headerDate: receivedAt,
        isAutoReply: false,
        isBounce: false,
        isList: false,
        isJunk: false,
        folder: 'INBOX',
        uidValidity: 1,
        uid: serial,
        rawSize: options.raw?.length ?? 20,
        receivedAt,
        attachments: options.attachments ?? [],
      },
      options.raw ?? Buffer.from(`Subject: Message ${serial}\r\n\r\nHello\r\n`),
    );
    if (id === undefined) throw new Error('not stored');
    return id;
  }

  it('finds and removes old originals, keeps the inline image handed over, and says the rest expired', async () => {
    const image = Buffer.from('inline image bytes');
    const pdf = Buffer.from('%PDF- the invoice');
    const oldRaw = Buffer.from('Subject: Old\r\n\r\nHello, with a logo and an invoice\r\n');
    const old = await inbound(new Date(NOW.getTime() - 40 * DAY), {
      raw: oldRaw,
      html: '<p>See <img data-postern-inline="0"></p>',
      attachments: [attachment('logo.png', true, image), attachment('invoice.pdf', false, pdf)],
    });
    const recent = await inbound(new Date(NOW.getTime() - 10 * DAY));
    const otherAccount = await inbound(new Date(NOW.getTime() - 400 * DAY), { account: otherAccountId });

    expect(await listRetentionAccounts(db)).toEqual([{ accountId, days: 30 }]);
    const cutoff = new Date(NOW.getTime() - 30 * DAY);
    const due = await findExpiredOriginals(db, accountId, cutoff, 10);
    expect(due.map((item) => item.messageId)).toEqual([old]);
    const [logo, invoice] = due[0]?.attachments ?? [];
    expect(logo).toMatchObject({ position: 0, inline: true, rawPart: 0 });
    expect(invoice).toMatchObject({ position: 1, inline: false, rawPart: 1 });

    const removed = await removeOriginals(
      db,
      [{ messageId: old, keep: [{ attachmentId: logo?.id ?? 0, content: image }] }],
      NOW,
    );
    // The raw MIME went (the invoice's bytes were in it); the logo's bytes were copied out of it.
    expect(removed).toEqual({ messages: 1, attachments: 1, bytes: oldRaw.length - image.length });

    await expectExpired(getMessageRaw(db, old));
    await expectExpired(getStoredAttachment(db, old, invoice?.id ?? 0));
    expect(await getStoredAttachment(db, old, logo?.id ?? 0)).toMatchObject({ content: image, removed: false });
    const message = await getMessage(db, old);
    expect(message?.originalRemovedAt).toBe(NOW.toISOString());
    expect(message?.text).toContain('Text of message');
    expect(message?.attachments.map((item) => [item.filename, item.removed])).toEqual([
      ['logo.png', false],
      ['invoice.pdf', true],
    ]);
    // The recent message and the account without retention keep theirs.
    expect((await getMessageRaw(db, recent)).toString()).toContain('Hello');
    expect((await getMessageRaw(db, otherAccount)).toString()).toContain('Hello');
    expect((await getMessage(db, recent))?.originalRemovedAt).toBeNull();

    // Nothing left to find; a second removal of the same message is a no-op.
    expect(await findExpiredOriginals(db, accountId, cutoff, 10)).toEqual([]);
    expect(await removeOriginals(db, [{ messageId: old, keep: [] }], NOW)).toEqual({
      messages: 0,
      attachments: 0,
      bytes: 0,
    });
    expect(await getStoredAttachment(db, old, logo?.id ?? 0)).toMatchObject({ content: image });
  });

  it('leaves an outgoing message alone until it is sent', async () => {
    const at = new Date(NOW.getTime() - 90 * DAY);
    const outgoing = await insertOutgoingMessage(
      db,
      {
        accountId,
        interactionId,
        messageId: `<out.${engine}@contoso.com>`,
        inReplyTo: null,
        references: [],
        from: { name: 'Support', address: 'support@contoso.com' },
        to: [{ name: 'Ada', address: 'ada@example.org' }],
        cc: [],
        bcc: [],
        replyTo: [],
        subject: 'Re: Order',
        text: 'Our answer',
        html: null,
        date: at,
        authorUserId: null,
        isAutoReply: false,
        attachments: [],
      },
      Buffer.from('Subject: Re: Order\r\n\r\nOur answer\r\n'),
    );
    const cutoff = new Date(NOW.getTime() - 30 * DAY);
    expect((await findExpiredOriginals(db, accountId, cutoff, 10)).map((item) => item.messageId)).not.toContain(
      outgoing,
    );
    for (const state of ['failed', 'cancelled'] as const) {
      await db.kysely.updateTable('messages').set({ delivery_state: state }).where('id', '=', outgoing).execute();
      expect((await findExpiredOriginals(db, accountId, cutoff, 10)).map((item) => item.messageId)).toEqual([]);
    }
    await db.kysely.updateTable('messages').set({ delivery_state: 'sent' }).where('id', '=', outgoing).execute();
    expect((await findExpiredOriginals(db, accountId, cutoff, 10)).map((item) => item.messageId)).toEqual([outgoing]);
  });

  it('holds the retention to 1–3650 days in the database too, and null keeps originals for ever', async () => {
    for (const days of [0, -1, 3651]) {
      const error = await updateEmailAccount(db, otherAccountId, { rawRetentionDays: days }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error, `${days} days`).toBeInstanceOf(Error);
    }
    expect((await updateEmailAccount(db, otherAccountId, { rawRetentionDays: 3650 })).rawRetentionDays).toBe(3650);
    expect((await updateEmailAccount(db, otherAccountId, { rawRetentionDays: null })).rawRetentionDays).toBeNull();
  });

  it('gives the freed space back: the SQLite file shrinks; PostgreSQL has nothing to release', async () => {
    const fresh = await openFresh({ clock: () => NOW });
    const list = (await createList(fresh, { name: 'L' })).id;
    const account = (
      await createEmailAccount(fresh, {
        name: 'Big',
        key: 'BIG',
        emailAddress: 'big@contoso.com',
        username: 'big@contoso.com',
        rawRetentionDays: 1,
      })
    ).id;
    const contact = (await createContact(fresh, { listId: list, name: 'B', addresses: ['b@x.org'] })).id;
    const conversation = (
      await createInteraction(fresh, {
        accountId: account,
        contactId: contact,
        subject: 'S',
        tokenCheck: 'WXYZ',
        at: NOW,
      })
    ).id;
    const into = { db: fresh, accountId: account, interactionId: conversation };
    for (let i = 0; i < 24; i += 1)
      await inbound(new Date(NOW.getTime() - 5 * DAY), { raw: crypto.randomBytes(256 * 1024), into });
    const size = (): number => (fresh.sqliteFile === undefined ? 0 : fs.statSync(fresh.sqliteFile).size);
    const checkpoint = async (): Promise<void> => {
      if (engine === 'sqlite') await sql`pragma wal_checkpoint(TRUNCATE)`.execute(fresh.kysely);
    };
    await checkpoint();
    const before = size();
    const due = await findExpiredOriginals(fresh, account, new Date(NOW.getTime() - DAY), 100);
    expect(due).toHaveLength(24);
    await removeOriginals(
      fresh,
      due.map((item) => ({ messageId: item.messageId, keep: [] })),
      NOW,
    );
    let remaining = await releaseFreePages(fresh, 64);
    let rounds = 1;
    while (remaining > 0 && rounds < 1000) {
      remaining = await releaseFreePages(fresh, 64);
      rounds += 1;
    }
    expect(remaining).toBe(0);
    await checkpoint();
    if (engine === 'sqlite') {
      // 6 MB of originals went; the file is at least 5 MB smaller, in several bounded steps.
      expect(rounds).toBeGreaterThan(1);
      expect(before - size()).toBeGreaterThan(5 * 1024 * 1024);
    } else expect(rounds).toBe(1);
  });
});
