import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from '../helpers/until.js';
import { appendMany } from './helpers/bulk-append.js';
import { CONTOSO, customerMessage, startInteropHarness, type InteropHarness } from './helpers/harness.js';
import { startTcpRelay } from './helpers/tcp-relay.js';

/**
 * One set of mailbox scenarios against the emulator's IMAP and against Dovecot, with the same
 * account settings and the same expected outcome in Postern and on the server. Both accounts are
 * password accounts (the emulator with basic authentication switched on), trusting their server's
 * CA through the account's own PEM, so that only the server differs. A second IMAP client (the
 * "other client": a person's mail program) delivers by APPEND and looks at the folders.
 */
interface Backend {
  readonly name: 'emulator' | 'dovecot';
  readonly user: string;
  readonly password: string;
  readonly port: () => number;
  readonly ca: () => string;
  /** Gives INBOX a new UIDVALIDITY on the server; resolves with it. */
  readonly renewUidValidity: () => Promise<number>;
}

const DOVECOT_USER = 'helpdesk@company.example';
const DOVECOT_PASSWORD = 'helpdesk password on dovecot';
const renewedFolder = z.object({ folder: z.object({ uidValidity: z.number(), messages: z.number() }) });
const BACKENDS: [Backend, Backend] = [
  {
    name: 'emulator',
    user: CONTOSO.marco.upn,
    password: CONTOSO.marco.password,
    port: () => Number(new URL(h.pair.emulator.handle.urls.imap ?? '').port),
    ca: () => h.pair.emulator.handle.caPem,
    // What Exchange does when it moves a mailbox to another database: new UIDVALIDITY, new UIDs,
    // connections cut (the emulator's control route models it).
    async renewUidValidity() {
      const renewed = renewedFolder.parse(
        await h.pair.emulator.control('POST', `/exchange/mailboxes/${CONTOSO.marco.upn}/folders/INBOX/uidvalidity`),
      );
      expect(renewed.folder.messages).toBeGreaterThan(0);
      return renewed.folder.uidValidity;
    },
  },
  {
    name: 'dovecot',
    user: DOVECOT_USER,
    password: DOVECOT_PASSWORD,
    port: () => h.servers.imapsPort,
    ca: () => h.servers.caPem,
    // An administrator's `doveadm mailbox update --uid-validity`: Dovecot ends the sessions that
    // have the folder selected with `* BYE Mailbox UIDVALIDITY changed`. UIDs stay as they were.
    async renewUidValidity() {
      const next = (await folderStatus(BACKENDS[1], 'INBOX')).uidValidity + 1000;
      await h.servers.dovecot.doveadm([
        'mailbox',
        'update',
        '-u',
        DOVECOT_USER,
        '--uid-validity',
        String(next),
        'INBOX',
      ]);
      return next;
    },
  },
];

/** Messages in the folder of the first-sync scenario. */
const BULK = 10_000;

let h: InteropHarness;
const accounts = new Map<string, number>();

const accountReply = z.object({
  id: z.number(),
  status: z.string(),
  lastError: z.object({ code: z.string(), message: z.string() }).nullable(),
});

beforeAll(async () => {
  h = await startInteropHarness({ [DOVECOT_USER]: DOVECOT_PASSWORD });
  await h.pair.emulator.control('PUT', '/exchange/settings/basic-auth', { imap: true, smtp: true });
  for (const [index, backend] of BACKENDS.entries()) {
    const created = await h.api('POST', '/api/email/accounts', {
      name: backend.name,
      key: `S${index}`,
      emailAddress: backend.user,
      username: backend.user,
      service: 'imap',
      modernAuth: false,
      password: backend.password,
      imapHost: '127.0.0.1',
      imapPort: backend.port(),
      tlsCaPem: backend.ca(),
      useIdle: true,
      // Only IDLE (or a restart) brings new mail within the tests' waits.
      pollIntervalSeconds: 86_400,
      firstSync: { kind: 'all' },
    });
    expect(created.statusCode, created.body).toBe(201);
    accounts.set(backend.name, accountReply.parse(created.json()).id);
  }
});
afterAll(async () => {
  await h?.close();
});

async function otherClient(backend: Backend): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: backend.port(),
    secure: true,
    tls: { ca: [backend.ca()] },
    auth: { user: backend.user, pass: backend.password },
    logger: false,
  });
  await client.connect();
  return client;
}

/** Runs `step` on a fresh session of the other client, logged out afterwards. */
async function withClient<T>(backend: Backend, step: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = await otherClient(backend);
  try {
    return await step(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** The UIDs and flags of the messages in `folder` carrying this Message-ID. */
async function find(backend: Backend, folder: string, messageId: string): Promise<Array<{ flags: string[] }>> {
  return withClient(backend, async (client) => {
    const lock = await client.getMailboxLock(folder);
    try {
      const found: Array<{ flags: string[] }> = [];
      for await (const message of client.fetch('1:*', { flags: true, envelope: true })) {
        if (message.envelope?.messageId === messageId) found.push({ flags: [...(message.flags ?? [])] });
      }
      return found;
    } finally {
      lock.release();
    }
  });
}

async function ensureFolder(backend: Backend, folder: string): Promise<void> {
  await withClient(backend, async (client) => {
    const existing = await client.list();
    if (!existing.some((box) => box.path === folder)) await client.mailboxCreate(folder);
  });
}

async function deliver(
  backend: Backend,
  fields: { subject: string; messageId: string; text?: string },
  folder = 'INBOX',
) {
  await withClient(backend, async (client) => {
    await client.append(folder, customerMessage({ to: backend.user, text: 'Hello.', ...fields }));
  });
}

async function stored(backend: Backend, messageId: string): Promise<{ id: number }> {
  const accountId = accounts.get(backend.name) ?? -1;
  return until(
    `${messageId} stored from ${backend.name}`,
    () =>
      h.pair.postern.runtime.db.kysely
        .selectFrom('messages')
        .select('id')
        .where('account_id', '=', accountId)
        .where('message_id', '=', messageId)
        .executeTakeFirst(),
    30_000,
  );
}

async function settle(backend: Backend, patch: Record<string, unknown>): Promise<void> {
  const accountId = accounts.get(backend.name) ?? -1;
  const patched = await h.api('PATCH', `/api/email/accounts/${accountId}`, patch);
  expect(patched.statusCode, patched.body).toBe(200);
  await connected(backend);
}

async function connected(backend: Backend): Promise<void> {
  const accountId = accounts.get(backend.name) ?? -1;
  await until(
    `${backend.name} connected`,
    async () => {
      const account = accountReply.parse((await h.api('GET', `/api/email/accounts/${accountId}`)).json());
      return account.status === 'connected' ? true : undefined;
    },
    30_000,
  );
}

/** The folder as the server describes it. */
async function folderStatus(
  backend: Backend,
  folder: string,
): Promise<{ messages: number; uidValidity: number; highestUid: number }> {
  return withClient(backend, async (client) => {
    const status = await client.status(folder, { messages: true, uidValidity: true });
    const lock = await client.getMailboxLock(folder);
    try {
      const uids = (await client.search({ all: true }, { uid: true })) || [];
      return {
        messages: status ? (status.messages ?? 0) : 0,
        uidValidity: status ? Number(status.uidValidity) : 0,
        highestUid: uids.reduce((highest, uid) => Math.max(highest, uid), 0),
      };
    } finally {
      lock.release();
    }
  });
}

/** UID and Message-ID of every message in the folder, on the server. */
async function listed(backend: Backend, folder: string): Promise<Array<{ uid: number; messageId: string }>> {
  return withClient(backend, async (client) => {
    const lock = await client.getMailboxLock(folder);
    try {
      const found: Array<{ uid: number; messageId: string }> = [];
      for await (const message of client.fetch('1:*', { uid: true, envelope: true }))
        found.push({ uid: message.uid, messageId: message.envelope?.messageId ?? '' });
      return found;
    } finally {
      lock.release();
    }
  });
}

/** Sets flags on the message carrying this Message-ID, as a person's mail program does. */
async function flagElsewhere(
  backend: Backend,
  messageId: string,
  change: { add?: string[]; remove?: string[] },
): Promise<void> {
  await withClient(backend, async (client) => {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const uids = (await client.search({ header: { 'message-id': messageId } }, { uid: true })) || [];
      expect(uids).toHaveLength(1);
      if (change.remove !== undefined) await client.messageFlagsRemove(uids, change.remove, { uid: true });
      if (change.add !== undefined) await client.messageFlagsAdd(uids, change.add, { uid: true });
    } finally {
      lock.release();
    }
  });
}

/** Rows stored for the account (in one folder), and how many distinct Message-IDs they carry. */
async function rowsOf(backend: Backend, folder?: string): Promise<{ rows: number; ids: number }> {
  const accountId = accounts.get(backend.name) ?? -1;
  let query = h.pair.postern.runtime.db.kysely
    .selectFrom('messages')
    .select((eb) => [eb.fn.countAll().as('rows'), eb.fn.count('message_id').distinct().as('ids')])
    .where('account_id', '=', accountId);
  if (folder !== undefined) query = query.where('folder', '=', folder);
  const counted = await query.executeTakeFirstOrThrow();
  return { rows: Number(counted.rows), ids: Number(counted.ids) };
}

/** The stored copies of a message: where Postern believes it is. */
async function copiesOf(backend: Backend, messageId: string): Promise<Array<{ uidvalidity: number; uid: number }>> {
  const accountId = accounts.get(backend.name) ?? -1;
  const rows = await h.pair.postern.runtime.db.kysely
    .selectFrom('messages')
    .select(['uidvalidity', 'uid'])
    .where('account_id', '=', accountId)
    .where('message_id', '=', messageId)
    .execute();
  return rows.map((row) => ({ uidvalidity: Number(row.uidvalidity), uid: Number(row.uid) }));
}

/** Waits until the folder's checkpoint is at `uid` under `uidValidity`. */
async function checkpointAt(backend: Backend, folder: string, uidValidity: number, uid: number, timeoutMs: number) {
  const accountId = accounts.get(backend.name) ?? -1;
  return until(
    `${backend.name}'s checkpoint of ${folder} at ${uidValidity}/${uid}`,
    async () => {
      const row = await h.pair.postern.runtime.db.kysely
        .selectFrom('mailbox_checkpoints')
        .select(['uidvalidity', 'last_uid'])
        .where('account_id', '=', accountId)
        .where('folder', '=', folder)
        .executeTakeFirst();
      return row !== undefined && Number(row.uidvalidity) === uidValidity && Number(row.last_uid) === uid
        ? true
        : undefined;
    },
    timeoutMs,
  );
}

describe.each(BACKENDS)('on $name', (backend) => {
  const id = (name: string) => `<${name}.${backend.name}@customer.example>`;

  it('IDLE: a message that arrives while Postern waits is stored, then marked seen', async () => {
    await connected(backend);
    // Once a first message is stored the first sync is over: the next one can only come by IDLE.
    await deliver(backend, { subject: 'Before idle', messageId: id('before-idle') });
    await stored(backend, id('before-idle'));
    await deliver(backend, { subject: 'While idle', messageId: id('idle') });
    await stored(backend, id('idle'));
    await until('seen on the server', async () =>
      (await find(backend, 'INBOX', id('idle')))[0]?.flags.includes('\\Seen') === true ? true : undefined,
    );
  });

  it('after fetch, moves the message to the named folder', async () => {
    await ensureFolder(backend, 'Processed');
    await settle(backend, { afterFetchAction: 'move', afterFetchFolder: 'Processed' });
    await deliver(backend, { subject: 'To be moved', messageId: id('move') });
    await stored(backend, id('move'));
    await until('moved', async () =>
      (await find(backend, 'INBOX', id('move'))).length === 0 &&
      (await find(backend, 'Processed', id('move'))).length === 1
        ? true
        : undefined,
    );
  });

  it('after fetch, deletes the message', async () => {
    await settle(backend, { afterFetchAction: 'delete', afterFetchFolder: null });
    await deliver(backend, { subject: 'To be deleted', messageId: id('delete') });
    await stored(backend, id('delete'));
    await until('deleted', async () => ((await find(backend, 'INBOX', id('delete'))).length === 0 ? true : undefined));
  });

  it('carries on when another client expunges a message it has seen', async () => {
    await settle(backend, { afterFetchAction: 'none' });
    await deliver(backend, { subject: 'Expunged elsewhere', messageId: id('expunged') });
    await stored(backend, id('expunged'));
    await withClient(backend, async (client) => {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const uids = (await client.search({ header: { 'message-id': id('expunged') } }, { uid: true })) || [];
        expect(uids).toHaveLength(1);
        await client.messageDelete(uids, { uid: true });
      } finally {
        lock.release();
      }
    });
    await deliver(backend, { subject: 'After the expunge', messageId: id('after-expunge') });
    await stored(backend, id('after-expunge'));
    await connected(backend);
  });

  it('reads a folder with a non-ASCII name', async () => {
    const folder = 'Überweisungen Поддержка';
    await ensureFolder(backend, folder);
    await settle(backend, { folder, afterFetchAction: 'mark_seen' });
    await deliver(backend, { subject: 'Non-ASCII folder', messageId: id('utf7') }, folder);
    await stored(backend, id('utf7'));
    await until('seen in the folder', async () =>
      (await find(backend, folder, id('utf7')))[0]?.flags.includes('\\Seen') === true ? true : undefined,
    );
    await settle(backend, { folder: 'INBOX' });
  });

  it('keeps only the header of a message over the account limit and moves it to the oversize folder', async () => {
    await settle(backend, { maxMessageBytes: 64 * 1024 });
    await deliver(backend, {
      subject: 'Very large',
      messageId: id('large'),
      text: `${'x'.repeat(76)}\r\n`.repeat(1400),
    });
    await stored(backend, id('large'));
    await until('moved to the oversize folder', async () =>
      (await find(backend, 'INBOX', id('large'))).length === 0 &&
      (await find(backend, 'Postern Oversize', id('large')).catch(() => [])).length === 1
        ? true
        : undefined,
    );
  });

  it('flags set by another client: nothing stored again or lost, still connected; a message marked unread is marked read again by the next session', async () => {
    // Postern keeps no IMAP flags of its own (a message is stored once, its flags are the
    // mailbox's business); what it may change is \\Seen, its after-fetch action.
    await settle(backend, { maxMessageBytes: 25 * 1024 * 1024, afterFetchAction: 'mark_seen' });
    await deliver(backend, { subject: 'Flagged elsewhere', messageId: id('flags') });
    await stored(backend, id('flags'));
    await until('seen', async () =>
      (await find(backend, 'INBOX', id('flags')))[0]?.flags.includes('\\Seen') === true ? true : undefined,
    );
    await flagElsewhere(backend, id('flags'), { remove: ['\\Seen'], add: ['\\Flagged'] });
    const before = await rowsOf(backend);
    // The session hears the FETCH FLAGS update during IDLE and carries on: new mail still comes.
    await deliver(backend, { subject: 'After the flags', messageId: id('after-flags') });
    await stored(backend, id('after-flags'));
    await until('the new one seen', async () =>
      (await find(backend, 'INBOX', id('after-flags')))[0]?.flags.includes('\\Seen') === true ? true : undefined,
    );
    expect((await find(backend, 'INBOX', id('flags')))[0]?.flags.sort()).toEqual(['\\Flagged']);
    expect(await rowsOf(backend)).toEqual({ rows: before.rows + 1, ids: before.ids + 1 });
    expect(await copiesOf(backend, id('flags'))).toHaveLength(1);
    await connected(backend);
    // A new session reconciles: an unseen message it stored in the last 15 minutes is marked seen
    // again — it cannot tell a mark-seen lost to a dropped connection from a person's "mark as
    // unread" (docs/INTEROP.md). The other client's \\Flagged stays.
    await settle(backend, { pollIntervalSeconds: 86_399 });
    await until('marked seen again by the next session', async () => {
      const flags = (await find(backend, 'INBOX', id('flags')))[0]?.flags ?? [];
      return flags.includes('\\Seen') && flags.includes('\\Flagged') ? true : undefined;
    });
    expect(await copiesOf(backend, id('flags'))).toHaveLength(1);
  });

  it('UIDVALIDITY change: the folder is read again, nothing stored twice, new mail after it stored', async () => {
    await deliver(backend, { subject: 'Before the UIDVALIDITY change', messageId: id('before-uidvalidity') });
    await stored(backend, id('before-uidvalidity'));
    const before = await rowsOf(backend);
    const old = await folderStatus(backend, 'INBOX');
    const renewed = await backend.renewUidValidity();
    expect(renewed).not.toBe(old.uidValidity);
    // Postern's session ends (emulator: cut; Dovecot: BYE); the next one sees the new UIDVALIDITY
    // and reads the whole folder again (first sync "all"), recognising each message by Message-ID.
    const now = await folderStatus(backend, 'INBOX');
    expect(now.uidValidity).toBe(renewed);
    await checkpointAt(backend, 'INBOX', renewed, now.highestUid, 30_000);
    for (const message of await listed(backend, 'INBOX')) {
      expect(await copiesOf(backend, message.messageId), message.messageId).toEqual([
        { uidvalidity: renewed, uid: message.uid },
      ]);
    }
    expect(await rowsOf(backend)).toEqual(before);
    await deliver(backend, { subject: 'After the UIDVALIDITY change', messageId: id('after-uidvalidity') });
    await stored(backend, id('after-uidvalidity'));
    expect((await copiesOf(backend, id('after-uidvalidity')))[0]?.uidvalidity).toBe(renewed);
    await connected(backend);
  });

  it('connection cut in the middle of a FETCH: after reconnecting every message is stored once, none skipped', async () => {
    const folder = 'Cut';
    const count = 300;
    await ensureFolder(backend, folder);
    const line = `${'Long enough to make a FETCH of many packets. '.repeat(2)}\r\n`;
    await appendMany(
      { port: backend.port(), ca: backend.ca(), user: backend.user, password: backend.password },
      folder,
      Array.from({ length: count }, (_, index) =>
        Buffer.from(
          customerMessage({
            to: backend.user,
            subject: `Cut ${index}`,
            messageId: id(`cut-${index}`),
            text: line.repeat(20),
          }),
        ),
      ),
    );
    const server = await folderStatus(backend, folder);
    expect(server.messages).toBe(count);
    // Postern reaches the server through a relay that cuts its first connection once 150 kB have
    // come back: past the sign-in and the UID list, inside the first body FETCH (~400 kB).
    const relay = await startTcpRelay(backend.port());
    try {
      let storedAtCut: Promise<{ rows: number }> | undefined;
      relay.cutNext(150_000, () => {
        storedAtCut = rowsOf(backend, folder);
      });
      await settle(backend, { folder, afterFetchAction: 'none', imapPort: relay.port });
      await checkpointAt(backend, folder, server.uidValidity, server.highestUid, 60_000);
      expect(relay.cuts).toBe(1);
      expect(relay.connections).toBeGreaterThanOrEqual(2);
      expect((await storedAtCut)?.rows).toBeLessThan(count);
      expect(await rowsOf(backend, folder)).toEqual({ rows: count, ids: count });
      await settle(backend, { folder: 'INBOX', imapPort: backend.port() });
    } finally {
      await relay.close();
    }
  });

  it('first sync of a 10,000-message folder: every message stored once, checkpoint at the highest UID', async () => {
    const folder = 'Bulk';
    await ensureFolder(backend, folder);
    await appendMany(
      { port: backend.port(), ca: backend.ca(), user: backend.user, password: backend.password },
      folder,
      Array.from({ length: BULK }, (_, index) =>
        Buffer.from(
          customerMessage({ to: backend.user, subject: `Bulk ${index}`, messageId: id(`bulk-${index}`), text: 'Hi.' }),
        ),
      ),
    );
    const server = await folderStatus(backend, folder);
    expect(server.messages).toBe(BULK);
    const started = Date.now();
    await settle(backend, { folder, afterFetchAction: 'none' });
    await checkpointAt(backend, folder, server.uidValidity, server.highestUid, 200_000);
    console.info(`${backend.name}: first sync of ${BULK} messages in ${Date.now() - started} ms`);
    expect(await rowsOf(backend, folder)).toEqual({ rows: BULK, ids: BULK });
    await settle(backend, { folder: 'INBOX' });
  }, 300_000);
});
