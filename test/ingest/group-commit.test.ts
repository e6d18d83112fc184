/**
 * ingestPrepared on both engines: several messages in one transaction (a group commit) — each
 * stored, threaded and counted as alone, the checkpoint left on the group's last UID, duplicates
 * inside the group recognised, and the whole group rolled back when one message cannot be stored.
 */
import { beforeAll, expect, it } from 'vitest';
import { ingestPrepared, prepareMessage, type IngestInput } from '../../src/services/inbound/ingest-message.js';
import {
  countAccountMessages,
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
});
