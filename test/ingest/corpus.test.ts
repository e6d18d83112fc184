/**
 * The malformed-mail corpus (test/fixtures/mail, described in its manifest.json): every message
 * is ingested without a crash on both engines, stored once with its raw bytes intact, and with
 * what could be parsed — checked against each fixture's expectations.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ingestMessage, UNKNOWN_SENDER } from '../../src/services/inbound/ingest-message.js';
import {
  getMessageRaw,
  listEvents,
  requireContact,
  requireInteraction,
  requireMessage,
  type Database,
  type EmailAccountRecord,
} from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';
import { buildAccount } from './helpers.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/mail');

const expectation = z
  .object({
    subject: z.string(),
    subjectContains: z.string(),
    subjectNotContains: z.string(),
    from: z.string().nullable(),
    fromName: z.string(),
    messageId: z.string(),
    syntheticId: z.boolean(),
    text: z.null(),
    textContains: z.string(),
    textNotContains: z.string(),
    htmlContains: z.array(z.string()),
    htmlNotContains: z.array(z.string()),
    attachments: z.number(),
    inlineAttachments: z.number(),
    attachmentNames: z.array(z.string()),
    attachmentTypes: z.array(z.string()),
    remoteImages: z.number(),
    problems: z.number(),
    problemsMatch: z.string(),
    autoReply: z.boolean(),
    bounce: z.boolean(),
    list: z.boolean(),
    date: z.null(),
    cc: z.array(z.string()),
    inReplyTo: z.array(z.string()),
    unknownSender: z.boolean(),
  })
  .partial()
  .strict();
const manifest = z.record(z.string(), z.object({ about: z.string(), expect: expectation }).strict());
const fixtures = manifest.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')));

describe('the corpus', () => {
  it('has at least 30 messages, each described in the manifest', () => {
    const files = fs
      .readdirSync(FIXTURES)
      .filter((name) => name.endsWith('.eml'))
      .sort();
    expect(files.length).toBeGreaterThanOrEqual(30);
    expect(Object.keys(fixtures).sort()).toEqual(files);
  });
});

forEachEngine((_engine, openFresh) => {
  let db: Database;
  let account: EmailAccountRecord;
  let uid = 0;

  beforeAll(async () => {
    db = await openFresh();
    account = await buildAccount(db, { emailAddress: 'support@contoso.com' });
  });

  it.each(Object.entries(fixtures))('%s', async (file, { expect: want }) => {
    const raw = fs.readFileSync(path.join(FIXTURES, file));
    uid += 1;
    const input = { folder: 'INBOX', uidvalidity: 1, uid, raw, isJunk: false };
    const result = await ingestMessage(db, account, input);
    if (result.outcome !== 'stored') throw new Error(`${file} was not stored: ${JSON.stringify(result)}`);
    expect(await getMessageRaw(db, result.messageRowId)).toEqual(raw);
    expect(await ingestMessage(db, account, input)).toMatchObject({
      outcome: 'duplicate',
      messageRowId: result.messageRowId,
    });

    const message = await requireMessage(db, result.messageRowId);
    const interaction = await requireInteraction(db, result.interactionId);
    const contact = await requireContact(db, interaction.contactId);
    const problems = (
      await listEvents(db, { scope: 'message', scopeId: message.id, types: ['message.parse_problems'] })
    ).items.flatMap((event) => z.array(z.string()).parse(event.data?.problems ?? []));

    if (want.subject !== undefined) expect(message.subject).toBe(want.subject);
    if (want.subjectContains !== undefined) expect(message.subject).toContain(want.subjectContains);
    if (want.subjectNotContains !== undefined) expect(message.subject).not.toContain(want.subjectNotContains);
    if (want.from === null) expect(message.from).toEqual([]);
    else if (want.from !== undefined) expect(message.from[0]?.address.toLowerCase()).toBe(want.from);
    if (want.fromName !== undefined) expect(message.from[0]?.name).toBe(want.fromName);
    if (want.messageId !== undefined) expect(message.messageId).toBe(want.messageId);
    if (want.syntheticId !== undefined)
      expect(message.messageId?.endsWith('@synthetic.postern.invalid>')).toBe(want.syntheticId);
    if (want.text === null) expect(message.text).toBeNull();
    if (want.textContains !== undefined) expect(message.text ?? '').toContain(want.textContains);
    if (want.textNotContains !== undefined) expect(message.text ?? '').not.toContain(want.textNotContains);
    for (const fragment of want.htmlContains ?? []) expect(message.html ?? '').toContain(fragment);
    for (const fragment of want.htmlNotContains ?? [])
      expect((message.html ?? '').toLowerCase()).not.toContain(fragment.toLowerCase());
    if (want.attachments !== undefined) expect(message.attachments).toHaveLength(want.attachments);
    if (want.inlineAttachments !== undefined)
      expect(message.attachments.filter((a) => a.inline)).toHaveLength(want.inlineAttachments);
    if (want.attachmentNames !== undefined)
      expect(message.attachments.map((a) => a.filename)).toEqual(want.attachmentNames);
    if (want.attachmentTypes !== undefined)
      expect(message.attachments.map((a) => a.contentType)).toEqual(want.attachmentTypes);
    if (want.remoteImages !== undefined)
      expect((message.html ?? '').match(/data-postern-remote-src=/g)?.length ?? 0).toBe(want.remoteImages);
    if (want.problems !== undefined) expect(problems).toHaveLength(want.problems);
    if (want.problemsMatch !== undefined) expect(problems.join('\n')).toContain(want.problemsMatch);
    if (want.autoReply !== undefined) expect(message.isAutoReply).toBe(want.autoReply);
    if (want.bounce !== undefined) expect(message.isBounce).toBe(want.bounce);
    if (want.list !== undefined) expect(message.isList).toBe(want.list);
    if (want.date === null) expect(message.headerDate).toBeNull();
    if (want.cc !== undefined) expect(message.cc.map((c) => c.address)).toEqual(want.cc);
    if (want.inReplyTo !== undefined) expect(message.inReplyTo).toBe(want.inReplyTo[0]);
    if (want.unknownSender === true) expect(contact.addresses).toEqual([UNKNOWN_SENDER.address]);
    // Every attachment is stored whole, with a safe name.
    for (const attachment of message.attachments) {
      expect(attachment.filename ?? '').not.toMatch(/[\\/\u0000-\u001f<>:"|?*\u202e]/);
      expect(attachment.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});
