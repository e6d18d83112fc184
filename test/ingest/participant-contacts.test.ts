/**
 * Participants saved as contacts, on both engines: a received message's To and Cc addresses (never
 * Bcc) become contacts in the account's default list as a new sender does — not the account's own
 * addresses, not addresses a contact already owns, at most the first 20 per message, and nobody
 * for junk or automated mail. A group commit saves a participant met twice once.
 */
import { beforeAll, expect, it } from 'vitest';
import {
  ingestMessage,
  ingestPrepared,
  prepareMessage,
  type IngestInput,
  type IngestResult,
} from '../../src/services/inbound/ingest-message.js';
import {
  createContact,
  createList,
  findContactByAddress,
  searchContacts,
  type Database,
  type EmailAccountRecord,
} from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';
import { buildAccount, buildMessage } from './helpers.js';

forEachEngine((engine, openFresh) => {
  let db: Database;
  let account: EmailAccountRecord;
  let uid = 0;
  const at = (raw: Buffer, isJunk = false): IngestInput => ({
    folder: isJunk ? 'Junk Email' : 'INBOX',
    uidvalidity: 1,
    uid: (uid += 1),
    raw,
    isJunk,
  });
  const stored = (result: IngestResult): void => expect(result.outcome).toBe('stored');
  /** How many contacts own an address of this domain. */
  const countAt = async (domain: string): Promise<number> =>
    (await searchContacts(db, { query: `@${domain}`, limit: 200 })).total;

  beforeAll(async () => {
    db = await openFresh();
    account = await buildAccount(db);
  });

  it('saves To and Cc participants in the default list, not Bcc, not the account, with capped names', async () => {
    const longName = 'N'.repeat(400);
    stored(
      await ingestMessage(
        db,
        account,
        at(
          buildMessage({
            from: 'Ada <ada@people.example>',
            to: `Support <${account.emailAddress.toUpperCase()}>, Bob Builder <Bob@People.example>`,
            headers: {
              Cc: `"${longName}" <carol@people.example>, ada@people.example, bob@people.example`,
              Bcc: 'Dave <dave@people.example>',
            },
          }),
        ),
      ),
    );
    const bob = await findContactByAddress(db, 'bob@people.example');
    expect(bob).toMatchObject({
      name: 'Bob Builder',
      listId: account.defaultListId,
      addresses: ['bob@people.example'],
    });
    const carol = await findContactByAddress(db, 'carol@people.example');
    expect(carol?.listId).toBe(account.defaultListId);
    expect(carol?.name.length).toBeLessThanOrEqual(200);
    expect(carol?.name.startsWith('NNN')).toBe(true);
    expect(await findContactByAddress(db, 'dave@people.example')).toBeUndefined();
    expect(await findContactByAddress(db, account.emailAddress)).toBeUndefined();
    // Ada (the sender), Bob and Carol; nobody twice.
    expect(await countAt('people.example')).toBe(3);
  });

  it('leaves a participant already known where it is', async () => {
    const vip = await createList(db, { name: `VIP ${engine}` });
    const known = await createContact(db, { listId: vip.id, name: 'Known Kim', addresses: ['kim@known.example'] });
    stored(
      await ingestMessage(db, account, at(buildMessage({ to: 'Kimberly <KIM@known.example>, lee@known.example' }))),
    );
    expect(await findContactByAddress(db, 'kim@known.example')).toMatchObject({
      id: known.id,
      name: 'Known Kim',
      listId: vip.id,
    });
    expect((await findContactByAddress(db, 'lee@known.example'))?.listId).toBe(account.defaultListId);
  });

  it('saves the first 20 participants of a message and no more', async () => {
    const to = Array.from({ length: 15 }, (_, n) => `p${n}@many.example`).join(', ');
    const cc = Array.from({ length: 15 }, (_, n) => `p${15 + n}@many.example`).join(', ');
    stored(await ingestMessage(db, account, at(buildMessage({ from: 'x@sender.example', to, headers: { Cc: cc } }))));
    expect(await countAt('many.example')).toBe(20);
    expect(await findContactByAddress(db, 'p19@many.example')).toBeDefined();
    expect(await findContactByAddress(db, 'p20@many.example')).toBeUndefined();
  });

  it('saves nobody from automated or junk mail (the sender still gets a contact)', async () => {
    const automated: Array<Record<string, string>> = [
      { 'Auto-Submitted': 'auto-generated' },
      { Precedence: 'bulk' },
      { Precedence: 'list' },
      { Precedence: 'junk' },
      { 'List-Id': '<news.list.example>' },
    ];
    for (const [n, headers] of automated.entries()) {
      stored(
        await ingestMessage(
          db,
          account,
          at(buildMessage({ from: `robot${n}@robots.example`, to: `r${n}@robot-rcpt.example`, headers })),
        ),
      );
      expect(await findContactByAddress(db, `robot${n}@robots.example`)).toBeDefined();
    }
    stored(
      await ingestMessage(
        db,
        account,
        at(buildMessage({ to: 'j@robot-rcpt.example', from: 'spam@robots.example' }), true),
      ),
    );
    expect(await countAt('robot-rcpt.example')).toBe(0);
    // Auto-Submitted: no is a person's mail.
    stored(
      await ingestMessage(
        db,
        account,
        at(buildMessage({ to: 'human@people-no.example', headers: { 'Auto-Submitted': 'no' } })),
      ),
    );
    expect(await countAt('people-no.example')).toBe(1);
  });

  it('saves a participant met by several messages of one group commit once', async () => {
    const prepared = await Promise.all(
      [
        buildMessage({ from: 'g1@group.example', to: 'shared@group.example, only1@group.example' }),
        buildMessage({ from: 'g2@group.example', to: 'shared@group.example', headers: { Cc: 'g1@group.example' } }),
      ].map((raw) => prepareMessage(at(raw))),
    );
    const results = await ingestPrepared(db, account, prepared);
    expect(results.map((result) => result.outcome)).toEqual(['stored', 'stored']);
    expect(await countAt('group.example')).toBe(4);
    expect((await findContactByAddress(db, 'shared@group.example'))?.listId).toBe(account.defaultListId);
  });
});
