/**
 * ingestPrepared on both engines: several messages in one transaction (a group commit) — each
 * stored, threaded and counted as alone, the checkpoint left on the group's last UID, duplicates
 * inside the group recognised, and the whole group rolled back when one message cannot be stored.
 * The group's rows are written at its end with ids drawn ahead (store/group-writes.ts): a second
 * writer storing the same messages at the same time makes the group run again, never store twice.
 */
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { ingestPrepared, prepareMessage, type IngestInput } from '../../src/services/inbound/ingest-message.js';
import { GroupWriteRaced } from '../../src/store/group-writes.js';
import {
  closeInteraction,
  countAccountMessages,
  findContactByAddress,
  getCheckpoint,
  requireInteraction,
  type Database,
  type EmailAccountRecord,
} from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';
import { buildAccount, buildMessage } from './helpers.js';

forEachEngine((engine, openFresh) => {
  let db: Database;
  let account: EmailAccountRecord;

  beforeAll(async () => {
    db = await openFresh();
    account = await buildAccount(db);
  });

  const at = (uid: number, raw: Buffer): IngestInput => ({ folder: 'INBOX', uidvalidity: 7, uid, raw, isJunk: false });

  it('stores a group in one call: threads within the group, recognises a duplicate, leaves the checkpoint on the last UID', async () => {
    const first = buildMessage({ messageId: `<g1-${engine}@example.org>`, subject: 'Printer' });
    const reply = buildMessage({
      messageId: `<g2-${engine}@example.org>`,
      inReplyTo: `<g1-${engine}@example.org>`,
      subject: 'Re: Printer',
    });
    const prepared = await Promise.all(
      [at(1, first), at(2, reply), at(3, first)].map((input) => prepareMessage(input)),
    );
    const results = await ingestPrepared(db, account, prepared);

    expect(results.map((result) => result.outcome)).toEqual(['stored', 'stored', 'duplicate']);
    const [stored, threaded, duplicate] = results;
    if (stored?.outcome !== 'stored' || threaded?.outcome !== 'stored' || duplicate?.outcome !== 'duplicate')
      throw new Error('unexpected outcomes');
    expect(threaded).toMatchObject({
      threadedBy: 'in-reply-to',
      interactionId: stored.interactionId,
      interactionCreated: false,
    });
    expect(duplicate).toMatchObject({ matchedBy: 'message-id', messageRowId: stored.messageRowId });
    expect(await requireInteraction(db, stored.interactionId)).toMatchObject({ messageCount: 2, unreadCount: 2 });
    expect(await getCheckpoint(db, account.id, 'INBOX')).toMatchObject({ uidValidity: 7, lastUid: 3 });
  });

  it('rolls the whole group back, checkpoint included, when one of its messages cannot be stored', async () => {
    const before = await countAccountMessages(db, account.id);
    // A default list that does not exist: the second message's new sender cannot be saved.
    const broken = { ...account, defaultListId: 987_654 };
    const known = buildMessage({ from: 'Ada Lovelace <ada@example.org>', subject: 'Known sender' });
    const stranger = buildMessage({ from: `Stranger <stranger-${engine}@example.org>`, subject: 'New sender' });
    const prepared = await Promise.all([at(10, known), at(11, stranger)].map((input) => prepareMessage(input)));

    await expect(ingestPrepared(db, broken, prepared)).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
    expect(await countAccountMessages(db, account.id)).toBe(before);
    expect(await getCheckpoint(db, account.id, 'INBOX')).toMatchObject({ lastUid: 3 });

    const retried = await ingestPrepared(db, account, prepared);
    expect(retried.map((result) => result.outcome)).toEqual(['stored', 'stored']);
    expect(await getCheckpoint(db, account.id, 'INBOX')).toMatchObject({ lastUid: 11 });
  });

  it('advances the checkpoint of each folder a group touches', async () => {
    const prepared = await Promise.all(
      [
        { folder: 'INBOX', uidvalidity: 7, uid: 12, raw: buildMessage(), isJunk: false },
        { folder: 'Junk Email', uidvalidity: 9, uid: 4, raw: buildMessage(), isJunk: true },
        { folder: 'Junk Email', uidvalidity: 9, uid: 5, raw: buildMessage(), isJunk: true },
      ].map((input) => prepareMessage(input)),
    );
    await ingestPrepared(db, account, prepared);
    expect(await getCheckpoint(db, account.id, 'INBOX')).toMatchObject({ lastUid: 12 });
    expect(await getCheckpoint(db, account.id, 'Junk Email')).toMatchObject({ uidValidity: 9, lastUid: 5 });
  });

  it('counts several messages of one group in a conversation stored before: counters summed, latest activity, reopened', async () => {
    const root = buildMessage({ messageId: `<r0-${engine}@example.org>`, subject: 'Invoice' });
    const [opened] = await ingestPrepared(db, account, [
      await prepareMessage({ ...at(20, root), internalDate: new Date(Date.UTC(2025, 0, 15, 9)) }),
    ]);
    if (opened?.outcome !== 'stored') throw new Error('the first message was not stored');
    await closeInteraction(db, opened.interactionId);

    const replies = [21, 22, 23].map((uid, index) =>
      at(
        uid,
        buildMessage({
          messageId: `<r${index + 1}-${engine}@example.org>`,
          inReplyTo: `<r0-${engine}@example.org>`,
          subject: 'Re: Invoice',
          date: `Wed, 15 Jan 2025 1${index}:00:00 +0000`,
        }),
      ),
    );
    const dated = replies.map((input, index) => ({
      ...input,
      internalDate: new Date(Date.UTC(2025, 0, 16, 9, 30 - index)),
    }));
    const results = await ingestPrepared(db, account, await Promise.all(dated.map((input) => prepareMessage(input))));

    expect(results.map((result) => result.outcome === 'stored' && result.interactionId)).toEqual([
      opened.interactionId,
      opened.interactionId,
      opened.interactionId,
    ]);
    const interaction = await requireInteraction(db, opened.interactionId);
    expect(interaction).toMatchObject({ messageCount: 4, unreadCount: 4, status: 'open', closedAt: null });
    // The group's first message is its latest (the times go back): activity never moves back.
    expect(new Date(interaction.lastActivityAt).toISOString()).toBe('2025-01-16T09:30:00.000Z');
  });

  it('gives each new conversation of a group its own id and a subject token holding it', async () => {
    const prepared = await Promise.all(
      [30, 31, 32].map((uid) => prepareMessage(at(uid, buildMessage({ subject: `Question ${uid}` })))),
    );
    const results = await ingestPrepared(db, account, prepared);
    const ids = results.map((result) => (result.outcome === 'stored' ? result.interactionId : 0));
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) {
      const interaction = await requireInteraction(db, id);
      expect(interaction.subjectToken).toContain(`${id}-`);
      expect(interaction).toMatchObject({ messageCount: 1, unreadCount: 1 });
    }
    const rowIds = results.map((result) => result.messageRowId);
    expect([...rowIds].sort((a, b) => a - b)).toEqual(rowIds);
  });

  it('stores each message and each new sender once when two writers store the same group at the same time', async () => {
    const racer = await buildAccount(db);
    const inputs = [1, 2, 3, 4].map((uid) =>
      at(
        uid,
        buildMessage({
          messageId: `<race${uid}-${engine}@example.org>`,
          from: `Racer ${uid % 2} <racer${uid % 2}-${engine}@example.org>`,
          subject: `Race ${uid}`,
        }),
      ),
    );
    const [first, second] = await Promise.all([
      Promise.all(inputs.map((input) => prepareMessage(input))).then((prepared) => ingestPrepared(db, racer, prepared)),
      Promise.all(inputs.map((input) => prepareMessage(input))).then((prepared) => ingestPrepared(db, racer, prepared)),
    ]);
    const outcomes = [...(first ?? []), ...(second ?? [])].map((result) => result.outcome);
    expect(outcomes.filter((outcome) => outcome === 'stored')).toHaveLength(4);
    expect(outcomes.filter((outcome) => outcome === 'duplicate')).toHaveLength(4);
    expect(await countAccountMessages(db, racer.id)).toBe(4);
    // No conversation was left behind by the writer that lost: one per message.
    const { rows } = await sql<{
      count: number | string;
    }>`select count(*) as count from interactions where account_id = ${racer.id}`.execute(db.kysely);
    expect(Number(rows[0]?.count)).toBe(4);
    const contacts = await Promise.all([0, 1].map((n) => findContactByAddress(db, `racer${n}-${engine}@example.org`)));
    expect(contacts.map((contact) => contact?.addresses.length)).toEqual([1, 1]);
  });

  it('runs a group again when it meets another writer, and gives up after three with INGEST_WRITE_CONTENDED, nothing stored', async () => {
    const contended = await buildAccount(db);
    const prepared = await Promise.all(
      [40, 41].map((uid) =>
        prepareMessage(at(uid, buildMessage({ messageId: `<contended${uid}-${engine}@example.org>` }))),
      ),
    );
    // The transaction's first statement meets "another writer" (what GroupWriteRaced reports).
    let runs = 0;
    const racedEvery = (times: number) => async (): Promise<void> => {
      runs += 1;
      if (runs <= times) throw new GroupWriteRaced();
    };

    await expect(ingestPrepared(db, contended, prepared, { fence: racedEvery(3) })).rejects.toMatchObject({
      code: 'INGEST_WRITE_CONTENDED',
      kind: 'transient',
      details: { accountId: contended.id, messages: 2, attempts: 3 },
    });
    expect(runs).toBe(3);
    expect(await countAccountMessages(db, contended.id)).toBe(0);
    expect(await getCheckpoint(db, contended.id, 'INBOX')).toBeUndefined();

    runs = 0;
    const stored = await ingestPrepared(db, contended, prepared, { fence: racedEvery(2) });
    expect(runs).toBe(3);
    expect(stored.map((result) => result.outcome)).toEqual(['stored', 'stored']);
    expect(await getCheckpoint(db, contended.id, 'INBOX')).toMatchObject({ lastUid: 41 });
  });
});
