/**
 * Graph inbound's after-fetch actions in JSON batches and its pipelined commits, against the
 * emulated Graph API over loopback TLS and a real store: N messages are marked read with
 * ceil(N/20) `$batch` requests and no `PATCH` of their own, an inner 429 is waited out, a message
 * deleted meanwhile counts as done, and a failed group commit ends the round before its delta link
 * is stored (the next round stores everything once).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import type { GraphSyncStore } from '../../src/mail/graph/graph-sync-folder.js';
import { createGraphSyncStore } from '../../src/services/inbound/graph-sync-store.js';
import { countAccountMessages, getDeltaLink, type Database } from '../../src/store/index.js';
import { holdingDurability } from '../helpers/held-durability.js';
import { forEachEngine } from '../helpers/store.js';
import {
  buildGraphSync,
  customerMessage,
  DEVELOPERS,
  graphAccount,
  startGraphMail,
  type GraphMail,
} from './inbound-helpers.js';

let mail: GraphMail;

beforeAll(async () => {
  mail = await startGraphMail();
});
afterAll(async () => {
  await mail?.stop();
});

const requestLog = z.object({ method: z.string(), path: z.string(), status: z.number() }).array();

/** The Graph requests the emulator answered since `clearRequests()`. */
async function graphRequests(): Promise<z.infer<typeof requestLog>> {
  const listed: unknown = await mail.emu.control('GET', '/requests?endpoint=graph');
  const entries = Array.isArray(listed) ? listed : z.object({ requests: z.unknown() }).parse(listed).requests;
  return requestLog.parse(entries);
}

async function clearRequests(): Promise<void> {
  await mail.emu.control('DELETE', '/requests');
}

/** The store, with `hook` run after the round's last group (the one with the delta link) is committed. */
function afterLastCommit(base: GraphSyncStore, hook: () => Promise<void> | void): GraphSyncStore {
  return {
    ...base,
    async ingestMany(messages, checkpoint) {
      const results = await base.ingestMany(messages, checkpoint);
      if (checkpoint !== undefined) await hook();
      return results;
    },
  };
}

forEachEngine((engine, openFresh) => {
  let db: Database;
  let folders = 0;
  const folder = (what: string): string => {
    folders += 1;
    return `Graph batch ${what} ${engine} ${folders}`;
  };

  beforeAll(async () => {
    db = await openFresh();
  });

  it('marks 45 messages read with 3 $batch requests and no PATCH of its own', async () => {
    const name = folder('mark read');
    const account = await graphAccount(mail, db, name);
    for (let i = 0; i < 45; i += 1) mail.deliver(name, customerMessage());
    await clearRequests();
    const [report] = await buildGraphSync(mail, db, account).sync.syncOnce();
    expect(report).toMatchObject({ stored: 45, actionsApplied: 45, actionsFailed: 0 });
    expect(mail.messages(name).every((m) => m.seen)).toBe(true);

    const requests = await graphRequests();
    expect(requests.filter((r) => r.method === 'POST' && r.path.endsWith('/$batch'))).toHaveLength(3);
    expect(requests.filter((r) => r.method === 'PATCH')).toEqual([]);
    expect(requests.filter((r) => r.path.endsWith('/$value'))).toHaveLength(45);
    expect(requests.filter((r) => r.status === 429)).toEqual([]);
  });

  it('marks messages read only once the database says their group is on disk', async () => {
    const name = folder('durable');
    const account = await graphAccount(mail, db, name);
    for (let i = 0; i < 6; i += 1) mail.deliver(name, customerMessage());
    const { store, release, asked } = holdingDurability(createGraphSyncStore(db, account));
    const done = buildGraphSync(mail, db, account, { store, tuning: { groupCount: 3 } }).sync.syncOnce();
    const deadline = Date.now() + 10_000;
    while (asked() === 0 || (await countAccountMessages(db, account.id)) < 3) {
      if (Date.now() > deadline) throw new Error('no group committed');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(mail.messages(name).filter((m) => m.seen)).toEqual([]);
    release();
    const [report] = await done;
    expect(report).toMatchObject({ stored: 6, actionsApplied: 6, actionsFailed: 0 });
    expect(mail.messages(name).every((m) => m.seen)).toBe(true);
  });

  it('waits out a 429 on a request inside the batch: every message ends read', { timeout: 30_000 }, async () => {
    const name = folder('throttled');
    const account = await graphAccount(mail, db, name);
    for (let i = 0; i < 3; i += 1) mail.deliver(name, customerMessage());
    // Scripted once the link is committed: the next Graph calls are the batch's inner requests.
    const store = afterLastCommit(createGraphSyncStore(db, account), async () => {
      await mail.emu.control('POST', '/graph/faults', { kind: 'throttle', count: 1, retryAfterSeconds: 1 });
    });
    await clearRequests();
    const [report] = await buildGraphSync(mail, db, account, { store }).sync.syncOnce();
    expect(report).toMatchObject({ stored: 3, actionsApplied: 3, actionsFailed: 0 });
    expect(mail.messages(name).map((m) => m.seen)).toEqual([true, true, true]);
    expect(
      z.object({ faults: z.array(z.unknown()) }).parse(await mail.emu.control('GET', '/graph/faults')).faults,
    ).toEqual([]);
    // The throttled request was sent again in a second batch.
    expect((await graphRequests()).filter((r) => r.path.endsWith('/$batch'))).toHaveLength(2);
  });

  it('counts a message deleted before its after-fetch action as done', async () => {
    const name = folder('deleted');
    const account = await graphAccount(mail, db, name);
    for (let i = 0; i < 3; i += 1) mail.deliver(name, customerMessage());
    const store = afterLastCommit(createGraphSyncStore(db, account), () => {
      const mailbox = mail.exchange.service.store;
      const held = mailbox.mailbox(DEVELOPERS).byName(name);
      const first = held?.messages[0];
      if (held === undefined || first === undefined) throw new Error('no message to delete');
      mailbox.expunge(DEVELOPERS, held, { uids: [first.uid], force: true });
    });
    const [report] = await buildGraphSync(mail, db, account, { store }).sync.syncOnce();
    expect(report).toMatchObject({ stored: 3, actionsApplied: 3, actionsFailed: 0 });
    expect(mail.messages(name).map((m) => m.seen)).toEqual([true, true]);
  });

  it('a group that fails to commit ends the round before its delta link; the next round stores everything once', async () => {
    const name = folder('failed group');
    const account = await graphAccount(mail, db, name, { afterFetchAction: 'none' });
    for (let i = 0; i < 12; i += 1) mail.deliver(name, customerMessage());
    const base = createGraphSyncStore(db, account);
    let groups = 0;
    const failing: GraphSyncStore = {
      ...base,
      async ingestMany(messages, checkpoint) {
        groups += 1;
        if (groups === 2) throw new Error('disk full');
        return base.ingestMany(messages, checkpoint);
      },
    };
    const tuning = { groupCount: 4 };
    await expect(buildGraphSync(mail, db, account, { store: failing, tuning }).sync.syncOnce()).rejects.toThrow();
    expect(await getDeltaLink(db, account.id, name)).toBeUndefined();
    expect(await countAccountMessages(db, account.id)).toBe(4);

    const [report] = await buildGraphSync(mail, db, account, { tuning }).sync.syncOnce();
    expect(report).toMatchObject({ stored: 8, duplicates: 0, known: 4 });
    expect(await countAccountMessages(db, account.id)).toBe(12);
    expect(await getDeltaLink(db, account.id, name)).toBeDefined();
  });
});
