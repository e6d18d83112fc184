/**
 * Issue 19, point 5: the sweep of originals (services/retention/) on both engines, over messages
 * ingested for real. An old message loses its raw MIME and its attached PDF but keeps its text and
 * the inline image its HTML shows (parsed out of the raw MIME); a younger one and an account
 * without retention keep everything; the claim lets one node sweep at a time and passes on when its
 * holder goes silent or lets go; and on SQLite the database file is smaller afterwards — the
 * space really goes back to the file system.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { isPosternError } from '../../src/errors/index.js';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import { RawRetentionService } from '../../src/services/retention/raw-retention-service.js';
import {
  getMessage,
  getMessageRaw,
  getStoredAttachment,
  sweepHolder,
  updateEmailAccount,
  type EmailAccountRecord,
} from '../../src/store/index.js';
import { buildAccount, buildMessage } from '../ingest/helpers.js';
import { buildMessageWithParts } from '../helpers/mime-with-parts.js';
import { ingestNew } from '../helpers/store-factories.js';
import { forEachEngine, type FreshDatabase } from '../helpers/store.js';

const DAY = 86_400_000;
const START = new Date('2026-01-10T08:00:00.000Z');

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
}

forEachEngine((engine, openFresh) => {
  let now = START;
  let db: FreshDatabase;
  let service: RawRetentionService;
  let uid = 0;

  beforeAll(async () => {
    db = await openFresh({ clock: () => now });
    service = new RawRetentionService(db, { parse: (raw) => parseMessage(raw), batchSize: 2 });
  });

  const ingest = async (account: EmailAccountRecord, raw: Buffer) => {
    uid += 1;
    return ingestNew(db, account, raw, uid);
  };

  it('removes the raw MIME and the attached file of an old message, keeping its text and its shown inline image', async () => {
    now = START;
    const account = await updateEmailAccount(db, (await buildAccount(db)).id, { rawRetentionDays: 30 });
    const other = await buildAccount(db);
    const image = crypto.randomBytes(3000);
    const pdf = crypto.randomBytes(20_000);
    const raw = buildMessageWithParts({ subject: 'Invoice', text: 'Please find the invoice.', image, pdf });
    const old = await ingest(account, raw);
    const olds = [old, await ingest(account, buildMessage()), await ingest(account, buildMessage())];
    const untouched = await ingest(other, buildMessage());
    now = new Date(START.getTime() + 40 * DAY);
    const young = await ingest(account, buildMessage({ body: 'A recent question' }));

    const stored = await getMessage(db, old.messageRowId);
    const [logo, invoice] = stored?.attachments ?? [];
    expect([logo?.filename, logo?.inline, invoice?.filename]).toEqual(['logo.png', true, 'invoice.pdf']);

    const sweep = await service.sweep();
    // Three messages in batches of two; the PDF dropped; the logo's bytes copied out of the raw MIME.
    expect(sweep).toMatchObject({ messages: 3, attachments: 1, imagesLost: 0, complete: true });
    expect(sweep.bytes).toBeGreaterThan(raw.length - image.length);

    const error = await errorOf(getMessageRaw(db, old.messageRowId));
    expect(isPosternError(error, 'MESSAGE_ORIGINAL_EXPIRED')).toBe(true);
    expect(isPosternError(await errorOf(getStoredAttachment(db, old.messageRowId, invoice?.id ?? 0)))).toBe(true);
    const kept = await getStoredAttachment(db, old.messageRowId, logo?.id ?? 0);
    expect('content' in kept && kept.content.equals(image)).toBe(true);
    const after = await getMessage(db, old.messageRowId);
    expect(after?.text).toContain('Please find the invoice.');
    expect(after?.html).toContain('data-postern-inline="0"');
    expect(after?.originalRemovedAt).toBe(now.toISOString());
    for (const result of olds.slice(1))
      expect((await getMessage(db, result.messageRowId))?.originalRemovedAt).not.toBeNull();

    expect((await getMessageRaw(db, young.messageRowId)).toString()).toContain('A recent question');
    expect((await getMessageRaw(db, untouched.messageRowId)).length).toBeGreaterThan(0);
    // Nothing left: a second sweep removes nothing.
    expect(await service.sweep()).toMatchObject({ messages: 0, attachments: 0, bytes: 0 });
  });

  it('never keeps other bytes in place of an inline image: one the raw MIME no longer yields goes and is counted', async () => {
    now = START;
    const account = await updateEmailAccount(db, (await buildAccount(db)).id, { rawRetentionDays: 5 });
    const raw = buildMessageWithParts({
      subject: 'Logo',
      text: 'See our logo.',
      image: crypto.randomBytes(1000),
      pdf: crypto.randomBytes(1000),
    });
    const result = await ingest(account, raw);
    const logo = (await getMessage(db, result.messageRowId))?.attachments.find((item) => item.inline);
    // As if the parser now split the raw MIME differently: the digest recorded at ingest no longer matches.
    await db.kysely
      .updateTable('attachments')
      .set({ sha256: '0'.repeat(64) })
      .where('id', '=', logo?.id ?? 0)
      .execute();
    now = new Date(START.getTime() + 6 * DAY);
    expect(await service.sweep()).toMatchObject({ messages: 1, attachments: 2, imagesLost: 1 });
    const error = await errorOf(getStoredAttachment(db, result.messageRowId, logo?.id ?? 0));
    expect(isPosternError(error, 'MESSAGE_ORIGINAL_EXPIRED')).toBe(true);
    expect((await getMessage(db, result.messageRowId))?.text).toContain('See our logo.');
  });

  it('lets one node sweep at a time, and passes the claim on when its holder is silent or lets go', async () => {
    now = new Date('2026-03-01T00:00:00.000Z');
    const hour = 3_600_000;
    expect(await service.claim('node-a', 2 * hour)).toBe(true);
    expect(await service.claim('node-b', 2 * hour)).toBe(false);
    // The holder renews; a sweep on the other node stops before its first batch.
    now = new Date(now.getTime() + hour);
    expect(await service.claim('node-a', 2 * hour)).toBe(true);
    expect(await service.sweep(() => service.claim('node-b', 2 * hour))).toMatchObject({ complete: false });
    expect((await sweepHolder(db, 'raw-retention'))?.nodeId).toBe('node-a');
    // node-a goes silent for longer than the lease: node-b takes over.
    now = new Date(now.getTime() + 2 * hour + 1);
    expect(await service.claim('node-b', 2 * hour)).toBe(true);
    expect(await service.claim('node-a', 2 * hour)).toBe(false);
    // Letting go of a claim one does not hold changes nothing; the holder's release frees it at once.
    await service.release('node-a');
    expect((await sweepHolder(db, 'raw-retention'))?.nodeId).toBe('node-b');
    await service.release('node-b');
    expect(await sweepHolder(db, 'raw-retention')).toBeUndefined();
    expect(await service.claim('node-a', 2 * hour)).toBe(true);
    await service.release('node-a');
  });

  describe.runIf(engine === 'sqlite')('on SQLite', () => {
    it('gives the space back: the database file shrinks by about what the originals took', async () => {
      now = START;
      const fresh = await openFresh({ clock: () => now });
      const sweeper = new RawRetentionService(fresh, { parse: (raw) => parseMessage(raw), vacuumPages: 256 });
      const account = await updateEmailAccount(fresh, (await buildAccount(fresh)).id, { rawRetentionDays: 7 });
      // 20 messages of about 300 KB each, their attachment incompressible.
      for (let i = 0; i < 20; i += 1) {
        uid += 1;
        const raw = buildMessageWithParts({
          subject: `Scan ${i}`,
          text: `Scan number ${i}`,
          image: crypto.randomBytes(512),
          pdf: crypto.randomBytes(220 * 1024),
        });
        await ingestNew(fresh, account, raw, uid);
      }
      const file = fresh.sqliteFile ?? '';
      const pages = async (): Promise<number> => {
        const count = await sql<{ page_count: number }>`pragma page_count`.execute(fresh.kysely);
        const size = await sql<{ page_size: number }>`pragma page_size`.execute(fresh.kysely);
        return Number(count.rows[0]?.page_count ?? 0) * Number(size.rows[0]?.page_size ?? 0);
      };
      const checkpoint = () => sql`pragma wal_checkpoint(TRUNCATE)`.execute(fresh.kysely);
      await checkpoint();
      const fileBefore = fs.statSync(file).size;
      const pagesBefore = await pages();
      expect(fileBefore).toBeGreaterThan(20 * 300 * 1024);

      now = new Date(START.getTime() + 8 * DAY);
      const sweep = await sweeper.sweep();
      expect(sweep.messages).toBe(20);
      await checkpoint();
      const fileAfter = fs.statSync(file).size;
      const freelist = await sql<{ freelist_count: number }>`pragma freelist_count`.execute(fresh.kysely);
      expect(Number(freelist.rows[0]?.freelist_count)).toBe(0);
      // What the sweep says it gave up, the file gave back (within 10 %): 20 × ~300 KB of base64 MIME.
      expect(sweep.bytes).toBeGreaterThan(20 * 300 * 1024);
      expect(pagesBefore - (await pages())).toBeGreaterThan(sweep.bytes * 0.9);
      expect(fileBefore - fileAfter).toBeGreaterThan(sweep.bytes * 0.9);
    });
  });
});
