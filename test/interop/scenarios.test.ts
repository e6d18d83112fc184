import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from '../helpers/until.js';
import { CONTOSO, customerMessage, startInteropHarness, type InteropHarness } from './helpers/harness.js';

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
}

const DOVECOT_USER = 'helpdesk@company.example';
const DOVECOT_PASSWORD = 'helpdesk password on dovecot';
const BACKENDS: Backend[] = [
  {
    name: 'emulator',
    user: CONTOSO.marco.upn,
    password: CONTOSO.marco.password,
    port: () => Number(new URL(h.pair.emulator.handle.urls.imap ?? '').port),
    ca: () => h.pair.emulator.handle.caPem,
  },
  {
    name: 'dovecot',
    user: DOVECOT_USER,
    password: DOVECOT_PASSWORD,
    port: () => h.servers.imapsPort,
    ca: () => h.servers.caPem,
  },
];

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
});
