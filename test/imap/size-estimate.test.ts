/**
 * Exchange's RFC822.SIZE is an estimate (unless `ImapEnableExactRFC822Size` is on) and the MIME it
 * serves is re-rendered, not the bytes delivered (issue 15, point 7). The sync must not trust the
 * size: a message estimated under the account's limit but over it in fact is routed aside with
 * its reason after a download bounded to the limit; one estimated a little over but under in fact
 * is stored; a re-rendered copy of a stored message is not stored again, and threading holds.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { estimateRfc822Size, renderForImap } from '../../emulator/exchange/imap-rendering.js';
import { MessageContent } from '../../emulator/exchange/stored-message.js';
import type { SyncLogger } from '../../src/mail/imap/folder-sync.js';
import {
  countAccountMessages,
  findMessageByMessageId,
  listEvents,
  listInteractions,
  requireMessage,
  type Database,
} from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';
import { startMailEmulator, type MailEmulator } from './helpers.js';
import { accountOnFolder, buildSync } from './sync-helpers.js';

const DEVELOPERS = 'developers@contoso.com';
let mail: MailEmulator;
let serial = 0;

beforeAll(async () => {
  mail = await startMailEmulator();
  // As Exchange Online serves it: estimated sizes, re-rendered MIME.
  mail.exchange.service.imapRendering.setExactSize(DEVELOPERS, false);
  mail.exchange.service.imapRendering.setRerender(DEVELOPERS, true);
});
afterAll(async () => {
  await mail.stop();
});

function message(options: { id: string; subject: string; body: string; inReplyTo?: string }): string {
  return [
    'From: Customer <customer@example.org>',
    `To: ${DEVELOPERS}`,
    `Subject: ${options.subject}`,
    'Date: Wed, 15 Jan 2025 09:00:00 +0000',
    `Message-ID: ${options.id}`,
    ...(options.inReplyTo === undefined ? [] : [`In-Reply-To: ${options.inReplyTo}`]),
    'Content-Type: text/plain; charset=utf-8',
    '',
    options.body,
    '',
  ].join('\r\n');
}

/** A message whose estimated size deviates from its served length in the direction wanted. */
function withEstimate(direction: 'under' | 'over', tag: string): { raw: string; served: number; estimate: number } {
  for (let variant = 0; variant < 64; variant += 1) {
    const raw = message({ id: `<${tag}-${variant}@example.org>`, subject: `Scan ${tag}`, body: 'y'.repeat(20_000) });
    const served = renderForImap(new MessageContent(Buffer.from(raw))).raw;
    const estimate = estimateRfc822Size(served);
    if ((direction === 'under') === estimate < served.length) return { raw, served: served.length, estimate };
  }
  throw new Error(`no message estimated ${direction} its size`);
}

/** Logs imapflow's commands, to see what was asked for. */
function commandLog(): { logger: SyncLogger; commands: string[] } {
  const commands: string[] = [];
  const note = (object: object, text?: string): void => {
    if ('src' in object && object.src === 'c' && text !== undefined) commands.push(text);
  };
  return { commands, logger: { debug: note, info: note, warn: () => undefined, error: () => undefined } };
}

forEachEngine((engine, openFresh) => {
  let db: Database;

  beforeAll(async () => {
    db = await openFresh();
  });

  function folder(): string {
    serial += 1;
    return `Estimates ${engine} ${serial}`;
  }

  it('routes aside a message estimated under the limit but larger in fact, after a download bounded to the limit', async () => {
    const path = folder();
    const big = withEstimate('under', `under-${engine}`);
    const limit = big.served - 1;
    expect(big.estimate).toBeLessThanOrEqual(limit);
    const acct = await accountOnFolder(mail, db, path, `U${serial}`, { maxMessageBytes: limit });
    await mail.deliver(DEVELOPERS, big.raw, { folder: path });
    const { logger, commands } = commandLog();
    const under = buildSync(mail, db, acct, { logger });
    const [report] = await under.sync.syncOnce();

    expect(report).toMatchObject({
      stored: 1,
      oversize: [
        { reason: 'downloaded-size', reportedSize: big.estimate, limit, size: limit + 1, movedTo: 'Postern Oversize' },
      ],
    });
    const bodyFetches = commands.filter((c) => c.includes('BODY.PEEK[]'));
    expect(bodyFetches.length).toBeGreaterThan(0);
    expect(bodyFetches.every((c) => c.includes(`BODY.PEEK[]<0.${limit + 1}>`))).toBe(true);
    const stored = await findMessageByMessageId(db, acct.id, /Message-ID: (\S+)/.exec(big.raw)?.[1] ?? '');
    expect(await requireMessage(db, stored?.id ?? 0)).toMatchObject({ text: null, rawSize: limit + 1 });
    const events = await listEvents(db, { accountIds: [acct.id] });
    expect(events.items.find((e) => e.type === 'message.oversize')?.data).toMatchObject({
      reportedSize: big.estimate,
      limit,
    });
    expect((await mail.folder(DEVELOPERS, path)).messages).toHaveLength(0);
    expect((await mail.folder(DEVELOPERS, 'Postern Oversize')).messages.length).toBeGreaterThanOrEqual(1);
    expect(report?.lastUid).toBeGreaterThan(0);
  });

  it('stores a message estimated a little over the limit that fits in fact', async () => {
    const path = folder();
    const fits = withEstimate('over', `over-${engine}`);
    const limit = fits.served;
    expect(fits.estimate).toBeGreaterThan(limit);
    const acct = await accountOnFolder(mail, db, path, `O${serial}`, { maxMessageBytes: limit });
    await mail.deliver(DEVELOPERS, fits.raw, { folder: path });
    const [report] = await buildSync(mail, db, acct).sync.syncOnce();

    expect(report).toMatchObject({ stored: 1, oversize: [] });
    const stored = await findMessageByMessageId(db, acct.id, /Message-ID: (\S+)/.exec(fits.raw)?.[1] ?? '');
    const record = await requireMessage(db, stored?.id ?? 0);
    expect(record.text).toContain('yyyy');
    expect(record.rawSize).toBe(fits.served);
    expect((await mail.folder(DEVELOPERS, path)).messages).toHaveLength(1);
  });

  it('stores a re-rendered copy of a stored message once, and threads a reply to it', async () => {
    const path = folder();
    const acct = await accountOnFolder(mail, db, path, `R${serial}`);
    const id = `<rendered-${engine}@example.org>`;
    const original = message({ id, subject: 'Invoice 7', body: 'Please see the invoice.' });
    mail.exchange.service.imapRendering.setRerender(DEVELOPERS, false);
    try {
      await mail.deliver(DEVELOPERS, original, { folder: path });
      expect((await buildSync(mail, db, acct).sync.syncOnce())[0]).toMatchObject({ stored: 1 });
    } finally {
      mail.exchange.service.imapRendering.setRerender(DEVELOPERS, true);
    }
    // The same message again, now served re-rendered (other bytes, other size), and a reply.
    await mail.deliver(DEVELOPERS, original, { folder: path });
    await mail.deliver(
      DEVELOPERS,
      message({ id: `<reply-${engine}@example.org>`, subject: 'Re: Invoice 7', body: 'Paid.', inReplyTo: id }),
      { folder: path },
    );
    const [report] = await buildSync(mail, db, acct).sync.syncOnce();

    expect(report).toMatchObject({ stored: 1, duplicates: 1, oversize: [] });
    expect(await countAccountMessages(db, acct.id)).toBe(2);
    expect((await listInteractions(db, { accountIds: [acct.id] })).items).toHaveLength(1);
  });
});
