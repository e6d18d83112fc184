/**
 * imapflow (Postern's IMAP client) against the emulated Exchange IMAP service: everything Postern's
 * ingest needs — XOAUTH2 login, LIST, SELECT, FETCH, SEARCH, IDLE with EXISTS pushed on delivery,
 * MOVE, APPEND, flags.
 */
import { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sampleMessage, startExchangeHarness, type ExchangeHarness } from './helpers/exchange-harness.js';

let h: ExchangeHarness;
const ANDREA = 'andrea@contoso.com';
const clients: ImapFlow[] = [];

function client(user = ANDREA, token?: string): ImapFlow {
  const flow = new ImapFlow({
    host: '127.0.0.1',
    port: h.imapPort,
    secure: true,
    tls: { ca: h.ca, servername: 'localhost' },
    auth: { user, accessToken: token ?? h.tenant.userToken(user) },
    logger: false,
    disableAutoIdle: true,
  });
  clients.push(flow);
  return flow;
}

function inbox(address = ANDREA) {
  return h.service.store.mailbox(address).wellKnown('inbox');
}

beforeAll(async () => {
  h = await startExchangeHarness();
  h.tenant.addUser(ANDREA);
});

afterEach(async () => {
  for (const flow of clients.splice(0)) await flow.logout().catch(() => flow.close());
});

afterAll(() => h.stop());

describe('imapflow against the emulator', () => {
  it('logs in with XOAUTH2 and lists the Exchange folders with their special uses', async () => {
    const flow = client();
    await flow.connect();
    expect(flow.authenticated).toBe(true);
    expect(flow.capabilities.has('MOVE')).toBe(true);
    const folders = await flow.list();
    const byPath = new Map(folders.map((f) => [f.path, f.specialUse]));
    expect(byPath.get('INBOX')).toBe('\\Inbox');
    expect(byPath.get('Sent Items')).toBe('\\Sent');
    expect(byPath.get('Deleted Items')).toBe('\\Trash');
    expect(byPath.get('Junk Email')).toBe('\\Junk');
    expect(byPath.get('Drafts')).toBe('\\Drafts');
  });

  it('refuses a token without the IMAP scope', async () => {
    const flow = client(ANDREA, h.tenant.userToken(ANDREA, { scopes: ['SMTP.Send'] }));
    await expect(flow.connect()).rejects.toMatchObject({ authenticationFailed: true });
  });

  it('selects, fetches envelope, structure and source, and searches', async () => {
    const messageId = '<order-42@example.org>';
    h.service.store.append(ANDREA, inbox(), sampleMessage({ subject: 'Order 42', messageId }));
    h.service.store.append(ANDREA, inbox(), sampleMessage({ subject: 'Invoice', body: 'Please pay' }), {
      flags: ['\\Seen'],
    });
    const flow = client();
    await flow.connect();
    const mailbox = await flow.mailboxOpen('INBOX');
    expect(mailbox.exists).toBe(inbox().size);
    expect(mailbox.uidValidity).toBe(BigInt(inbox().uidValidity));
    const fetched = [];
    for await (const message of flow.fetch(
      '1:*',
      { uid: true, flags: true, envelope: true, bodyStructure: true, source: true, internalDate: true, size: true },
      { uid: true },
    )) {
      fetched.push(message);
    }
    const order = fetched.find((m) => m.envelope?.messageId === messageId);
    expect(order?.envelope?.subject).toBe('Order 42');
    expect(order?.envelope?.from?.[0]?.address).toBe('customer@example.org');
    expect(order?.bodyStructure?.type).toBe('text/plain');
    expect(order?.source?.toString()).toContain('Where is my order?');
    expect(order?.flags?.has('\\Seen')).toBe(false);

    expect(await flow.search({ header: { 'message-id': messageId } }, { uid: true })).toEqual([order?.uid]);
    const unseen = await flow.search({ seen: false }, { uid: true });
    const seen = await flow.search({ seen: true }, { uid: true });
    expect(unseen).toContain(order?.uid);
    expect(seen).not.toContain(order?.uid);
    expect(await flow.search({ since: new Date(Date.UTC(2025, 0, 15)) }, { uid: true })).toContain(order?.uid);
    expect(await flow.search({ before: new Date(Date.UTC(2025, 0, 15)) }, { uid: true })).toEqual([]);
  });

  it('receives EXISTS during IDLE when a message is delivered from the control side', async () => {
    const flow = client();
    await flow.connect();
    await flow.mailboxOpen('INBOX');
    const before = inbox().size;
    const exists = new Promise<number>((resolve) =>
      flow.on('exists', (event: { count: number }) => resolve(event.count)),
    );
    const idling = flow.idle();
    await new Promise((resolve) => setTimeout(resolve, 20));
    h.service.router.deliver({
      envelopeFrom: 'customer@example.org',
      recipients: [ANDREA],
      raw: sampleMessage({ subject: 'New mail' }),
    });
    expect(await exists).toBe(before + 1);
    // Any command ends the IDLE with DONE.
    await flow.noop();
    await idling;
  });

  it('moves, appends and changes flags', async () => {
    const flow = client();
    await flow.connect();
    await flow.mailboxOpen('INBOX');
    const uid = h.service.store.append(ANDREA, inbox(), sampleMessage({ subject: 'Move me' })).uid;

    await flow.messageFlagsAdd(String(uid), ['\\Seen', '\\Flagged'], { uid: true });
    expect([...(inbox().get(uid)?.flags ?? [])].sort()).toEqual(['\\Flagged', '\\Seen']);
    await flow.messageFlagsRemove(String(uid), ['\\Flagged'], { uid: true });
    expect([...(inbox().get(uid)?.flags ?? [])]).toEqual(['\\Seen']);

    await flow.mailboxCreate('Processed');
    const moved = await flow.messageMove(String(uid), 'Processed', { uid: true });
    expect(moved && moved.uidMap?.get(uid)).toBe(1);
    expect(inbox().get(uid)).toBeUndefined();
    expect(h.service.store.mailbox(ANDREA).byName('Processed')?.get(1)?.content.header('subject')).toBe('Move me');

    const appended = await flow.append(
      'Drafts',
      sampleMessage({ subject: 'Draft reply' }),
      ['\\Draft', '\\Seen'],
      new Date(Date.UTC(2025, 0, 1)),
    );
    const drafts = h.service.store.mailbox(ANDREA).wellKnown('drafts');
    expect(appended && appended.uid).toBe(drafts.uidNext - 1);
    expect(appended && appended.uidValidity).toBe(BigInt(drafts.uidValidity));
    expect(drafts.get(drafts.uidNext - 1)?.internalDate.toISOString()).toBe('2025-01-01T00:00:00.000Z');
  });

  it('expunges \\Deleted messages and reports them to another session', async () => {
    const watcher = client();
    await watcher.connect();
    await watcher.mailboxOpen('INBOX');
    const uid = h.service.store.append(ANDREA, inbox(), sampleMessage({ subject: 'Delete me' })).uid;
    await watcher.noop();
    const expunged = new Promise<{ uid?: number; seq: number }>((resolve) => watcher.on('expunge', resolve));

    const actor = client();
    await actor.connect();
    await actor.mailboxOpen('INBOX');
    expect(await actor.messageDelete(String(uid), { uid: true })).toBe(true);
    expect(inbox().get(uid)).toBeUndefined();
    await watcher.noop();
    expect((await expunged).seq).toBeGreaterThan(0);
  });
});
