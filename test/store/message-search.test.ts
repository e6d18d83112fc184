/**
 * Full-text search of conversations on both engines: the documents written with each message
 * (inbound and outgoing), every part of the query syntax, statuses, scoping to accounts, deletes,
 * migration 0023's backfill of messages stored before it, and the two shapes of the search
 * condition (collecting the matching messages, or walking the conversations) agreeing.
 */
import { sql } from 'kysely';
import { beforeAll, expect, it, vi } from 'vitest';
import { parseSearchQuery } from '../../src/domain/search-query.js';
import {
  closeInteraction,
  createContact,
  createEmailAccount,
  createInteraction,
  createList,
  insertInboundMessage,
  insertOutgoingMessage,
  listInteractions,
  type Database,
  type InteractionRecord,
  type NewInboundMessage,
} from '../../src/store/index.js';
import { PAIRS_CUT, SEARCH_WORK_MEM, interactionSearchCondition, planSearch } from '../../src/store/message-search.js';
import { MIGRATIONS, migrateDown, migrateToLatest } from '../../src/store/migrations/index.js';
import { readWordStatistics } from '../../src/store/search-statistics.js';
import { forEachEngine } from '../helpers/store.js';

const LIMITS = { maxLength: 500, maxTerms: 32 };

forEachEngine((engine, openFresh) => {
  let db: Database;
  let support: number;
  let sales: number;
  let contactId: number;
  let serial = 0;

  async function conversation(accountId: number, subject: string): Promise<InteractionRecord> {
    return createInteraction(db, {
      accountId,
      contactId,
      subject,
      tokenCheck: 'FWZT',
      at: new Date(Date.UTC(2025, 0, 2)),
    });
  }

  async function inbound(interaction: InteractionRecord, fields: Partial<NewInboundMessage>): Promise<number> {
    serial += 1;
    const id = await insertInboundMessage(
      db,
      {
        accountId: interaction.accountId,
        interactionId: interaction.id,
        messageId: `<m${serial}.${engine}@example.org>`,
        inReplyTo: null,
        references: [],
        from: [{ name: 'Ada Lovelace', address: 'ada@example.org' }],
        to: [{ name: 'Support', address: 'support@contoso.com' }],
        cc: [],
        bcc: [],
        replyTo: [],
        subject: interaction.subject,
        text: null,
        html: null,
        headerDate: null,
        isAutoReply: false,
        isBounce: false,
        isList: false,
        isJunk: false,
        folder: 'INBOX',
        uidValidity: 1,
        uid: serial,
        rawSize: 10,
        receivedAt: new Date(Date.UTC(2025, 0, 2)),
        attachments: [],
        ...fields,
      },
      Buffer.from('raw'),
    );
    if (id === undefined) throw new Error('not stored');
    return id;
  }

  async function found(accountIds: number[], q: string, status?: 'open' | 'closed'): Promise<number[]> {
    const search = parseSearchQuery(q, LIMITS);
    if (search === undefined) throw new Error('empty query');
    const page = await listInteractions(db, { accountIds, search, ...(status === undefined ? {} : { status }) });
    return page.items.map((item) => item.id);
  }

  let invoice: InteractionRecord;
  let printer: InteractionRecord;
  let salesOnly: InteractionRecord;
  let replied: InteractionRecord;

  beforeAll(async () => {
    db = await openFresh();
    const list = await createList(db, { name: 'Customers' });
    const account = (key: string) =>
      createEmailAccount(db, { name: key, key, emailAddress: `${key}@contoso.com`, username: `${key}@contoso.com` });
    support = (await account('SUP')).id;
    sales = (await account('SAL')).id;
    contactId = (await createContact(db, { listId: list.id, name: 'Ada', addresses: ['ada@example.org'] })).id;

    invoice = await conversation(support, 'Invoice 4471 overdue');
    await inbound(invoice, {
      text: 'Hello, the naïve reconciliation of invoice 4471 failed. Kind regards',
      cc: [{ name: 'Grace Hopper', address: 'grace.hopper@navy.example' }],
      attachments: [
        {
          filename: 'statement-march.pdf',
          contentType: 'application/pdf',
          size: 3,
          contentId: null,
          inline: false,
          sha256: 'x',
        },
      ],
    });
    printer = await conversation(support, 'Printer jam');
    await inbound(printer, {
      from: [{ name: 'Charles Babbage', address: 'charles@engine.example' }],
      text: 'The printer on floor three jams on every page.',
    });
    await closeInteraction(db, printer.id);
    salesOnly = await conversation(sales, 'Quote request');
    await inbound(salesOnly, { text: 'Please quote for the zanzibar widgets.' });
    replied = await conversation(support, 'Delivery address');
    await insertOutgoingMessage(
      db,
      {
        accountId: support,
        interactionId: replied.id,
        messageId: `<out.${engine}@contoso.com>`,
        inReplyTo: null,
        references: [],
        from: { name: 'Support', address: 'support@contoso.com' },
        to: [{ name: 'Linus', address: 'linus@kernel.example' }],
        cc: [],
        bcc: [],
        replyTo: [],
        subject: `Delivery address [${replied.subjectToken ?? ''}]`,
        text: 'We ship to the warehouse in Rotterdam.',
        html: null,
        date: new Date(Date.UTC(2025, 0, 3)),
        authorUserId: null,
        isAutoReply: false,
        attachments: [
          {
            filename: 'label.png',
            contentType: 'image/png',
            size: 1,
            contentId: null,
            inline: false,
            sha256: 'y',
            content: Buffer.from('p'),
          },
        ],
      },
      Buffer.from('raw'),
    );
  });

  it('finds a conversation by a word of a body, regardless of case and accents', async () => {
    expect(await found([support, sales], 'RECONCILIATION')).toEqual([invoice.id]);
    expect(await found([support, sales], 'naive')).toEqual([invoice.id]);
    expect(await found([support, sales], 'rotterdam')).toEqual([replied.id]);
  });

  it('needs every word in one message, and matches the last word as a prefix', async () => {
    expect(await found([support], 'invoice failed')).toEqual([invoice.id]);
    expect(await found([support], 'invoice printer')).toEqual([]);
    expect(await found([support], 'reconcil')).toEqual([invoice.id]);
    expect(await found([support], 'reconcil failed')).toEqual([]);
  });

  it('finds a Cc address and name, and To with to:', async () => {
    expect(await found([support], 'grace.hopper@navy.example')).toEqual([invoice.id]);
    expect(await found([support], 'to:hopper')).toEqual([invoice.id]);
    expect(await found([support], 'to:linus@kernel.example')).toEqual([replied.id]);
    expect(await found([support], 'from:hopper')).toEqual([]);
  });

  it('finds a sender with from:, and a subject word with subject:', async () => {
    expect(await found([support], 'from:charles@engine.example')).toEqual([printer.id]);
    expect(await found([support], 'from:"Charles Babbage"')).toEqual([printer.id]);
    expect(await found([support], 'subject:jam')).toEqual([printer.id]);
    expect(await found([support], 'subject:floor')).toEqual([]);
    // With words of the document, and as a phrase of the subject (PostgreSQL: its own column).
    expect(await found([support], 'subject:jam floor')).toEqual([printer.id]);
    expect(await found([support], 'subject:jam reconciliation')).toEqual([]);
    expect(await found([support], 'subject:"printer jam"')).toEqual([printer.id]);
    expect(await found([support], 'subject:"jam printer"')).toEqual([]);
    expect(await found([support], 'from:charles subject:printer')).toEqual([printer.id]);
  });

  it('finds attachment names and has:attachment', async () => {
    expect(await found([support], 'statement-march.pdf')).toEqual([invoice.id]);
    expect(await found([support], 'label')).toEqual([replied.id]);
    expect((await found([support], 'has:attachment')).sort()).toEqual([invoice.id, replied.id].sort());
    expect(await found([support], 'has:attachment printer')).toEqual([]);
  });

  it('matches a quoted phrase only with its words in order', async () => {
    expect(await found([support], '"floor three jams"')).toEqual([printer.id]);
    expect(await found([support], '"three floor"')).toEqual([]);
    // Within one field, on both engines: the subject's last word and the sender's first are not a phrase.
    expect(await found([support], 'jam charles')).toEqual([printer.id]);
    expect(await found([support], '"jam charles"')).toEqual([]);
    expect(await found([support], '"charles babbage"')).toEqual([printer.id]);
    expect(await found([support], 'from:"charles babbage"')).toEqual([printer.id]);
    // A pair of words the phrase holds, but not in its order: the positions still decide.
    expect(await found([support], '"floor three floor"')).toEqual([]);
    // The last word bare is a prefix: it makes no pair of its own.
    expect(await found([support], 'every pag')).toEqual([printer.id]);
  });

  it('finds a conversation by its reference, in any of the forms users type', async () => {
    const token = printer.subjectToken ?? '';
    expect(token).toMatch(/^#P\d+-FWZT$/);
    expect(await found([support], token.slice(1).toLowerCase())).toEqual([printer.id]);
    expect(await found([support], `[${token}]`)).toEqual([printer.id]);
    expect(await found([sales], `[${token}]`)).toEqual([]);
  });

  it('searches open and closed conversations unless a status is given', async () => {
    expect(await found([support], 'printer')).toEqual([printer.id]);
    expect(await found([support], 'printer', 'open')).toEqual([]);
    expect(await found([support], 'printer', 'closed')).toEqual([printer.id]);
  });

  it("never finds another account's conversation", async () => {
    expect(await found([support], 'zanzibar')).toEqual([]);
    expect(await found([sales], 'zanzibar')).toEqual([salesOnly.id]);
    expect(await found([sales], 'reconciliation')).toEqual([]);
  });

  it('finds the same conversations whether it collects the matching messages or walks the conversations', async () => {
    const ids = async (q: string, shape: 'sparse' | 'dense'): Promise<number[]> => {
      const search = parseSearchQuery(q, LIMITS);
      if (search === undefined) throw new Error('empty query');
      const rows = await db.kysely
        .selectFrom('interactions')
        .select('id')
        .where('account_id', 'in', [support, sales])
        .where(interactionSearchCondition(engine, search, shape))
        .orderBy('id')
        .execute();
      return rows.map((row) => row.id);
    };
    const queries = [
      'reconciliation',
      'invoice failed',
      'reconcil',
      'grace.hopper@navy.example',
      'to:hopper',
      'from:"Charles Babbage"',
      'subject:jam',
      'subject:jam floor',
      'subject:"printer jam"',
      'subject:"jam printer"',
      'subject:invoice has:attachment',
      'statement-march.pdf',
      'has:attachment',
      'has:attachment printer',
      'has:attachment label',
      '"floor three jams"',
      '"three floor"',
      '"jam charles"',
      '"on every page" printer',
      'zanzibar',
      (printer.subjectToken ?? '').slice(1),
    ];
    for (const q of queries) {
      const sparse = await ids(q, 'sparse');
      expect(await ids(q, 'dense'), q).toEqual(sparse);
      expect(
        [...(await found([support, sales], q))].sort((a, b) => a - b),
        q,
      ).toEqual(sparse);
    }
    expect(await ids('has:attachment', 'dense')).toEqual([invoice.id, replied.id].sort((a, b) => a - b));
    // A handful of matching messages: collected first, on both engines.
    const few = parseSearchQuery('reconciliation', LIMITS);
    if (few === undefined) throw new Error('empty query');
    const plan = await planSearch(db.kysely, engine, few);
    expect(plan).toMatchObject({ shape: 'sparse', query: few });
    // PostgreSQL collects their conversations as it counts them; the page is then read by id.
    if (engine === 'postgres') expect(plan.interactionIds).toEqual([invoice.id]);
    // Of the matches collected in the whole store, PostgreSQL keeps the accounts' conversations.
    const everywhere = parseSearchQuery('ada', LIMITS);
    if (everywhere === undefined) throw new Error('empty query');
    const scoped = await planSearch(db.kysely, engine, everywhere, { accountIds: [sales] });
    expect(scoped.shape).toBe('sparse');
    if (engine === 'postgres') {
      expect(scoped.interactionIds).toEqual([salesOnly.id]);
      const all = await planSearch(db.kysely, engine, everywhere);
      expect([...(all.interactionIds ?? [])].sort((a, b) => a - b)).toEqual(
        [invoice.id, salesOnly.id].sort((a, b) => a - b),
      );
    }
    expect(await found([sales], 'ada')).toEqual([salesOnly.id]);
  });

  it('searches a common last word as typed and a rarer one as a prefix, the same on both engines', async () => {
    const typed = await conversation(sales, 'Quills');
    await inbound(typed, { text: 'a goose quill' });
    await inbound(typed, { text: 'another quill' });
    const longer = await conversation(sales, 'Swords');
    await inbound(longer, { text: 'the quillon of a sword' });
    // Thresholds of two messages stand for a million messages' fifteen thousand.
    const dense = { sqlite: 2, postgres: 2 };
    const asked = async (q: string) => {
      const search = parseSearchQuery(q, LIMITS);
      if (search === undefined) throw new Error('empty query');
      const plan = await planSearch(db.kysely, engine, search, { dense });
      const rows = await db.kysely
        .selectFrom('interactions')
        .select('id')
        .where('account_id', '=', sales)
        .where(interactionSearchCondition(engine, plan.query, plan.shape, plan.interactionIds))
        .orderBy('id')
        .execute();
      return { shape: plan.shape, prefix: plan.query.terms.some((t) => t.prefix), ids: rows.map((row) => row.id) };
    };
    // In two messages: typed in full, so no longer a prefix (`quillon` is not found), and walked.
    expect(await asked('quill')).toEqual({ shape: 'dense', prefix: false, ids: [typed.id] });
    expect(await asked('goose quill')).toEqual({ shape: 'sparse', prefix: true, ids: [typed.id] });
    // `quil` is in no message as a word: still a prefix, never walked on SQLite (PostgreSQL's GIN
    // index answers a prefix as cheaply as a word, so its three messages are walked there).
    expect(await asked('quil')).toEqual({
      shape: engine === 'sqlite' ? 'sparse' : 'dense',
      prefix: true,
      ids: [typed.id, longer.id],
    });
    expect(await asked('quillon')).toEqual({ shape: 'sparse', prefix: true, ids: [longer.id] });
    // Quoted, a word is never a prefix.
    expect(await asked('"quil"')).toEqual({ shape: 'sparse', prefix: false, ids: [] });
    // Subject words alone: PostgreSQL collects SUBJECT_HITS_FACTOR times more of them before
    // walking; SQLite counts the conversation's one subject, not its two messages.
    expect(await asked('subject:"quills"')).toEqual({ shape: 'sparse', prefix: false, ids: [typed.id] });
    // Bare, in two messages' subjects: as typed on both engines, though PostgreSQL would collect
    // that few subject matches.
    expect(await asked('subject:quills')).toMatchObject({ prefix: false, ids: [typed.id] });
  });

  it('answers subject words alone from each conversation’s subjects, once per subject', async () => {
    const lantern = await conversation(sales, 'Lantern repair');
    const first = await inbound(lantern, {});
    const replies = [
      await inbound(lantern, { subject: 'RE: Lantern repair' }),
      await inbound(lantern, { subject: 'Re: lantern  REPAIR' }),
    ];
    const other = await conversation(sales, 'Lantern sale');
    await inbound(other, {});
    const asked = async (q: string, threshold: number) => {
      const search = parseSearchQuery(q, LIMITS);
      if (search === undefined) throw new Error('empty query');
      const plan = await planSearch(db.kysely, engine, search, { dense: { sqlite: threshold, postgres: threshold } });
      const rows = await db.kysely
        .selectFrom('interactions')
        .select('id')
        .where('account_id', '=', sales)
        .where(interactionSearchCondition(engine, plan.query, plan.shape, plan.interactionIds))
        .orderBy('id')
        .execute();
      return { shape: plan.shape, ids: rows.map((row) => row.id) };
    };
    if (engine === 'sqlite') {
      const { rows } = await sql<{
        subject: string;
      }>`select subject from interaction_subjects where interaction_id = ${lantern.id} order by subject`.execute(
        db.kysely,
      );
      // Three messages, two subjects as the search document writes them.
      expect(rows.map((row) => row.subject)).toEqual(['lantern repair', 're lantern repair']);
      // Three rows match `lantern` (two conversations): walked from three, collected below.
      expect(await asked('subject:lantern', 3)).toEqual({ shape: 'dense', ids: [lantern.id, other.id] });
      expect(await asked('subject:lantern', 4)).toEqual({ shape: 'sparse', ids: [lantern.id, other.id] });
    }
    for (const threshold of [1, 100]) {
      expect((await asked('subject:"re lantern"', threshold)).ids).toEqual([lantern.id]);
      expect((await asked('subject:"lantern re"', threshold)).ids).toEqual([]);
      expect((await asked('subject:lantern subject:repair', threshold)).ids).toEqual([lantern.id]);
      expect((await asked('subject:sal', threshold)).ids).toEqual([other.id]);
      expect((await asked('subject:repair subject:sale', threshold)).ids).toEqual([]);
    }
    // A subject goes with the last message that has it; the conversation is found while one does.
    const drop = async (id: number) => {
      await db.kysely.deleteFrom('message_raw').where('message_id', '=', id).execute();
      await db.kysely.deleteFrom('messages').where('id', '=', id).execute();
    };
    await drop(replies[0] ?? 0);
    expect((await asked('subject:"re lantern"', 100)).ids).toEqual([lantern.id]);
    await drop(replies[1] ?? 0);
    expect((await asked('subject:"re lantern"', 100)).ids).toEqual([]);
    expect((await asked('subject:"re lantern"', 1)).ids).toEqual([]);
    expect((await asked('subject:repair', 100)).ids).toEqual([lantern.id]);
    await drop(first);
    expect((await asked('subject:repair', 100)).ids).toEqual([]);
    if (engine === 'sqlite') {
      const { rows } = await sql<{
        n: number;
      }>`select (select count(*) from interaction_subjects where interaction_id = ${lantern.id}) + (select count(*) from interaction_subject_search where interaction_subject_search match 'repair') as n`.execute(
        db.kysely,
      );
      expect(Number(rows[0]?.n)).toBe(0);
    }
  });

  it.runIf(engine === 'postgres')(
    'asks a search’s statements in a transaction of their own with the search’s work_mem, and leaves the pool’s connections at the default',
    async () => {
      const during: string[] = [];
      const transaction = db.transaction.bind(db);
      const spy = vi.spyOn(db, 'transaction').mockImplementation((fn, options) =>
        transaction(async (tx) => {
          const result = await fn(tx);
          const { rows } = await sql<{ work_mem: string }>`show work_mem`.execute(tx.kysely);
          during.push(rows[0]?.work_mem ?? '');
          return result;
        }, options),
      );
      try {
        expect(await found([support], 'invoice')).toEqual([invoice.id]);
        // Without a search, the list is one statement, asked outside any transaction.
        await listInteractions(db, { accountIds: [support] });
      } finally {
        spy.mockRestore();
      }
      expect(during).toEqual([SEARCH_WORK_MEM]);
      const { rows } = await sql<{ work_mem: string }>`show work_mem`.execute(db.kysely);
      expect(rows[0]?.work_mem).not.toBe(SEARCH_WORK_MEM);
    },
  );

  it.runIf(engine === 'postgres')('walks a word its statistics know as common without counting it', async () => {
    const umbrellas = await conversation(sales, 'Umbrellas');
    for (let i = 0; i < 30; i += 1) await inbound(umbrellas, { text: `umbrella stand ${i === 7 ? 'seventh' : ''}` });
    await sql`analyze message_search`.execute(db.kysely);
    const words = await readWordStatistics(db.kysely);
    expect(words.documents).toBeGreaterThanOrEqual(30);
    expect(words.shares.get('umbrella')).toBeGreaterThan(0.3);
    const dense = { sqlite: 1_000, postgres: 5 };
    const rows = async (q: string, shape: 'sparse' | 'dense') => {
      const search = parseSearchQuery(q, LIMITS);
      if (search === undefined) throw new Error('empty query');
      const found = await db.kysely
        .selectFrom('interactions')
        .select('id')
        .where('account_id', '=', sales)
        .where(interactionSearchCondition(engine, search, shape))
        .orderBy('id')
        .execute();
      return found.map((row) => row.id);
    };
    const plan = async (q: string) => {
      const search = parseSearchQuery(q, LIMITS);
      if (search === undefined) throw new Error('empty query');
      return planSearch(db.kysely, engine, search, { dense, words });
    };
    // Thirty documents of the umbrellas, three times the threshold of five over: walked, uncounted.
    for (const q of ['umbrella', '"umbrella"', 'umbrella stand']) {
      expect(await plan(q), q).toMatchObject({ shape: 'dense', estimated: true });
      expect(await rows(q, 'dense'), q).toEqual(await rows(q, 'sparse'));
      expect(await rows(q, 'dense'), q).toEqual([umbrellas.id]);
    }
    // In one document, a phrase (the statistics know no order), a field filter: counted.
    expect(await plan('seventh')).toMatchObject({ shape: 'sparse', interactionIds: [umbrellas.id] });
    expect((await plan('"umbrella stand"')).estimated).toBeUndefined();
    expect((await plan('to:umbrella')).estimated).toBeUndefined();
    // Without statistics (never analysed, or a word below them), the same query is counted.
    const none = { documents: 0, shares: new Map<string, number>() };
    const search = parseSearchQuery('umbrella', LIMITS);
    if (search === undefined) throw new Error('empty query');
    const counted = await planSearch(db.kysely, engine, search, { dense, words: none });
    expect(counted.shape).toBe('dense');
    expect(counted.estimated).toBeUndefined();
  });

  it.runIf(engine === 'postgres')(
    'PostgreSQL reads the collected matches’ accounts and conversations from an index, not the messages (0039)',
    async () => {
      // The visibility map set, as autovacuum keeps it: an index-only scan needs it.
      await sql`vacuum analyze messages`.execute(db.kysely);
      const plan = await db.transaction(async (tx) => {
        // A handful of rows would be read whole; the plan for a million is asked for.
        await sql`set local enable_seqscan = off`.execute(tx.kysely);
        await sql`set local enable_bitmapscan = off`.execute(tx.kysely);
        const { rows } = await sql<{
          'QUERY PLAN': string;
        }>`explain select m.interaction_id, m.account_id, m.has_attachments from (select s.message_id from message_search s limit 100) hits join messages m on m.id = hits.message_id`.execute(
          tx.kysely,
        );
        return rows.map((row) => row['QUERY PLAN']).join('\n');
      });
      expect(plan).toContain('Index Only Scan using messages_id_conversation_idx on messages m');
    },
  );

  it('stores a message whose body has more distinct words than an index row can hold', async () => {
    // PostgreSQL refuses a tsvector over 1 MB: the document's caps keep every message storable.
    const words = Array.from({ length: 120_000 }, (_, i) => `w${i.toString(36)}`);
    const huge = await conversation(support, 'Huge');
    await inbound(huge, { text: words.join(' '), attachments: [] });
    expect(await found([support], words[0] ?? '')).toEqual([huge.id]);
    expect(await found([support], `"${words[1] ?? ''} ${words[2] ?? ''}"`)).toEqual([huge.id]);
    expect(await found([support], `"${words[2] ?? ''} ${words[1] ?? ''}"`)).toEqual([]);
    if (engine === 'postgres') {
      // Its pairs would not fit a row: it is marked, and its phrases are checked by position alone.
      const { rows } = await sql<{
        pairs: string;
      }>`select p.pairs::text as pairs from message_phrases p join messages m on m.id = p.message_id where m.interaction_id = ${huge.id}`.execute(
        db.kysely,
      );
      expect(rows).toEqual([{ pairs: `'${PAIRS_CUT}'` }]);
    }
  });

  it('keeps the index in step when a message is deleted', async () => {
    const doomed = await conversation(support, 'Ephemeral');
    const id = await inbound(doomed, { text: 'xylophone' });
    expect(await found([support], 'xylophone')).toEqual([doomed.id]);
    expect(await found([support], 'subject:ephemeral')).toEqual([doomed.id]);
    await db.kysely.deleteFrom('attachments').where('message_id', '=', id).execute();
    await db.kysely.deleteFrom('message_raw').where('message_id', '=', id).execute();
    await db.kysely.deleteFrom('messages').where('id', '=', id).execute();
    expect(await found([support], 'xylophone')).toEqual([]);
    const left =
      engine === 'sqlite'
        ? await sql<{
            n: number;
          }>`select count(*) as n from message_search where message_search match 'xylophone'`.execute(db.kysely)
        : await sql<{
            n: number;
          }>`select (select count(*) from message_search where message_id = ${id}) + (select count(*) from message_subjects where message_id = ${id}) as n`.execute(
            db.kysely,
          );
    expect(Number(left.rows[0]?.n)).toBe(0);
    expect(await found([support], 'subject:ephemeral')).toEqual([]);
  });

  it('indexes the messages stored before migration 0023 when it runs', async () => {
    const pairs = async (): Promise<{ message_id: number; pairs: string }[]> =>
      engine === 'sqlite'
        ? []
        : (
            await sql<{
              message_id: number;
              pairs: string;
            }>`select message_id, pairs::text as pairs from message_phrases order by message_id`.execute(db.kysely)
          ).rows;
    // PostgreSQL: the pairs written with each message (phrasePairs), to compare with migration 0038's.
    const written = await pairs();
    const before = MIGRATIONS[MIGRATIONS.findIndex((m) => m.name === '0023-message-search') - 1];
    await migrateDown(db, before?.name);
    // Stored while no index exists: written straight into the tables, as an older version did.
    const old = await conversation(support, 'Legacy');
    const row = await db.kysely
      .insertInto('messages')
      .values({
        account_id: support,
        interaction_id: old.id,
        direction: 'in',
        from_json: JSON.stringify([{ name: 'Old Timer', address: 'old@legacy.example' }]),
        cc_json: JSON.stringify([{ name: 'Copy', address: 'copy@legacy.example' }]),
        subject: 'Legacy',
        text_body: 'quixotic archaeology',
        received_at: '2024-01-01T00:00:00.000Z',
        created_at: '2024-01-01T00:00:00.000Z',
        updated_at: '2024-01-01T00:00:00.000Z',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.kysely
      .insertInto('attachments')
      .values({ message_id: row.id, filename: 'ledger.xlsx', content_type: 'x/y', size: 1, content: Buffer.from('z') })
      .execute();
    await migrateToLatest(db);
    expect(await found([support], 'quixotic')).toEqual([old.id]);
    expect(await found([support], 'to:copy@legacy.example')).toEqual([old.id]);
    expect(await found([support], 'ledger.xlsx')).toEqual([old.id]);
    expect(await found([support], 'from:"old timer"')).toEqual([old.id]);
    expect(await found([support], 'subject:legacy')).toEqual([old.id]);
    expect(await found([support], '"quixotic archaeology"')).toEqual([old.id]);
    expect(await found([support], '"archaeology quixotic"')).toEqual([]);
    // And the messages stored after it, indexed when written, are indexed again, once.
    expect(await found([support, sales], 'reconciliation')).toEqual([invoice.id]);
    expect(await found([support, sales], '"floor three jams"')).toEqual([printer.id]);
    if (engine === 'postgres') {
      // Migration 0038 reads from each document the pairs that writing the message gives it (the
      // huge body's cut included), and the old message's from its document too.
      const migrated = await pairs();
      expect(migrated.filter((row) => written.some((w) => w.message_id === row.message_id))).toEqual(written);
      expect(migrated.length).toBe(written.length + 1);
      expect(written.length).toBeGreaterThan(5);
    }
  });
});
