/**
 * The IMAP sync engine (imapflow) against the emulated Exchange over loopback TLS, with tokens
 * from the emulator's identity platform: the guide's shared mailbox example, threading of a
 * reply, IDLE and polling, Junk, the first-sync window, after-fetch actions and their recovery,
 * oversize messages, and Exchange's refusals mapped to catalogue errors.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  countAccountMessages,
  findMessageByMessageId,
  createEmailAccount,
  createList,
  findContactByAddress,
  getCheckpoint,
  listInteractions,
  requireMessage,
  type Database,
  type EmailAccountFields,
  type EmailAccountRecord,
} from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';
import { CONTOSO, eventually, startMailEmulator, type MailEmulator } from './helpers.js';
import { buildSync } from './sync-helpers.js';
import type { FetchedMessage, SyncStore } from '../../src/mail/imap/folder-sync.js';
import { createSyncStore } from '../../src/services/inbound/mailbox-sync-store.js';

const DEVELOPERS = 'developers@contoso.com';
let mail: MailEmulator;
let serial = 0;

beforeAll(async () => {
  mail = await startMailEmulator();
});
afterAll(async () => {
  await mail.stop();
});

function message(
  options: { from?: string; subject?: string; id?: string; inReplyTo?: string; body?: string; date?: string } = {},
): string {
  serial += 1;
  return [
    `From: ${options.from ?? 'Customer <customer@example.org>'}`,
    `To: ${DEVELOPERS}`,
    `Subject: ${options.subject ?? `Question ${serial}`}`,
    `Date: ${options.date ?? 'Wed, 15 Jan 2025 09:00:00 +0000'}`,
    `Message-ID: ${options.id ?? `<q${serial}.${Date.now()}@example.org>`}`,
    ...(options.inReplyTo === undefined ? [] : [`In-Reply-To: ${options.inReplyTo}`]),
    'Content-Type: text/plain; charset=utf-8',
    '',
    options.body ?? 'Hello',
    '',
  ].join('\r\n');
}

forEachEngine((engine, openFresh) => {
  let db: Database;

  beforeAll(async () => {
    db = await openFresh();
  });

  async function account(fields: Partial<EmailAccountFields> = {}): Promise<EmailAccountRecord> {
    serial += 1;
    const list = await createList(db, { name: `Default ${engine} ${serial}` });
    return createEmailAccount(db, {
      name: `Developers ${serial}`,
      key: `D${serial}`.slice(0, 5),
      emailAddress: DEVELOPERS,
      username: DEVELOPERS,
      modernAuthEmail: CONTOSO.andrea.upn,
      defaultListId: list.id,
      firstSync: { kind: 'all' },
      ...fields,
    });
  }

  it('reads the shared mailbox as its delegate: mail to developers@ becomes an interaction, the sender a contact in the default list', async () => {
    const acct = await account();
    const id = `<shared-${engine}@example.org>`;
    await mail.deliver(
      DEVELOPERS,
      message({ from: 'Jane Roe <jane.roe@example.org>', subject: `Broken build ${engine}`, id }),
    );
    const { sync } = buildSync(mail, db, acct);
    const reports = await sync.syncOnce();
    expect(reports[0]).toMatchObject({ folder: 'INBOX', reset: 'first-sync', actionsFailed: 0 });
    expect(reports[0]?.stored).toBeGreaterThanOrEqual(1);
    const page = await listInteractions(db, { accountIds: [acct.id], text: `broken build ${engine}` });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({
      subject: `Broken build ${engine}`,
      contactName: 'Jane Roe',
      contactAddress: 'jane.roe@example.org',
    });
    expect((await findContactByAddress(db, 'jane.roe@example.org'))?.listId).toBe(acct.defaultListId);
    const inbox = await mail.folder(DEVELOPERS, 'Inbox');
    expect(inbox.messages.every((m) => m.flags.includes('\\Seen'))).toBe(true);
    const checkpoint = await getCheckpoint(db, acct.id, 'INBOX');
    expect(checkpoint).toMatchObject({
      uidValidity: inbox.uidValidity,
      lastUid: Math.max(...inbox.messages.map((m) => m.uid)),
    });

    // A reply from the customer threads into the same interaction.
    await mail.deliver(
      DEVELOPERS,
      message({ from: 'Jane Roe <jane.roe@example.org>', subject: `Re: Broken build ${engine}`, inReplyTo: id }),
    );
    await sync.syncOnce();
    const after = await listInteractions(db, { accountIds: [acct.id], text: `broken build ${engine}` });
    expect(after.items).toHaveLength(1);
    expect(after.items[0]?.messageCount).toBe(2);
  });

  /** A folder of the shared mailbox for one test, so that tests do not see each other's mail. */
  function folder(): string {
    serial += 1;
    const name = `T${serial} ${engine}`;
    mail.exchange.service.store.createFolder(DEVELOPERS, name);
    return name;
  }

  it('waits with IDLE and ingests new mail as it arrives, reporting connecting then connected', async () => {
    const path = folder();
    const acct = await account({ folder: path });
    const { sync, statuses } = buildSync(mail, db, acct);
    sync.start();
    try {
      await eventually(() => sync.status.status === 'connected', 10_000, 'connected');
      await mail.deliver(DEVELOPERS, message(), { folder: path });
      await eventually(async () => (await countAccountMessages(db, acct.id)) === 1, 10_000, 'the first message');
      await mail.deliver(DEVELOPERS, message(), { folder: path });
      await eventually(async () => (await countAccountMessages(db, acct.id)) === 2, 10_000, 'the second message');
    } finally {
      await sync.stop();
    }
    expect(statuses.map((s) => s.status).slice(0, 2)).toEqual(['connecting', 'connected']);
    expect(statuses.at(-1)?.status).toBe('stopped');
  });

  it('reads mail announced by IDLE without selecting the folder again', async () => {
    const path = folder();
    const acct = await account({ folder: path });
    const commands: string[] = [];
    const note = (object: object, text?: string): void => {
      if ('src' in object && object.src === 'c' && text !== undefined) commands.push(text);
    };
    const selects = (): number => commands.filter((command) => /^\S+ SELECT /.test(command)).length;
    const { sync } = buildSync(mail, db, acct, {
      logger: { debug: note, info: note, warn: () => undefined, error: () => undefined },
    });
    sync.start();
    try {
      await eventually(() => sync.status.status === 'connected', 10_000, 'connected');
      await eventually(async () => (await getCheckpoint(db, acct.id, path)) !== undefined, 10_000, 'the first sync');
      const before = selects();
      expect(before).toBeGreaterThan(0);
      for (let count = 1; count <= 3; count += 1) {
        await mail.deliver(DEVELOPERS, message(), { folder: path });
        await eventually(async () => (await countAccountMessages(db, acct.id)) === count, 10_000, `message ${count}`);
      }
      // Each message was announced by IDLE and fetched (a body FETCH each), none selected again.
      expect(commands.filter((command) => command.includes('BODY.PEEK[]')).length).toBeGreaterThanOrEqual(3);
      expect(selects()).toBe(before);
    } finally {
      await sync.stop();
    }
  });

  it('does not miss mail that arrives while a sync runs, and does not spin while idle', async () => {
    const path = folder();
    const acct = await account({ folder: path, scanJunk: true });
    let syncs = 0;
    const { sync } = buildSync(mail, db, acct, { onSynced: () => (syncs += 1), tuning: { idleRefreshMs: 60_000 } });
    sync.start();
    try {
      await eventually(() => sync.status.status === 'connected' && syncs >= 1, 10_000, 'connected');
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(syncs).toBe(1);
      await mail.emu.control('PUT', '/exchange/faults/imap/delay', { ms: 60 });
      // The second message arrives while the sync woken by the first one is still running.
      await mail.deliver(DEVELOPERS, message(), { folder: path });
      await new Promise((resolve) => setTimeout(resolve, 250));
      await mail.deliver(DEVELOPERS, message(), { folder: path });
      await eventually(
        async () => (await countAccountMessages(db, acct.id)) === 2,
        5_000,
        'the message delivered during a sync',
      );
    } finally {
      await mail.emu.control('PUT', '/exchange/faults/imap/delay', { ms: 0 });
      await sync.stop();
    }
  });

  it('does not miss mail that reaches the main folder while Junk is being scanned', async () => {
    const path = folder();
    const junk = folder();
    const acct = await account({ folder: path, scanJunk: true });
    const junkId = `<junk-during-${engine}-${serial}@spam.example>`;
    const store = createSyncStore(db, acct);
    let delivered = false;
    // Delivers to the main folder at the moment the Junk message is stored, so while Junk is
    // selected: the main folder raises no EXISTS then, and IDLE would not wake for 60 s.
    const deliverOnJunk = async (messages: readonly FetchedMessage[]): Promise<void> => {
      if (delivered || !messages.some((m) => m.isJunk && m.raw.toString('latin1').includes(junkId))) return;
      delivered = true;
      await mail.deliver(DEVELOPERS, message(), { folder: path });
    };
    const watched: SyncStore = {
      ...store,
      ingest: async (m) => (await deliverOnJunk([m]), store.ingest(m)),
      ingestMany: async (ms) => (await deliverOnJunk(ms), store.ingestMany(ms)),
    };
    let syncs = 0;
    const { sync } = buildSync(mail, db, acct, {
      store: watched,
      junkFolder: junk,
      onSynced: () => (syncs += 1),
      tuning: { idleRefreshMs: 60_000 },
    });
    sync.start();
    try {
      await eventually(() => sync.status.status === 'connected' && syncs >= 1, 10_000, 'connected');
      await mail.deliver(DEVELOPERS, message({ id: junkId }), { folder: junk });
      await mail.deliver(DEVELOPERS, message(), { folder: path });
      await eventually(() => delivered, 10_000, 'the Junk message stored');
      await eventually(
        async () => (await countAccountMessages(db, acct.id)) === 3,
        10_000,
        'the message delivered while Junk was selected',
      );
    } finally {
      await sync.stop();
    }
  });

  it('opens a new session when IDLE stops announcing new mail without a BYE', async () => {
    const path = folder();
    const acct = await account({ folder: path });
    let syncs = 0;
    const { sync, statuses } = buildSync(mail, db, acct, {
      onSynced: () => (syncs += 1),
      tuning: { idleRefreshMs: 1_000 },
    });
    sync.start();
    try {
      await eventually(() => sync.status.status === 'connected' && syncs >= 1, 10_000, 'connected and synced');
      await mail.emu.control('POST', '/exchange/faults/imap/silent-idle', { mailbox: DEVELOPERS });
      await mail.deliver(DEVELOPERS, message(), { folder: path });
      // The refresh finds what IDLE kept quiet about, and the session is renewed.
      await eventually(async () => (await countAccountMessages(db, acct.id)) === 1, 10_000, 'the unannounced message');
      await eventually(
        () => statuses.filter((s) => s.status === 'connected').length >= 2,
        10_000,
        'a new session after the silent IDLE',
      );
      await mail.deliver(DEVELOPERS, message(), { folder: path });
      await eventually(async () => (await countAccountMessages(db, acct.id)) === 2, 10_000, 'the next message');
    } finally {
      await mail.emu.control('DELETE', '/exchange/faults');
      await sync.stop();
    }
  });

  it('polls when IDLE is off', async () => {
    const path = folder();
    const acct = await account({ folder: path, useIdle: false });
    const { sync } = buildSync(mail, db, acct, { pollIntervalMs: 150 });
    sync.start();
    try {
      await eventually(() => sync.status.status === 'connected');
      await mail.deliver(DEVELOPERS, message(), { folder: path });
      await eventually(async () => (await countAccountMessages(db, acct.id)) === 1, 10_000, 'a polled message');
    } finally {
      await sync.stop();
    }
  });

  it('also scans Junk Email when asked, marking what it finds there as junk', async () => {
    const path = folder();
    const acct = await account({ folder: path, scanJunk: true });
    const id = `<junk-${engine}-${serial}@spam.example>`;
    await mail.deliver(DEVELOPERS, message({ id }), { folder: 'Junk Email' });
    const reports = await buildSync(mail, db, acct).sync.syncOnce();
    expect(reports.map((r) => r.folder)).toEqual([path, 'Junk Email']);
    const stored = await findMessageByMessageId(db, acct.id, id);
    expect(stored).toBeDefined();
    expect(await requireMessage(db, stored?.id ?? 0)).toMatchObject({ isJunk: true, folder: 'Junk Email' });
  });

  it('imports only new mail when the first sync says so, and only the window when it gives days', async () => {
    const path = folder();
    await mail.deliver(DEVELOPERS, message(), { folder: path });
    const onlyNew = await account({ folder: path, firstSync: { kind: 'new' } });
    const { sync } = buildSync(mail, db, onlyNew);
    expect((await sync.syncOnce())[0]).toMatchObject({ reset: 'first-sync', stored: 0 });
    await mail.deliver(DEVELOPERS, message(), { folder: path });
    expect((await sync.syncOnce())[0]).toMatchObject({ reset: null, stored: 1 });

    const windowed = folder();
    const old = new Date(mail.emu.handle.clock.nowMs() - 30 * 86_400_000);
    await mail.deliver(DEVELOPERS, message(), { folder: windowed, internalDate: old });
    await mail.deliver(DEVELOPERS, message(), { folder: windowed });
    const lastWeek = await account({ folder: windowed, firstSync: { kind: 'days', days: 7 } });
    expect((await buildSync(mail, db, lastWeek).sync.syncOnce())[0]).toMatchObject({ stored: 1 });
  });

  it('moves or deletes fetched messages when the account says so, creating the target folder', async () => {
    const moving = folder();
    const target = `Processed ${engine} ${serial}`;
    await mail.deliver(DEVELOPERS, message(), { folder: moving });
    const mover = await account({ folder: moving, afterFetchAction: 'move', afterFetchFolder: target });
    expect((await buildSync(mail, db, mover).sync.syncOnce())[0]).toMatchObject({ stored: 1, actionsApplied: 1 });
    expect((await mail.folder(DEVELOPERS, moving)).messages).toHaveLength(0);
    expect((await mail.folder(DEVELOPERS, target)).messages).toHaveLength(1);

    const deleting = folder();
    await mail.deliver(DEVELOPERS, message(), { folder: deleting });
    const deleter = await account({ folder: deleting, afterFetchAction: 'delete' });
    expect((await buildSync(mail, db, deleter).sync.syncOnce())[0]).toMatchObject({ stored: 1, actionsApplied: 1 });
    expect((await mail.folder(DEVELOPERS, deleting)).messages).toHaveLength(0);
  });

  it('applies an after-fetch action that an earlier session did not, on the next session', async () => {
    const path = folder();
    await mail.deliver(DEVELOPERS, message(), { folder: path });
    await mail.deliver(DEVELOPERS, message(), { folder: path });
    const acct = await account({ folder: path, afterFetchAction: 'none' });
    // As if the process died between the commit and the action: stored, checkpoint moved, mail untouched.
    await buildSync(mail, db, acct).sync.syncOnce();
    expect((await mail.folder(DEVELOPERS, path)).messages.every((m) => !m.flags.includes('\\Seen'))).toBe(true);

    const seen = await buildSync(mail, db, { ...acct, afterFetchAction: 'mark_seen' }).sync.syncOnce();
    expect(seen[0]).toMatchObject({ stored: 0, actionsApplied: 2 });
    expect((await mail.folder(DEVELOPERS, path)).messages.every((m) => m.flags.includes('\\Seen'))).toBe(true);

    const moved = await buildSync(mail, db, {
      ...acct,
      afterFetchAction: 'move',
      afterFetchFolder: `Done ${engine} ${serial}`,
    }).sync.syncOnce();
    expect(moved[0]).toMatchObject({ stored: 0, actionsApplied: 2 });
    expect((await mail.folder(DEVELOPERS, path)).messages).toHaveLength(0);
    expect(await countAccountMessages(db, acct.id)).toBe(2);
  });

  it('stores only the header of an oversize message and moves it to Postern Oversize', async () => {
    const path = folder();
    const big = message({ subject: 'Scanned contract', body: 'x'.repeat(40_000) });
    await mail.deliver(DEVELOPERS, big, { folder: path });
    await mail.deliver(DEVELOPERS, message({ subject: 'small one' }), { folder: path });
    const acct = await account({ folder: path, maxMessageBytes: 10_000 });
    const under = buildSync(mail, db, acct);
    const [report] = await under.sync.syncOnce();
    expect(report).toMatchObject({
      stored: 2,
      oversize: [{ size: Buffer.byteLength(big), limit: 10_000, movedTo: 'Postern Oversize' }],
    });
    expect(under.oversize).toHaveLength(1);
    const interactions = await listInteractions(db, { accountIds: [acct.id], text: 'scanned contract' });
    const stored = await findMessageByMessageId(db, acct.id, /Message-ID: (\S+)/.exec(big)?.[1] ?? '');
    expect(interactions.items).toHaveLength(1);
    expect(await requireMessage(db, stored?.id ?? 0)).toMatchObject({ text: null, rawSize: Buffer.byteLength(big) });
    expect((await mail.folder(DEVELOPERS, 'Postern Oversize')).messages.length).toBeGreaterThanOrEqual(1);
    expect((await mail.folder(DEVELOPERS, path)).messages).toHaveLength(1);
  });
});
