/**
 * Group commits in the IMAP sync, against the emulator: a batch is stored in groups while it
 * streams in — in UID order, each group one transaction that moves the checkpoint to its last
 * message — and the after-fetch action reaches a message only once its group has committed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FetchedMessage, SyncStore } from '../../src/mail/imap/folder-sync.js';
import { createSyncStore } from '../../src/services/inbound/mailbox-sync-store.js';
import {
  countAccountMessages,
  createEmailAccount,
  createList,
  getCheckpoint,
  type Database,
  type EmailAccountRecord,
} from '../../src/store/index.js';
import { holdingDurability } from '../helpers/held-durability.js';
import { forEachEngine } from '../helpers/store.js';
import { CONTOSO, eventually, startMailEmulator, type MailEmulator } from './helpers.js';
import { buildSync } from './sync-helpers.js';

const DEVELOPERS = 'developers@contoso.com';
let mail: MailEmulator;

beforeAll(async () => {
  mail = await startMailEmulator();
});
afterAll(async () => {
  await mail.stop();
});

function message(n: number, folder: string, bodyBytes = 200): Buffer {
  return Buffer.from(
    [
      `From: Customer ${n % 5} <customer${n % 5}@example.org>`,
      `To: ${DEVELOPERS}`,
      `Subject: Group ${n}`,
      'Date: Wed, 15 Jan 2025 09:00:00 +0000',
      `Message-ID: <group-${folder.replace(/\s/g, '')}-${n}@example.org>`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      'x'.repeat(bodyBytes),
      '',
    ].join('\r\n'),
  );
}

/** What the store saw: each prepared UID, each group, and whether a grouped message was already \Seen. */
interface Recorded {
  readonly prepared: number[];
  readonly groups: Array<{
    uids: number[];
    bytes: number;
    seenBeforeCommit: boolean;
    checkpointAfter: number | undefined;
  }>;
}

function recordingStore(
  db: Database,
  account: EmailAccountRecord,
  folder: string,
): { store: SyncStore; recorded: Recorded } {
  const inner = createSyncStore(db, account);
  const recorded: Recorded = { prepared: [], groups: [] };
  const seen = (uid: number): boolean =>
    mail.exchange.service.store.mailbox(DEVELOPERS).byName(folder)?.get(uid)?.flags.has('\\Seen') === true;
  const store: SyncStore = {
    ...inner,
    prepare(message: FetchedMessage) {
      recorded.prepared.push(message.uid);
      inner.prepare?.(message);
    },
    async ingestMany(messages) {
      const seenBeforeCommit = messages.some((m) => seen(m.uid));
      const results = await inner.ingestMany(messages);
      const checkpointAfter = (await getCheckpoint(db, account.id, folder))?.lastUid;
      recorded.groups.push({
        uids: messages.map((m) => m.uid),
        bytes: messages.reduce((sum, m) => sum + m.raw.length, 0),
        seenBeforeCommit,
        checkpointAfter,
      });
      return results;
    },
  };
  return { store, recorded };
}

forEachEngine((engine, openFresh) => {
  let db: Database;
  let serial = 0;

  beforeAll(async () => {
    db = await openFresh();
  });

  async function accountFor(folder: string): Promise<EmailAccountRecord> {
    serial += 1;
    const list = await createList(db, { name: `Group commit ${engine} ${serial}` });
    return createEmailAccount(db, {
      name: `Groups ${serial}`,
      key: `G${serial}`,
      emailAddress: DEVELOPERS,
      username: DEVELOPERS,
      modernAuthEmail: CONTOSO.andrea.upn,
      defaultListId: list.id,
      folder,
      firstSync: { kind: 'all' },
      afterFetchAction: 'mark_seen',
    });
  }

  function fill(folder: string, sizes: readonly number[]): void {
    const target = mail.exchange.service.store.createFolder(DEVELOPERS, folder);
    sizes.forEach((size, n) => mail.exchange.service.store.append(DEVELOPERS, target, message(n, folder, size)));
  }

  it('commits each batch in groups as it streams in, in UID order, and marks mail seen only after its group committed', async () => {
    const folder = `Groups ${engine}`;
    fill(
      folder,
      Array.from({ length: 23 }, () => 200),
    );
    const account = await accountFor(folder);
    const { store, recorded } = recordingStore(db, account, folder);
    const { sync } = buildSync(mail, db, account, {
      store,
      tuning: { batchCount: 10, groupCount: 4, groupBytes: 1024 * 1024 },
    });
    await sync.syncOnce();

    expect(recorded.groups.map((group) => group.uids)).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10],
      [11, 12, 13, 14],
      [15, 16, 17, 18],
      [19, 20],
      [21, 22, 23],
    ]);
    // Each group is one transaction that leaves the checkpoint on its last message.
    expect(recorded.groups.map((group) => group.checkpointAfter)).toEqual(
      recorded.groups.map((group) => group.uids.at(-1)),
    );
    expect(recorded.groups.some((group) => group.seenBeforeCommit)).toBe(false);
    // Every message was handed over for parsing as it arrived, before its group was stored.
    expect(recorded.prepared).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
    expect(await countAccountMessages(db, account.id)).toBe(23);
    const inMailbox = await mail.folder(DEVELOPERS, folder);
    expect(inMailbox.messages.filter((m) => !m.flags.includes('\\Seen'))).toEqual([]);
  });

  it('marks mail seen only once the database says its groups are on disk', async () => {
    const folder = `Groups durable ${engine}`;
    fill(
      folder,
      Array.from({ length: 9 }, () => 200),
    );
    const account = await accountFor(folder);
    const { store, release, asked } = holdingDurability(createSyncStore(db, account));
    const { sync } = buildSync(mail, db, account, { store, tuning: { batchCount: 50, groupCount: 4 } });
    const done = sync.syncOnce();
    await eventually(async () => asked() > 0 && (await countAccountMessages(db, account.id)) === 9, 10_000, 'stored');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const unseen = async (): Promise<number> =>
      (await mail.folder(DEVELOPERS, folder)).messages.filter((m) => !m.flags.includes('\\Seen')).length;
    expect(await unseen()).toBe(9);
    release();
    await done;
    expect(await unseen()).toBe(0);
  });

  it('closes a group before it would pass its byte limit, and commits a larger message alone', async () => {
    const folder = `Group bytes ${engine}`;
    fill(folder, [300, 300, 300, 5000, 300, 300]);
    const account = await accountFor(folder);
    const { store, recorded } = recordingStore(db, account, folder);
    const { sync } = buildSync(mail, db, account, {
      store,
      tuning: { batchCount: 50, groupCount: 50, groupBytes: 1800 },
    });
    await sync.syncOnce();

    expect(recorded.groups.map((group) => group.uids)).toEqual([[1, 2, 3], [4], [5, 6]]);
    for (const group of recorded.groups) if (group.uids.length > 1) expect(group.bytes).toBeLessThanOrEqual(1800);
    expect(await countAccountMessages(db, account.id)).toBe(6);
  });
});
