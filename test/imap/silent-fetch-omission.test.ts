/**
 * Issue 15, point 1: Exchange sometimes answers `UID FETCH n (BODY.PEEK[])` with only
 * `OK FETCH completed.`, leaving a message out without a word. Before, the checkpoint moved past
 * the highest UID that did arrive and the missing message was skipped for good. Now no message is
 * ever skipped: one left out is asked for again; one still withheld keeps the checkpoint below it
 * (later mail is stored meanwhile), is told once on the session, and is stored when the server
 * sends it; one expunged meanwhile holds nothing back. The emulator's `omit-fetch` fault plays
 * Exchange's part.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WithheldNotice } from '../../src/mail/imap/folder-sync.js';
import { countAccountMessages, getCheckpoint, type Database, type EmailAccountRecord } from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';
import { eventually, startMailEmulator, type MailEmulator } from './helpers.js';
import { accountOnFolder, buildSync, type SyncUnderTest } from './sync-helpers.js';

const DEVELOPERS = 'developers@contoso.com';
let mail: MailEmulator;
let serial = 0;

beforeAll(async () => {
  mail = await startMailEmulator();
});
afterAll(async () => {
  await mail.stop();
});

function message(): string {
  serial += 1;
  return [
    'From: customer@example.org',
    `To: ${DEVELOPERS}`,
    `Subject: Question ${serial}`,
    `Message-ID: <omit${serial}.${Date.now()}@example.org>`,
    '',
    `Hello ${serial}`,
    '',
  ].join('\r\n');
}

forEachEngine((engine, openFresh) => {
  let db: Database;
  beforeAll(async () => {
    db = await openFresh();
  });

  async function setup(): Promise<{ account: EmailAccountRecord; folder: string }> {
    serial += 1;
    const folder = `Omit${serial} ${engine}`;
    return { account: await accountOnFolder(mail, db, folder, `O${serial}`.slice(0, 5)), folder };
  }

  async function deliverAll(folder: string, count: number): Promise<number[]> {
    const uids: number[] = [];
    for (let i = 0; i < count; i += 1) uids.push((await mail.deliver(DEVELOPERS, message(), { folder })).uid);
    return uids;
  }

  const stored = (account: EmailAccountRecord): Promise<number> => countAccountMessages(db, account.id);
  const checkpoint = async (account: EmailAccountRecord, folder: string): Promise<number | undefined> =>
    (await getCheckpoint(db, account.id, folder))?.lastUid;

  async function running(
    account: EmailAccountRecord,
    body: (under: SyncUnderTest, withheld: WithheldNotice[]) => Promise<void>,
  ): Promise<void> {
    const withheld: WithheldNotice[] = [];
    const under = buildSync(mail, db, account, { onWithheld: (notice) => withheld.push(notice) });
    under.sync.start();
    try {
      await body(under, withheld);
    } finally {
      await under.sync.stop();
      await mail.emu.control('DELETE', '/exchange/faults');
    }
  }

  describe('a FETCH that silently leaves a message out', () => {
    it('asks again for a message left out once: every message stored, the checkpoint at the last', async () => {
      const { account, folder } = await setup();
      const uids = await deliverAll(folder, 5);
      await mail.emu.control('POST', '/exchange/faults/imap/omit-fetch', { uid: uids[2], mailbox: DEVELOPERS });
      await running(account, async (_, withheld) => {
        await eventually(async () => (await stored(account)) === 5, 15_000, 'all five messages');
        await eventually(async () => (await checkpoint(account, folder)) === uids[4], 5_000, 'the checkpoint');
        expect(withheld).toEqual([]);
      });
      expect(await mail.emu.control('GET', '/exchange/faults')).toMatchObject({ imapOmitFetch: 0 });
    });

    it('keeps the checkpoint below a message withheld on every fetch, stores later mail, tells once, and stores it when it comes', async () => {
      const { account, folder } = await setup();
      const uids = await deliverAll(folder, 4);
      const [first, missing, , last] = uids;
      await mail.emu.control('POST', '/exchange/faults/imap/omit-fetch', {
        uid: missing,
        count: 1000,
        mailbox: DEVELOPERS,
      });
      await running(account, async (_, withheld) => {
        await eventually(async () => (await stored(account)) === 3, 15_000, 'the three messages sent');
        await eventually(() => withheld.length === 1, 5_000, 'the withheld message told');
        expect(withheld[0]).toMatchObject({ folder, uid: missing });
        expect(await checkpoint(account, folder)).toBe(first);

        // New mail still arrives while the withheld one holds the checkpoint, and is told once only.
        const [later] = await deliverAll(folder, 1);
        await eventually(async () => (await stored(account)) === 4, 15_000, 'later mail');
        expect(await checkpoint(account, folder)).toBe(first);
        expect(withheld).toHaveLength(1);

        // Exchange sends it again: stored, and the checkpoint catches up over what was stored above it.
        await mail.emu.control('DELETE', '/exchange/faults');
        const [latest] = await deliverAll(folder, 1);
        await eventually(async () => (await stored(account)) === 6, 15_000, 'the withheld message and the latest');
        await eventually(async () => (await checkpoint(account, folder)) === latest, 5_000, 'the checkpoint');
        expect(latest).toBeGreaterThan(later ?? Infinity);
        expect(later).toBeGreaterThan(last ?? Infinity);
      });
    });

    it('lets a withheld message that is then deleted from the mailbox hold nothing back', async () => {
      const { account, folder } = await setup();
      const [, missing] = await deliverAll(folder, 3);
      await mail.emu.control('POST', '/exchange/faults/imap/omit-fetch', {
        uid: missing,
        count: 1000,
        mailbox: DEVELOPERS,
      });
      await running(account, async (_, withheld) => {
        await eventually(async () => (await stored(account)) === 2, 15_000, 'the two messages sent');
        await eventually(() => withheld.length === 1, 5_000, 'the withheld message told');
        await mail.emu.control(
          'DELETE',
          `/exchange/mailboxes/${encodeURIComponent(DEVELOPERS)}/folders/${encodeURIComponent(folder)}/messages/${missing}`,
        );
        const [next] = await deliverAll(folder, 1);
        await eventually(async () => (await stored(account)) === 3, 15_000, 'the next message');
        await eventually(async () => (await checkpoint(account, folder)) === next, 5_000, 'the checkpoint past it');
      });
    });
  });
});
