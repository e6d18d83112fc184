/**
 * Fills a fresh Postern store with a helpdesk's worth of mail (issue 19 point 3): by default
 * 1,000,000 messages in 100,000 conversations of 10 accounts, 200,000 contacts. The store is opened
 * and migrated by Postern itself (the caller's runtime); the rows are then written directly, with
 * multi-row INSERTs in large transactions, in the shape ingest gives them:
 *
 * - messages in time order across all conversations (ids grow with time, as ingest assigns them),
 *   inbound from the contact and outbound from the account by an agent, alternating; subjects and
 *   text bodies of 200–2,000 characters from a Zipf vocabulary (helpers/million-text.ts), To and
 *   sometimes Cc; about one in ten with one to three attachment rows (file names, sizes);
 * - each message's search document built by `buildSearchDocument` and written by
 *   `insertSearchDocuments`, the functions ingest uses;
 * - conversations open (about 35 %) or closed, 60 % assigned to one of the users, 5 % of the open
 *   ones snoozed, with their counts, last activity and subject token as ingest keeps them.
 *
 * Not written: the raw MIME (`message_raw`, optional per message) and the attachments' bytes —
 * every message is stored as the retention sweep leaves it (`original_removed_at` set, attachment
 * bytes `removed_at`), so the storage figure is the conversation text, its indexes and the search
 * index, not the originals. No HTML bodies.
 *
 * Deterministic: one seed (BENCH_SEED) gives the same store on both engines.
 */
import { sql } from 'kysely';
import { buildSearchDocument, type SearchAddress } from '../src/domain/search-query.js';
import { formatSubjectToken } from '../src/domain/subject.js';
import type { Database } from '../src/store/database.js';
import { insertSearchDocuments, type IndexedMessage } from '../src/store/message-search.js';
import type { NewRow } from '../src/store/schema.js';
import { toDbTime } from '../src/store/time.js';
import { Random, Vocabulary, attachmentFile, personAt, type GeneratedPerson } from './helpers/million-text.js';

/** Sizes and seed of a generated store. */
export interface MillionOptions {
  readonly messages: number;
  readonly conversations: number;
  readonly contacts: number;
  readonly accounts: number;
  readonly seed: number;
  /** The users conversations are assigned to (ids). */
  readonly assignees: readonly number[];
  /** "Now": the newest message is a little before it; snoozes end after it. */
  readonly now: Date;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** Searchable facts of one generated message. */
export interface MessageSample {
  readonly accountId: number;
  /** The contact's name, and the word of its address unique to it (`lovelace17`). */
  readonly senderName: string;
  readonly senderWord: string;
  /** A word of the subject. */
  readonly subjectWord: string;
  /** Its rare word, if it has one. */
  readonly rare: string | null;
  /** One of its attachments' file names, if it has any. */
  readonly attachmentName: string | null;
}

/** What the benchmark needs to know about the store it queries. */
export interface GeneratedStore {
  readonly accountIds: readonly number[];
  readonly vocabulary: Vocabulary;
  /** Subject tokens of some conversations (`#P12-7KQX`). */
  readonly tokens: readonly string[];
  /** What some messages (about one in a hundred) hold, to search for it in their account. */
  readonly samples: readonly MessageSample[];
  /** Timings of the phases, ms. */
  readonly timings: Readonly<Record<string, number>>;
}

const DAY_MS = 86_400_000;
const SPAN_DAYS = 365;
const CONTACT_BATCH = 2_000;
const CONVERSATION_BATCH = 2_000;
const MESSAGE_BATCH = 400;
const TRANSACTION_MESSAGES = 20_000;
const CHECK_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Fills `db` (fresh, migrated). */
export async function generateMillion(db: Database, options: MillionOptions): Promise<GeneratedStore> {
  const log = options.log ?? (() => undefined);
  const timings: Record<string, number> = {};
  const random = new Random(options.seed);
  const vocabulary = new Vocabulary(options.seed + 1);
  const nowIso = toDbTime(options.now);
  const started = performance.now();
  const lap = (name: string, since: number): number => {
    timings[name] = Math.round(performance.now() - since);
    log(`${name}: ${timings[name]} ms`);
    return performance.now();
  };

  // Accounts and the list contacts are filed in.
  const accountIds: number[] = [];
  for (let i = 1; i <= options.accounts; i += 1) {
    const row = await db.kysely
      .insertInto('email_accounts')
      .values({
        name: `Support ${i}`,
        key: `support${i}`,
        email_address: `support${i}@helpdesk.example`,
        service: 'imap',
        username: `support${i}@helpdesk.example`,
        transport: 'imap_smtp',
        imap_host: '127.0.0.1',
        imap_port: 993,
        smtp_host: '127.0.0.1',
        smtp_port: 587,
        active: 0,
        status: 'disabled',
        created_at: nowIso,
        updated_at: nowIso,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    accountIds.push(row.id);
  }
  const list = await db.kysely
    .insertInto('lists')
    .values({ name: 'Customers', created_at: nowIso, updated_at: nowIso })
    .returning('id')
    .executeTakeFirstOrThrow();
  const firstContact = await nextId(db, 'contacts');

  // Contacts: one address each, one in ten a second one.
  let t = performance.now();
  await db.transaction(async (tx) => {
    let addressId = await nextId(tx, 'contact_addresses');
    for (let from = 0; from < options.contacts; from += CONTACT_BATCH) {
      const to = Math.min(options.contacts, from + CONTACT_BATCH);
      const contacts: Array<NewRow<'contacts'>> = [];
      const addresses: Array<NewRow<'contact_addresses'>> = [];
      for (let i = from; i < to; i += 1) {
        const person = personAt(i);
        const id = firstContact + i;
        contacts.push({ id, list_id: list.id, name: person.name, created_at: nowIso, updated_at: nowIso });
        addresses.push({ id: addressId++, contact_id: id, address: person.address, position: 0, created_at: nowIso });
        if (i % 10 === 3) {
          addresses.push({
            id: addressId++,
            contact_id: id,
            address: `${person.first}${i}@private.example`,
            position: 1,
            created_at: nowIso,
          });
        }
      }
      await tx.kysely.insertInto('contacts').values(contacts).execute();
      await tx.kysely.insertInto('contact_addresses').values(addresses).execute();
    }
  });
  t = lap('contacts', t);

  // The conversations' shapes: start, message count, contact; then every message's time.
  const conversations = options.conversations;
  const counts = new Uint16Array(conversations);
  let total = 0;
  for (let c = 0; c < conversations; c += 1) {
    const count = Math.min(60, 1 + Math.floor(-Math.log(1 - random.next()) * (options.messages / conversations - 1)));
    counts[c] = count;
    total += count;
  }
  while (total !== options.messages) {
    const c = random.int(conversations);
    const count = counts[c] ?? 1;
    if (total < options.messages && count < 60) {
      counts[c] = count + 1;
      total += 1;
    } else if (total > options.messages && count > 1) {
      counts[c] = count - 1;
      total -= 1;
    }
  }
  const end = options.now.getTime() - 60_000;
  const begin = end - SPAN_DAYS * DAY_MS;
  const starts = new Float64Array(conversations);
  for (let c = 0; c < conversations; c += 1) starts[c] = begin + random.next() * (SPAN_DAYS - 20) * DAY_MS;
  starts.sort();
  const messageTimes = new Float64Array(options.messages);
  const messageConversation = new Int32Array(options.messages);
  const lastActivity = new Float64Array(conversations);
  {
    let m = 0;
    for (let c = 0; c < conversations; c += 1) {
      let at = starts[c] ?? begin;
      for (let k = 0; k < (counts[c] ?? 1); k += 1) {
        if (k > 0) at += Math.min(-Math.log(1 - random.next()) * 6 * 3_600_000, 10 * DAY_MS);
        at = Math.min(at, end);
        messageTimes[m] = at;
        messageConversation[m] = c;
        m += 1;
      }
      lastActivity[c] = at;
    }
  }
  // Messages in time order (ingest numbers them as they arrive).
  const order = new Int32Array(options.messages);
  for (let m = 0; m < options.messages; m += 1) order[m] = m;
  order.sort((a, b) => (messageTimes[a] ?? 0) - (messageTimes[b] ?? 0));
  t = lap('plan', t);

  // Conversations.
  const firstConversation = await nextId(db, 'interactions');
  const contactOf = new Int32Array(conversations);
  const accountOf = new Int32Array(conversations);
  const subjects: string[] = [];
  const tokens: string[] = [];
  const open = new Uint8Array(conversations);
  const lastInbound = new Uint8Array(conversations);
  await db.transaction(async (tx) => {
    for (let from = 0; from < conversations; from += CONVERSATION_BATCH) {
      const rows: Array<NewRow<'interactions'>> = [];
      for (let c = from; c < Math.min(conversations, from + CONVERSATION_BATCH); c += 1) {
        const id = firstConversation + c;
        const contact = random.int(options.contacts);
        const account = accountIds[c % accountIds.length] ?? 1;
        contactOf[c] = contact;
        accountOf[c] = account;
        const subject = vocabulary.subject(random);
        subjects.push(subject);
        const check = Array.from({ length: 4 }, () => CHECK_ALPHABET[random.int(32)] ?? '0').join('');
        const token = formatSubjectToken(id, check);
        if (c % 97 === 0) tokens.push(token);
        const count = counts[c] ?? 1;
        // The last message is inbound when the count is odd (the contact writes first).
        lastInbound[c] = count % 2 === 1 ? 1 : 0;
        const last = lastActivity[c] ?? end;
        const isOpen = random.chance(0.35) || end - last < 3 * DAY_MS;
        open[c] = isOpen ? 1 : 0;
        const assigned = random.chance(0.6) ? (options.assignees[random.int(options.assignees.length)] ?? null) : null;
        rows.push({
          id,
          account_id: account,
          contact_id: firstContact + contact,
          subject,
          subject_token: token,
          status: isOpen ? 'open' : 'closed',
          assigned_user_id: assigned,
          last_activity_at: toDbTime(new Date(last)),
          message_count: count,
          unread_count: isOpen && lastInbound[c] === 1 ? 1 : 0,
          closed_at: isOpen ? null : toDbTime(new Date(last + 3_600_000)),
          snoozed_until:
            isOpen && random.chance(0.05)
              ? toDbTime(new Date(options.now.getTime() + (1 + random.int(7)) * DAY_MS))
              : null,
          created_at: toDbTime(new Date(starts[c] ?? begin)),
          updated_at: toDbTime(new Date(last)),
        });
      }
      await tx.kysely.insertInto('interactions').values(rows).execute();
    }
  });
  t = lap('conversations', t);

  // Messages, attachments and search documents, in time order. On PostgreSQL the GIN indexes are
  // built once the documents are in (as migrations 0023, 0036 and 0038 do), faster than growing them row by row.
  if (db.engine === 'postgres') {
    await sql`drop index message_search_document_idx`.execute(db.kysely);
    await sql`drop index message_subjects_subject_idx`.execute(db.kysely);
    await sql`drop index message_phrases_pairs_idx`.execute(db.kysely);
  }
  const firstMessage = await nextId(db, 'messages');
  const seen = new Int32Array(conversations);
  const uids = new Map<number, number>();
  const samples: MessageSample[] = [];
  let attachmentId = await nextId(db, 'attachments');
  let generateMs = 0;
  for (let from = 0; from < options.messages; from += TRANSACTION_MESSAGES) {
    await db.transaction(async (tx) => {
      for (let batch = from; batch < Math.min(options.messages, from + TRANSACTION_MESSAGES); batch += MESSAGE_BATCH) {
        const g = performance.now();
        const rows: Array<NewRow<'messages'>> = [];
        const files: Array<NewRow<'attachments'>> = [];
        const documents: IndexedMessage[] = [];
        for (
          let k = batch;
          k < Math.min(options.messages, batch + MESSAGE_BATCH, from + TRANSACTION_MESSAGES);
          k += 1
        ) {
          const m = order[k] ?? 0;
          const c = messageConversation[m] ?? 0;
          const id = firstMessage + k;
          const position = seen[c] ?? 0;
          seen[c] = position + 1;
          const account = accountOf[c] ?? 1;
          const accountIndex = accountIds.indexOf(account) + 1;
          const contactIndex = contactOf[c] ?? 0;
          const person = personAt(contactIndex);
          const desk = { name: `Support ${accountIndex}`, address: `support${accountIndex}@helpdesk.example` };
          const inbound = position % 2 === 0;
          const sender = inbound ? [addressOf(person)] : [desk];
          const to = inbound ? [desk] : [addressOf(person)];
          const cc = random.chance(0.2) ? [addressOf(personAt(random.int(options.contacts)))] : [];
          const baseSubject = subjects[c] ?? '';
          const subject = position === 0 ? baseSubject : `Re: ${baseSubject}`;
          const length = 200 + Math.floor(1800 * random.next() ** 2);
          const { text, rare } = vocabulary.body(
            random,
            length,
            inbound ? 'support team' : person.first,
            inbound ? person.name : `${desk.name} team`,
          );
          const attachments = random.chance(0.1)
            ? Array.from({ length: 1 + random.int(3) }, () => attachmentFile(random))
            : [];
          const at = toDbTime(new Date(messageTimes[m] ?? end));
          const messageId = `<m${id}.${options.seed}@${inbound ? 'mail.example' : 'helpdesk.example'}>`;
          const uid = inbound ? (uids.get(account) ?? 0) + 1 : null;
          if (uid !== null) uids.set(account, uid);
          const unread = open[c] === 1 && inbound && position === (counts[c] ?? 1) - 1;
          rows.push({
            id,
            account_id: account,
            interaction_id: firstConversation + c,
            direction: inbound ? 'in' : 'out',
            message_id: messageId,
            in_reply_to: position === 0 ? null : `<previous-${c}-${position - 1}@bench.example>`,
            references_json: position === 0 ? '[]' : JSON.stringify([`<previous-${c}-0@bench.example>`]),
            from_json: JSON.stringify(sender),
            to_json: JSON.stringify(to),
            cc_json: JSON.stringify(cc),
            subject,
            text_body: text,
            html_body: null,
            header_date: at,
            is_read: unread ? 0 : 1,
            has_attachments: attachments.length > 0 ? 1 : 0,
            folder: inbound ? 'INBOX' : null,
            uidvalidity: inbound ? 1 : null,
            uid,
            raw_size: text.length + 1_200 + attachments.length * 60_000,
            author_user_id: inbound ? null : (options.assignees[c % options.assignees.length] ?? null),
            delivery_state: inbound ? null : 'sent',
            delivered_at: inbound ? null : at,
            received_at: at,
            created_at: at,
            updated_at: at,
            original_removed_at: nowIso,
          });
          for (const file of attachments) {
            files.push({
              id: attachmentId++,
              message_id: id,
              filename: file.filename,
              content_type: file.contentType,
              size: 20_000 + random.int(200_000),
              content: Buffer.alloc(0),
              removed_at: nowIso,
            });
          }
          if (k % 97 === 0 || (rare !== null && k % 7 === 0) || (attachments.length > 0 && k % 13 === 0)) {
            // The conversation's contact: the sender of its first message at least.
            const senderWord = (person.address.split('@')[0] ?? '').split('.')[1] ?? '';
            const subjectWords = baseSubject.toLowerCase().split(' ');
            samples.push({
              accountId: account,
              senderName: person.name,
              senderWord,
              subjectWord: subjectWords[random.int(subjectWords.length)] ?? 'the',
              rare,
              attachmentName: attachments[0]?.filename ?? null,
            });
          }
          documents.push({
            messageId: id,
            interactionId: firstConversation + c,
            document: buildSearchDocument({
              subject,
              text,
              from: sender,
              to,
              cc,
              attachmentNames: attachments.map((file) => file.filename),
            }),
          });
        }
        generateMs += performance.now() - g;
        await tx.kysely.insertInto('messages').values(rows).execute();
        if (files.length > 0) await tx.kysely.insertInto('attachments').values(files).execute();
        await insertSearchDocuments(tx.kysely, tx.engine, documents);
      }
    });
    if ((from / TRANSACTION_MESSAGES) % 10 === 9) {
      log(`${from + TRANSACTION_MESSAGES} messages, ${Math.round(performance.now() - t)} ms`);
    }
  }
  timings['messagesGenerateJs'] = Math.round(generateMs);
  t = lap('messages', t);

  if (db.engine === 'postgres') {
    // Identity columns continue after the ids written here.
    for (const table of ['contacts', 'contact_addresses', 'interactions', 'messages', 'attachments']) {
      await sql`select setval(pg_get_serial_sequence(${table}, 'id'), (select max(id) from ${sql.table(table)}))`.execute(
        db.kysely,
      );
    }
    await db.transaction(async (tx) => {
      await sql`set local maintenance_work_mem = '512MB'`.execute(tx.kysely);
      await sql`create index message_search_document_idx on message_search using gin (document)`.execute(tx.kysely);
      await sql`create index message_subjects_subject_idx on message_subjects using gin (subject)`.execute(tx.kysely);
      await sql`create index message_phrases_pairs_idx on message_phrases using gin (pairs)`.execute(tx.kysely);
    });
    t = lap('searchIndex', t);
    // What autovacuum would do on its own a minute later.
    await sql`vacuum analyze`.execute(db.kysely);
    lap('vacuumAnalyze', t);
  }
  timings['total'] = Math.round(performance.now() - started);
  return { accountIds, vocabulary, tokens, samples, timings };
}

function addressOf(person: GeneratedPerson): SearchAddress {
  return { name: person.name, address: person.address };
}

async function nextId(
  db: Database,
  table: 'contacts' | 'contact_addresses' | 'interactions' | 'messages' | 'attachments',
): Promise<number> {
  const row = await db.kysely
    .selectFrom(table)
    .select((eb) => eb.fn.max('id').as('max'))
    .executeTakeFirst();
  return Number(row?.max ?? 0) + 1;
}
