/**
 * Raw IMAP transcripts against the emulator, asserting Exchange Online's exact reply texts
 * (reference §5): greeting, capabilities before and after authentication, AUTHENTICATE outcomes,
 * "authenticated but not connected", token expiry, the connection cap, throttling, literals,
 * pipelining and Exchange's error texts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeXOAuth2 } from '../../emulator/exchange/xoauth2.js';
import { CAPABILITIES_AFTER_AUTH, CAPABILITIES_BEFORE_AUTH } from '../../emulator/imap/replies.js';
import { sampleMessage, startExchangeHarness, type ExchangeHarness } from './helpers/exchange-harness.js';
import { RawClient } from './helpers/raw-client.js';

const ANDREA = 'andrea@contoso.com';
const SHARED = 'developers@contoso.com';
let h: ExchangeHarness;
const open: RawClient[] = [];

async function connect(): Promise<RawClient> {
  const client = await RawClient.connect(h.imapPort, h.ca);
  open.push(client);
  await client.line();
  return client;
}

async function login(user = ANDREA, token = h.tenant.userToken(ANDREA)): Promise<RawClient> {
  const client = await connect();
  const reply = await client.command('a1', `AUTHENTICATE XOAUTH2 ${encodeXOAuth2(user, token)}`);
  expect(reply).toEqual(['a1 OK AUTHENTICATE completed.']);
  return client;
}

beforeAll(async () => {
  h = await startExchangeHarness({ imap: { maxConnectionsPerMailbox: 3 } });
  h.tenant.addUser(ANDREA);
  h.tenant.addUser('marco@contoso.com');
  h.tenant.addSharedMailbox(SHARED);
});

afterEach(() => {
  for (const client of open.splice(0)) client.close();
  h.service.faults.clear();
});

afterAll(() => h.stop());

describe('greeting and capabilities', () => {
  it('greets as Exchange with the backend name in UTF-16LE base64', async () => {
    const client = await RawClient.connect(h.imapPort, h.ca);
    open.push(client);
    const greeting = await client.line();
    const match = /^\* OK The Microsoft Exchange IMAP4 service is ready\. \[([A-Za-z0-9+/=]+)\]$/.exec(greeting);
    expect(match).not.toBeNull();
    expect(Buffer.from(match?.[1] ?? '', 'base64').toString('utf16le')).toMatch(/\.prod\.outlook\.com$/);
  });

  it('lists the capabilities before and after authentication as in the reference', async () => {
    const client = await connect();
    expect(await client.command('a0', 'CAPABILITY')).toEqual([
      '* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+',
      'a0 OK CAPABILITY completed.',
    ]);
    expect(
      await client.command('a1', `AUTHENTICATE XOAUTH2 ${encodeXOAuth2(ANDREA, h.tenant.userToken(ANDREA))}`),
    ).toEqual(['a1 OK AUTHENTICATE completed.']);
    expect(await client.command('a2', 'CAPABILITY')).toEqual([
      `* CAPABILITY ${CAPABILITIES_AFTER_AUTH}`,
      'a2 OK CAPABILITY completed.',
    ]);
    expect(CAPABILITIES_AFTER_AUTH).toBe(
      'IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CLIENTACCESSRULES CLIENTNETWORKPRESENCELOCATION BACKENDAUTHENTICATE CHILDREN IDLE NAMESPACE LITERAL+',
    );
    expect(CAPABILITIES_BEFORE_AUTH).not.toContain('MOVE');
  });

  it('answers ID and NAMESPACE as Exchange does', async () => {
    const client = await connect();
    expect(await client.command('a0', 'ID ("name" "postern")')).toEqual([
      '* ID ("name" "Microsoft.Exchange.Imap4.Imap4Server" "version" "15.20")',
      'a0 OK ID completed.',
    ]);
    expect(await client.command('a1', 'NAMESPACE')).toEqual(['a1 BAD Command received in Invalid state.']);
  });
});

describe('AUTHENTICATE XOAUTH2', () => {
  it('accepts the initial response after a continuation when SASL-IR is not used', async () => {
    const client = await connect();
    client.send('a1 AUTHENTICATE XOAUTH2');
    expect(await client.line()).toBe('+ ');
    client.send(encodeXOAuth2(ANDREA, h.tenant.userToken(ANDREA)));
    expect(await client.line()).toBe('a1 OK AUTHENTICATE completed.');
    expect(await client.command('a2', 'NAMESPACE')).toEqual([
      '* NAMESPACE (("" "/")) NIL NIL',
      'a2 OK NAMESPACE completed.',
    ]);
  });

  it('fails a bad, expired or wrong-audience token with NO AUTHENTICATE failed.', async () => {
    const client = await connect();
    expect(await client.command('a1', `AUTHENTICATE XOAUTH2 ${encodeXOAuth2(ANDREA, 'not-a-token')}`)).toEqual([
      'a1 NO AUTHENTICATE failed.',
    ]);
    const expired = h.tenant.userToken(ANDREA, { ttlMs: -1 });
    expect(await client.command('a2', `AUTHENTICATE XOAUTH2 ${encodeXOAuth2(ANDREA, expired)}`)).toEqual([
      'a2 NO AUTHENTICATE failed.',
    ]);
    const graph = h.tenant.userToken(ANDREA, { audience: 'https://graph.microsoft.com' });
    expect(await client.command('a3', `AUTHENTICATE XOAUTH2 ${encodeXOAuth2(ANDREA, graph)}`)).toEqual([
      'a3 NO AUTHENTICATE failed.',
    ]);
    expect(await client.command('a4', 'AUTHENTICATE XOAUTH2 bm90IHhvYXV0aA==')).toEqual(['a4 NO AUTHENTICATE failed.']);
  });

  it('reports a cancelled exchange and refuses basic authentication', async () => {
    const client = await connect();
    client.send('a1 AUTHENTICATE XOAUTH2');
    expect(await client.line()).toBe('+ ');
    client.send('*');
    expect(await client.line()).toBe('a1 NO The AUTH protocol exchange was canceled by the client.');
    expect(await client.command('a2', 'LOGIN andrea@contoso.com secret')).toEqual(['a2 NO LOGIN failed.']);
    expect(await client.command('a3', `AUTHENTICATE PLAIN ${Buffer.from('\0andrea\0pw').toString('base64')}`)).toEqual([
      'a3 NO AUTHENTICATE failed.',
    ]);
  });

  it('authenticates without access to the mailbox, then answers BAD User is authenticated but not connected. and BYE', async () => {
    const client = await login(SHARED, h.tenant.userToken(ANDREA));
    expect(await client.command('a2', 'SELECT INBOX')).toEqual(['a2 BAD User is authenticated but not connected.']);
    expect(await client.command('a3', 'LIST "" "*"')).toEqual(['a3 BAD User is authenticated but not connected.']);
    expect(await client.command('a4', 'NOOP')).toEqual(['a4 OK NOOP completed.']);
    client.send('a5 STATUS INBOX (MESSAGES)');
    expect(await client.line()).toBe('a5 BAD User is authenticated but not connected.');
    expect(await client.line()).toBe('* BYE Connection closed. 14');
    await client.waitClosed();
  });

  it('is not connected when IMAP is disabled for the mailbox', async () => {
    h.tenant.mailbox('marco@contoso.com').imapEnabled = false;
    const client = await login('marco@contoso.com', h.tenant.userToken('marco@contoso.com'));
    expect(await client.command('a2', 'SELECT INBOX')).toEqual(['a2 BAD User is authenticated but not connected.']);
    h.tenant.mailbox('marco@contoso.com').imapEnabled = true;
  });

  it('connects a delegate with FullAccess to the shared mailbox', async () => {
    h.tenant.mailbox(SHARED).fullAccess.push(h.tenant.userId(ANDREA));
    const client = await login(SHARED, h.tenant.userToken(ANDREA));
    expect(await client.command('a2', 'STATUS INBOX (MESSAGES UIDNEXT)')).toEqual([
      '* STATUS INBOX (MESSAGES 0 UIDNEXT 1)',
      'a2 OK STATUS completed.',
    ]);
    h.tenant.mailbox(SHARED).fullAccess.length = 0;
  });

  it('caps connections per mailbox: the next one is authenticated but not connected', async () => {
    const held = [await login(), await login(), await login()];
    expect(h.service.imap.connectionCount(ANDREA)).toBe(3);
    const fourth = await login();
    expect(await fourth.command('a2', 'SELECT INBOX')).toEqual(['a2 BAD User is authenticated but not connected.']);
    held[0]?.close();
    await held[0]?.waitClosed();
  });
});

describe('session lifetime', () => {
  it('ends an IDLE session with * BYE Session invalidated - AccessTokenExpired when the token expires', async () => {
    const client = await login(ANDREA, h.tenant.userToken(ANDREA, { ttlMs: 60_000 }));
    await client.command('a2', 'SELECT INBOX');
    client.send('a3 IDLE');
    expect(await client.line()).toBe('+ IDLE accepted, awaiting DONE command.');
    h.clock.advance(61_000);
    await h.service.onClockChanged();
    expect(await client.line()).toBe('* BYE Session invalidated - AccessTokenExpired');
    await client.waitClosed();
  });

  it('answers a command after expiry with the same BYE', async () => {
    const client = await login(ANDREA, h.tenant.userToken(ANDREA, { ttlMs: 60_000 }));
    h.clock.advance(61_000);
    client.send('a2 NOOP');
    expect(await client.line()).toBe('* BYE Session invalidated - AccessTokenExpired');
    await client.waitClosed();
  });

  it('signs off on LOGOUT', async () => {
    const client = await connect();
    expect(await client.command('a1', 'LOGOUT')).toEqual([
      '* BYE Microsoft Exchange Server IMAP4 server signing off.',
      'a1 OK LOGOUT completed.',
    ]);
    await client.waitClosed();
  });

  it('answers NO Request is throttled when the fault is set, for the given number of commands', async () => {
    const client = await login();
    h.service.faults.throttleImap({ count: 2, backoffMs: 256625 });
    expect(await client.command('a2', 'SELECT INBOX')).toEqual([
      'a2 NO Request is throttled. Suggested Backoff Time: 256625 milliseconds',
    ]);
    expect(await client.command('a3', 'NOOP')).toEqual([
      'a3 NO Request is throttled. Suggested Backoff Time: 256625 milliseconds',
    ]);
    expect(await client.command('a4', 'NOOP')).toEqual(['a4 OK NOOP completed.']);
    expect(h.service.faults.pending().imapThrottle).toBe(0);
  });

  it('answers BAD Request is throttled and closes with BYE when told to, as Exchange often does', async () => {
    const client = await login();
    h.service.faults.throttleImap({ count: 1, backoffMs: 89117, status: 'BAD', bye: true });
    expect(await client.command('a2', 'SELECT INBOX')).toEqual([
      'a2 BAD Request is throttled. Suggested Backoff Time: 89117 milliseconds',
    ]);
    expect(await client.line()).toBe('* BYE Connection closed. 14');
    await client.waitClosed();
  });

  it('drops connections on demand', async () => {
    const client = await login();
    expect(h.service.imap.dropConnections(ANDREA)).toBeGreaterThanOrEqual(1);
    await client.waitClosed();
  });
});

describe('syntax, literals and pipelining', () => {
  it('answers unknown commands and bad arguments with Exchange texts, and hangs up after the third', async () => {
    const client = await connect();
    expect(await client.command('a1', 'FROBNICATE')).toEqual(['a1 BAD Command Error. 12']);
    expect(await client.command('a2', 'AUTHENTICATE')).toEqual(['a2 BAD Command Argument Error. 12']);
    client.send('a3 SELECT');
    expect(await client.line()).toBe('a3 BAD Command received in Invalid state.');
    expect(await client.line()).toBe('* BYE Connection closed. 14');
    await client.waitClosed();
  });

  it('answers a line without a command with BAD Command Error. 12 for the tag', async () => {
    const client = await connect();
    expect(await client.command('a1', '')).toEqual(['a1 BAD Command Error. 12']);
    client.send('');
    expect(await client.line()).toBe('* BAD Command Error. 12');
  });

  it('asks for a synchronizing literal with + Ready for additional command text. and accepts LITERAL+', async () => {
    const client = await login();
    const message = sampleMessage({ subject: 'Literal' });
    client.send(`a2 APPEND INBOX (\\Seen) {${message.length}}`);
    expect(await client.line()).toBe('+ Ready for additional command text.');
    client.write(Buffer.concat([message, Buffer.from('\r\n')]));
    const inbox = h.service.store.mailbox(ANDREA).wellKnown('inbox');
    expect(await client.line()).toBe(`a2 OK [APPENDUID ${inbox.uidValidity} ${inbox.uidNext - 1}] APPEND completed.`);

    const second = sampleMessage({ subject: 'Literal plus' });
    client.write(
      Buffer.concat([
        Buffer.from(`a3 APPEND INBOX (\\Seen $Label1) {${second.length}+}\r\n`),
        second,
        Buffer.from('\r\n'),
      ]),
    );
    expect(await client.line()).toBe('* NO Keywords are not supported!');
    expect(await client.line()).toBe(`a3 OK [APPENDUID ${inbox.uidValidity} ${inbox.uidNext - 1}] APPEND completed.`);
    expect(inbox.get(inbox.uidNext - 1)?.content.header('subject')).toBe('Literal plus');
    expect(await client.command('a4', 'APPEND Nowhere {1+}\r\nx')).toEqual(['a4 NO [TRYCREATE] Folder is not found.']);
  });

  it('processes pipelined commands in order, with a literal split across writes', async () => {
    const client = await login();
    const message = sampleMessage({ subject: 'Split' });
    const payload = Buffer.concat([
      Buffer.from(`p1 NOOP\r\np2 APPEND Drafts {${message.length}+}\r\n`),
      message,
      Buffer.from('\r\np3 SELECT Drafts\r\np4 UID SEARCH SUBJECT "Split"\r\n'),
    ]);
    for (let i = 0; i < payload.length; i += 7) client.write(payload.subarray(i, i + 7));
    const lines = await client.until('p4');
    const tagged = lines.filter((l) => /^p\d /.test(l)).map((l) => l.slice(0, 5));
    expect(tagged).toEqual(['p1 OK', 'p2 OK', 'p3 OK', 'p4 OK']);
    const drafts = h.service.store.mailbox(ANDREA).wellKnown('drafts');
    expect(lines).toContain(`* SEARCH ${drafts.uidNext - 1}`);
  });
});

describe('selected state', () => {
  it('selects with Exchange lines, fetches, stores, moves and expunges', async () => {
    const address = 'marco@contoso.com';
    const store = h.service.store;
    const inbox = store.mailbox(address).wellKnown('inbox');
    const first = store.append(address, inbox, sampleMessage({ subject: 'One', messageId: '<one@x>' }), {
      flags: ['\\Seen'],
    });
    const second = store.append(address, inbox, sampleMessage({ subject: 'Two', messageId: '<two@x>' }));
    const client = await login(address, h.tenant.userToken(address));
    expect(await client.command('a2', 'SELECT INBOX')).toEqual([
      '* 2 EXISTS',
      '* 0 RECENT',
      '* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)',
      '* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)] Permanent flags',
      '* OK [UNSEEN 2] Is the first unseen message',
      `* OK [UIDVALIDITY ${inbox.uidValidity}] UIDVALIDITY value`,
      `* OK [UIDNEXT ${inbox.uidNext}] The next unique identifier value`,
      'a2 OK [READ-WRITE] SELECT completed.',
    ]);
    expect(
      await client.command(
        'a3',
        `UID FETCH ${second.uid} (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (Message-ID Subject)])`,
      ),
    ).toEqual([
      `* 2 FETCH (UID ${second.uid} FLAGS () RFC822.SIZE ${second.content.size} BODY[HEADER.FIELDS (MESSAGE-ID SUBJECT)] {37}`,
      'Subject: Two',
      'Message-ID: <two@x>',
      '',
      ')',
      'a3 OK FETCH completed.',
    ]);
    expect(await client.command('a4', 'FETCH 2 (BODY[TEXT]<0.5>)')).toEqual([
      '* 2 FETCH (BODY[TEXT]<0> {5}',
      'Where FLAGS (\\Seen))',
      'a4 OK FETCH completed.',
    ]);
    expect(await client.command('a5', `UID STORE ${first.uid} +FLAGS (\\Flagged)`)).toEqual([
      `* 1 FETCH (FLAGS (\\Seen \\Flagged) UID ${first.uid})`,
      'a5 OK STORE completed.',
    ]);
    expect(await client.command('a6', `UID STORE ${first.uid} +FLAGS.SILENT ($Label1)`)).toEqual([
      'a6 BAD Command Argument Error. 11',
    ]);
    expect(await client.command('a7', 'FETCH 9 FLAGS')).toEqual(['a7 BAD The specified message set is invalid.']);
    expect(await client.command('a8', `UID MOVE ${first.uid} "Deleted Items"`)).toEqual([
      `* OK [COPYUID ${store.mailbox(address).wellKnown('deleteditems').uidValidity} ${first.uid} 1]`,
      '* 1 EXPUNGE',
      'a8 OK MOVE completed.',
    ]);
    expect(await client.command('a9', 'STORE 1 +FLAGS.SILENT (\\Deleted)')).toEqual(['a9 OK STORE completed.']);
    expect(await client.command('b1', 'EXPUNGE')).toEqual(['* 1 EXPUNGE', 'b1 OK EXPUNGE completed.']);
    expect(await client.command('b2', 'SELECT Nowhere')).toEqual(["b2 NO Nowhere doesn't exist."]);
    expect(await client.command('b3', 'CREATE Projects/2025')).toEqual(['b3 OK CREATE completed.']);
    expect(await client.command('b4', 'CREATE Projects')).toEqual(['b4 NO Mailbox already exists.']);
    expect(await client.command('b5', 'LIST "" "Projects*"')).toEqual([
      '* LIST (\\HasChildren) "/" Projects',
      '* LIST (\\HasNoChildren) "/" Projects/2025',
      'b5 OK LIST completed.',
    ]);
  });

  it('copies, expunges by UID, examines read-only, closes and unselects', async () => {
    const address = 'marco@contoso.com';
    const store = h.service.store;
    const drafts = store.mailbox(address).wellKnown('drafts');
    const a = store.append(address, drafts, sampleMessage({ subject: 'A' }));
    const b = store.append(address, drafts, sampleMessage({ subject: 'B' }), { flags: ['\\Seen'] });
    const client = await login(address, h.tenant.userToken(address));
    const junk = store.mailbox(address).wellKnown('junkemail');
    expect(await client.command('a2', 'STATUS Drafts (MESSAGES UNSEEN UIDVALIDITY)')).toEqual([
      `* STATUS Drafts (MESSAGES ${drafts.size} UNSEEN ${drafts.unseen} UIDVALIDITY ${drafts.uidValidity})`,
      'a2 OK STATUS completed.',
    ]);
    await client.command('a3', 'SELECT Drafts');
    expect(await client.command('a4', `UID COPY ${a.uid}:${b.uid} "Junk Email"`)).toEqual([
      `a4 OK [COPYUID ${junk.uidValidity} ${a.uid}:${b.uid} ${junk.uidNext - 2}:${junk.uidNext - 1}] COPY completed.`,
    ]);
    expect(await client.command('a5', 'UID COPY 1 Nowhere')).toEqual(['a5 NO [TRYCREATE] Folder is not found.']);
    await client.command('a6', `UID STORE ${a.uid}:${b.uid} +FLAGS.SILENT (\\Deleted)`);
    const seqB = (await client.command('a7', `UID SEARCH UID ${b.uid}`))[0];
    expect(seqB).toBe(`* SEARCH ${b.uid}`);
    const expunged = await client.command('a8', `UID EXPUNGE ${b.uid}`);
    expect(expunged.at(-1)).toBe('a8 OK EXPUNGE completed.');
    expect(expunged).toHaveLength(2);
    expect(drafts.get(a.uid)).toBeDefined();
    expect(await client.command('a9', 'CLOSE')).toEqual(['a9 OK CLOSE completed.']);
    expect(drafts.get(a.uid)).toBeUndefined();
    expect(await client.command('b1', 'FETCH 1 FLAGS')).toEqual(['b1 BAD Command received in Invalid state.']);

    const examined = await client.command('b2', 'EXAMINE "Junk Email"');
    expect(examined.at(-1)).toBe('b2 OK [READ-ONLY] EXAMINE completed.');
    expect(await client.command('b3', 'STORE 1 +FLAGS (\\Seen)')).toEqual(['b3 NO access denied.']);
    expect(await client.command('b4', 'UNSELECT')).toEqual(['b4 OK UNSELECT completed.']);
    expect(await client.command('b5', 'CREATE Archive')).toEqual(['b5 OK CREATE completed.']);
    expect(await client.command('b6', 'UNSUBSCRIBE Archive')).toEqual(['b6 OK UNSUBSCRIBE completed.']);
    expect((await client.command('b7', 'LSUB "" "*"')).some((l) => l.endsWith(' Archive'))).toBe(false);
    expect(await client.command('b8', 'RENAME Archive Archive2025')).toEqual(['b8 OK RENAME completed.']);
    expect(await client.command('b9', 'DELETE Archive2025')).toEqual(['b9 OK DELETE completed.']);
    expect(await client.command('c1', 'DELETE INBOX')).toEqual(['c1 NO access denied.']);
  });
});
