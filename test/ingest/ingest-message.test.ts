/**
 * ingestMessage on both engines: one transaction per message, threading, contacts, flags,
 * idempotency (same position, same Message-ID under a new UIDVALIDITY), oversize headers.
 */
import { beforeAll, expect, it } from 'vitest';
import {
  ingestMessage,
  UNKNOWN_SENDER,
  FALLBACK_LIST_NAME,
  type IngestResult,
  type StoredResult,
} from '../../src/services/inbound/ingest-message.js';
import {
  closeInteraction,
  countAccountMessages,
  createContact,
  createList,
  findContactByAddress,
  getCheckpoint,
  getMessageRaw,
  listEvents,
  listInteractionMessages,
  listLists,
  requireContact,
  requireInteraction,
  requireMessage,
  type Database,
  type EmailAccountRecord,
} from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';
import { buildAccount, buildMessage } from './helpers.js';

function stored(result: IngestResult): StoredResult {
  if (result.outcome !== 'stored') throw new Error(`expected a stored message, got ${JSON.stringify(result)}`);
  return result;
}

forEachEngine((_engine, openFresh) => {
  let db: Database;
  let account: EmailAccountRecord;
  let uid = 0;
  const at = (raw: Buffer, extra: { uidvalidity?: number; folder?: string; isJunk?: boolean } = {}) => ({
    folder: extra.folder ?? 'INBOX',
    uidvalidity: extra.uidvalidity ?? 100,
    uid: (uid += 1),
    raw,
    isJunk: extra.isJunk ?? false,
  });

  beforeAll(async () => {
    db = await openFresh();
    account = await buildAccount(db);
  });

  it('stores raw MIME, the parsed message, a new interaction and the sender as a contact in the default list', async () => {
    const raw = buildMessage({
      from: 'Grace Hopper <Grace@Example.org>',
      subject: 'RE: Fwd: Broken compiler',
      messageId: '<first@example.org>',
    });
    const result = stored(await ingestMessage(db, account, at(raw)));
    expect(result).toMatchObject({
      interactionCreated: true,
      contactCreated: true,
      threadedBy: 'new',
      messageId: '<first@example.org>',
      autoReplyAllowed: true,
    });
    expect(await getMessageRaw(db, result.messageRowId)).toEqual(raw);
    const message = await requireMessage(db, result.messageRowId);
    expect(message).toMatchObject({
      direction: 'in',
      subject: 'RE: Fwd: Broken compiler',
      folder: 'INBOX',
      uidValidity: 100,
      uid,
      text: 'Where is my order?\n',
      isRead: false,
    });
    const interaction = await requireInteraction(db, result.interactionId);
    expect(interaction).toMatchObject({
      subject: 'Broken compiler',
      status: 'open',
      messageCount: 1,
      unreadCount: 1,
      contactId: result.contactId,
    });
    expect(interaction.subjectToken).toMatch(new RegExp(`^#P${interaction.id}-[0-9A-HJKMNP-TV-Z]{4}$`));
    const contact = await requireContact(db, result.contactId ?? 0);
    expect(contact).toMatchObject({
      name: 'Grace Hopper',
      addresses: ['grace@example.org'],
      listId: account.defaultListId,
    });
    expect(await getCheckpoint(db, account.id, 'INBOX')).toMatchObject({ uidValidity: 100, lastUid: uid });
  });

  it('threads a reply by In-Reply-To, then by References, then by the subject token', async () => {
    const first = stored(
      await ingestMessage(
        db,
        account,
        at(buildMessage({ messageId: '<thread-root@example.org>', subject: 'Invoice' })),
      ),
    );
    const byInReplyTo = stored(
      await ingestMessage(
        db,
        account,
        at(buildMessage({ inReplyTo: '<thread-root@example.org>', subject: 'Re: Invoice' })),
      ),
    );
    expect(byInReplyTo).toMatchObject({
      interactionId: first.interactionId,
      threadedBy: 'in-reply-to',
      interactionCreated: false,
      contactCreated: false,
    });
    const byReferences = stored(
      await ingestMessage(
        db,
        account,
        at(buildMessage({ references: '<unknown@x> <thread-root@example.org>', subject: 'other' })),
      ),
    );
    expect(byReferences).toMatchObject({ interactionId: first.interactionId, threadedBy: 'references' });
    const token = (await requireInteraction(db, first.interactionId)).subjectToken ?? '';
    const byToken = stored(
      await ingestMessage(db, account, at(buildMessage({ subject: `Re: Invoice [${token.toLowerCase()}]` }))),
    );
    expect(byToken).toMatchObject({ interactionId: first.interactionId, threadedBy: 'token' });
    const forged = stored(
      await ingestMessage(db, account, at(buildMessage({ subject: `Re: Invoice [#P${first.interactionId}-0000]` }))),
    );
    expect(forged.threadedBy).toBe('new');
    const interaction = await requireInteraction(db, first.interactionId);
    expect(interaction).toMatchObject({ messageCount: 4, unreadCount: 4 });
    expect((await listInteractionMessages(db, first.interactionId)).map((m) => m.id)).toEqual(
      [first, byInReplyTo, byReferences, byToken].map((r) => r.messageRowId),
    );
  });

  it('never threads across accounts', async () => {
    const other = await buildAccount(db);
    stored(await ingestMessage(db, account, at(buildMessage({ messageId: '<cross@example.org>' }))));
    const reply = stored(await ingestMessage(db, other, at(buildMessage({ inReplyTo: '<cross@example.org>' }))));
    expect(reply.threadedBy).toBe('new');
  });

  it('is a no-op that still advances the checkpoint when the same position is ingested again', async () => {
    const input = at(buildMessage());
    const first = stored(await ingestMessage(db, account, input));
    const before = await countAccountMessages(db, account.id);
    const again = await ingestMessage(db, account, input);
    expect(again).toEqual({
      outcome: 'duplicate',
      messageRowId: first.messageRowId,
      messageId: first.messageId,
      interactionId: first.interactionId,
      matchedBy: 'position',
    });
    expect(await countAccountMessages(db, account.id)).toBe(before);
    expect((await requireInteraction(db, first.interactionId)).messageCount).toBe(1);
  });

  it('does not store twice a message seen again under a new UIDVALIDITY, and moves it to its new position', async () => {
    const raw = buildMessage({ messageId: '<resync@example.org>' });
    const first = stored(await ingestMessage(db, account, at(raw, { folder: 'Support', uidvalidity: 7 })));
    const again = await ingestMessage(db, account, { folder: 'Support', uidvalidity: 8, uid: 1, raw, isJunk: false });
    expect(again).toMatchObject({ outcome: 'duplicate', matchedBy: 'message-id', messageRowId: first.messageRowId });
    expect(await requireMessage(db, first.messageRowId)).toMatchObject({ folder: 'Support', uidValidity: 8, uid: 1 });
    expect(await getCheckpoint(db, account.id, 'Support')).toMatchObject({ uidValidity: 8, lastUid: 1 });
  });

  it('recognises mail without Message-ID by a synthetic id', async () => {
    const raw = buildMessage({ messageId: null, body: 'no id here' });
    const first = stored(await ingestMessage(db, account, at(raw)));
    expect(first.messageId).toMatch(/@synthetic\.postern\.invalid>$/);
    expect(await ingestMessage(db, account, at(raw, { uidvalidity: 101 }))).toMatchObject({
      outcome: 'duplicate',
      matchedBy: 'message-id',
    });
  });

  it('keeps a different message that reuses a Message-ID, as a variant', async () => {
    const first = stored(
      await ingestMessage(db, account, at(buildMessage({ messageId: '<reused@example.org>', body: 'one' }))),
    );
    const second = stored(
      await ingestMessage(db, account, at(buildMessage({ messageId: '<reused@example.org>', body: 'two' }))),
    );
    expect(second.messageRowId).not.toBe(first.messageRowId);
    expect(second.messageId).toMatch(/^<reused@example\.org#v-[0-9a-f]{16}>$/);
  });

  it('reuses a contact that owns the address in any list, and saves our own mail under its recipient', async () => {
    const otherList = await createList(db, { name: 'VIP' });
    const vip = await createContact(db, { listId: otherList.id, name: 'Known VIP', addresses: ['vip@example.org'] });
    const fromVip = stored(await ingestMessage(db, account, at(buildMessage({ from: 'VIP <VIP@example.org>' }))));
    expect(fromVip).toMatchObject({ contactId: vip.id, contactCreated: false });
    const ours = stored(
      await ingestMessage(
        db,
        account,
        at(buildMessage({ from: `Support <${account.emailAddress.toUpperCase()}>`, to: 'Bob <bob@example.net>' })),
      ),
    );
    expect((await findContactByAddress(db, 'bob@example.net'))?.id).toBe(ours.contactId);
    expect(await findContactByAddress(db, account.emailAddress)).toBeUndefined();
  });

  it('files mail without any sender under the unknown sender, and uses a fallback list without a default list', async () => {
    const bare = await buildAccount(db, { defaultList: false });
    const result = stored(await ingestMessage(db, bare, at(Buffer.from('Subject: nobody\r\n\r\nbody\r\n'))));
    const contact = await requireContact(db, result.contactId ?? 0);
    expect(contact.addresses).toEqual([UNKNOWN_SENDER.address]);
    const fallback = (await listLists(db, { query: FALLBACK_LIST_NAME })).items[0];
    expect(contact.listId).toBe(fallback?.id);
  });

  it('flags bounces, auto-replies, list and junk mail, and never reopens a closed conversation for them', async () => {
    const root = stored(await ingestMessage(db, account, at(buildMessage({ messageId: '<flags-root@example.org>' }))));
    await closeInteraction(db, root.interactionId);
    const oof = stored(
      await ingestMessage(
        db,
        account,
        at(buildMessage({ inReplyTo: '<flags-root@example.org>', headers: { 'Auto-Submitted': 'auto-replied' } })),
      ),
    );
    expect(oof).toMatchObject({ autoReplyAllowed: false, automation: { autoReply: true } });
    expect((await requireInteraction(db, root.interactionId)).status).toBe('closed');
    const list = stored(
      await ingestMessage(db, account, at(buildMessage({ headers: { 'List-Id': '<l.example.org>' } }))),
    );
    expect((await requireMessage(db, list.messageRowId)).isList).toBe(true);
    const junk = stored(await ingestMessage(db, account, at(buildMessage(), { folder: 'Junk Email', isJunk: true })));
    expect(junk.autoReplyAllowed).toBe(false);
    expect((await requireMessage(db, junk.messageRowId)).isJunk).toBe(true);
    const human = stored(await ingestMessage(db, account, at(buildMessage({ inReplyTo: '<flags-root@example.org>' }))));
    expect(human.interactionId).toBe(root.interactionId);
    expect((await requireInteraction(db, root.interactionId)).status).toBe('open');
  });

  it('stores the header of an oversize message with an event saying so', async () => {
    const header = Buffer.from('From: big@example.org\r\nSubject: Huge scan\r\nMessage-ID: <big@example.org>\r\n\r\n');
    const result = stored(await ingestMessage(db, account, { ...at(header), size: 80_000_000, headersOnly: true }));
    expect(result).toMatchObject({ oversize: true, autoReplyAllowed: false });
    expect(result.problems.at(-1)).toContain('80000000 bytes');
    expect(await requireMessage(db, result.messageRowId)).toMatchObject({
      subject: 'Huge scan',
      rawSize: 80_000_000,
      text: null,
    });
    const events = await listEvents(db, { scope: 'message', scopeId: result.messageRowId });
    expect(events.items.map((e) => e.type)).toEqual(['message.received', 'message.oversize']);
    expect(events.items[0]?.data).toMatchObject({
      messageId: result.messageRowId,
      interactionId: result.interactionId,
      subject: 'Huge scan',
      oversize: true,
    });
  });

  it('never moves the checkpoint backwards under the same UIDVALIDITY', async () => {
    await ingestMessage(db, account, {
      folder: 'Archive',
      uidvalidity: 5,
      uid: 50,
      raw: buildMessage(),
      isJunk: false,
    });
    await ingestMessage(db, account, {
      folder: 'Archive',
      uidvalidity: 5,
      uid: 20,
      raw: buildMessage(),
      isJunk: false,
    });
    expect(await getCheckpoint(db, account.id, 'Archive')).toMatchObject({ uidValidity: 5, lastUid: 50 });
  });

  it('rolls everything back when the transaction fails', async () => {
    const before = await countAccountMessages(db, account.id);
    const checkpoint = await getCheckpoint(db, account.id, 'INBOX');
    const broken = { ...account, defaultListId: 999_999 };
    await expect(ingestMessage(db, broken, at(buildMessage({ from: 'new-person@example.org' })))).rejects.toThrow();
    expect(await countAccountMessages(db, account.id)).toBe(before);
    expect(await getCheckpoint(db, account.id, 'INBOX')).toEqual(checkpoint);
  });
});
