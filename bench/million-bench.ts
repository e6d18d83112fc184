/**
 * A million messages (`npm run bench:million`, `npm run bench:million:postgres`), issue 19 point 3:
 * the store filled by bench/million-generate.ts (1,000,000 messages in 100,000 conversations of 10
 * accounts, 200,000 contacts), then Postern's HTTP API, in this process (`app.inject` with an
 * administrator's bearer token, the web role as the composition root builds it), timed request by
 * request:
 *
 * - queues: an account's open unassigned conversations (snoozed left out, as the console's Open
 *   view asks), the open ones assigned to the caller, their second pages (cursor), and all
 *   conversations of the account;
 * - a conversation opened (`GET /api/interactions/:id`, every message with its text);
 * - a contact (`GET /api/contacts/:id`) and the contact search by a full address (`GET /api/contacts?q=`);
 * - full-text search (`q`): a common word (bare, so also a prefix, and quoted), a word of middle
 *   frequency, a rare word, two words, a "phrase", `from:`,
 *   `subject:`, `has:attachment`, `has:attachment` with an attachment's file name, a reference.
 *
 * Each kind BENCH_REQUESTS (300) times, one request at a time, its arguments drawn by a seeded PRNG,
 * after BENCH_WARMUP (10) requests of the kind that are not counted; a kind stops early (after at
 * least 30) once it has run BENCH_KIND_SECONDS (60), and says how many it timed. Then the storage: the database's
 * bytes per message (SQLite: the file after a WAL checkpoint, plus what is left of the WAL;
 * PostgreSQL: `pg_database_size`) and how much of it is the search index.
 *
 * Environment: BENCH_MESSAGES (1,000,000; conversations a tenth, contacts a fifth of it),
 * BENCH_REQUESTS (300), BENCH_WARMUP (10), BENCH_KIND_SECONDS (60), BENCH_SEED (19), BENCH_DATABASE_URL (an admin URL of a
 * PostgreSQL server that may CREATE DATABASE, or `embedded`; default the embedded SQLite),
 * BENCH_KINDS (comma-separated probe names, e.g. `searchPhrase,contactByAddress`; default all),
 * BENCH_SLOWEST (0: how many of each kind's slowest requests to print, with their paths),
 * BENCH_PG_SHARED_BUFFERS (the embedded server's `shared_buffers`, e.g. `6GB`; default PostgreSQL's
 * 128 MB), BENCH_PG_PREWARM (`1`: the search's tables and indexes loaded into shared buffers first,
 * with pg_prewarm), BENCH_STORE_DIR (unset: a fresh store, removed at the end). With BENCH_STORE_DIR the store is kept
 * in `<dir>/<engine>-<messages>-<seed>/` (Postern's data directory, the embedded PostgreSQL cluster
 * or, on an external server, the database `postern_million_<messages>_<seed>`) with what the
 * requests need to know about it (`store.json`); a later run with the same settings opens it —
 * Postern migrates it on open, so a new migration applies to it — and goes straight to the requests.
 * Delete the directory (and drop the external database) when done: a million messages take GBs.
 * Figures are recorded in docs/PERFORMANCE.md; this is never run as a timed test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { startEmbeddedPostgres, type RunningPostgres } from '../test/helpers/embedded-postgres.js';
import { describeMachine, now, printFigures, quantile } from './helpers/figures.js';
import { findUserByUsername } from '../src/store/users.js';
import { Random, Vocabulary, personAt } from './helpers/million-text.js';
import { openPosternRuntime } from './helpers/postern-side.js';
import { generateMillion, type GeneratedStore, type MessageSample } from './million-generate.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? '1000000');
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? '300');
const WARMUP = Number(process.env.BENCH_WARMUP ?? '10');
const SEED = Number(process.env.BENCH_SEED ?? '19');
const BUDGET_MS = Number(process.env.BENCH_KIND_SECONDS ?? '60') * 1000;
const DATABASE_URL = process.env.BENCH_DATABASE_URL;
const STORE_DIR = process.env.BENCH_STORE_DIR;
const KINDS = process.env.BENCH_KINDS?.split(',').filter((kind) => kind !== '');
const SHARED_BUFFERS = process.env.BENCH_PG_SHARED_BUFFERS;
const PREWARM = process.env.BENCH_PG_PREWARM === '1';
const SLOWEST = Number(process.env.BENCH_SLOWEST ?? '0');

/**
 * What BENCH_PG_PREWARM loads into PostgreSQL's shared buffers before the requests: the tables and
 * indexes a search reads, as a server that has answered searches for a while holds them.
 */
const PREWARMED = [
  'message_search',
  'message_search_document_idx',
  'message_phrases_pairs_idx',
  'message_subjects_subject_idx',
  'messages_pkey',
  'messages_interaction_id_id_idx',
  'messages_id_conversation_idx',
  'message_search_pkey',
  'message_phrases_pkey',
];
const CONVERSATIONS = Math.max(1, Math.round(MESSAGES / 10));
const CONTACTS = Math.max(1, Math.round(MESSAGES / 5));
const ACCOUNTS = 10;

/** One kind of request: its path for the i-th draw. */
interface Probe {
  readonly name: string;
  readonly target: number;
  path(random: Random): Promise<string> | string;
}

interface Timed {
  readonly name: string;
  readonly target: number;
  readonly ms: number[];
  readonly items: number[];
  /** The slowest requests, slowest first (BENCH_SLOWEST of them). */
  readonly slowest: ReadonlyArray<{ readonly ms: number; readonly url: string }>;
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function measure(app: FastifyInstance, authorization: string, probe: Probe, seed: number): Promise<Timed> {
  const random = new Random(seed);
  const ms: number[] = [];
  const items: number[] = [];
  const urls: string[] = [];
  const started = now();
  for (let i = 0; i < WARMUP + REQUESTS; i += 1) {
    // A kind far off its target stops early, so that one slow kind cannot hold the run for hours.
    if (i >= WARMUP + 30 && now() - started > BUDGET_MS) break;
    const url = await probe.path(random);
    const sent = now();
    const reply = await app.inject({ method: 'GET', url, headers: { authorization } });
    const took = now() - sent;
    if (reply.statusCode !== 200) throw new Error(`${probe.name}: ${url} answered ${reply.statusCode}: ${reply.body}`);
    if (i < WARMUP) continue;
    ms.push(took);
    urls.push(url);
    const body: unknown = reply.json();
    if (typeof body === 'object' && body !== null && 'items' in body && Array.isArray(body.items)) {
      items.push(body.items.length);
    }
  }
  const slowest = ms
    .map((took, i) => ({ ms: took, url: urls[i] ?? '' }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, SLOWEST);
  return { name: probe.name, target: probe.target, ms, items, slowest };
}

function probes(store: GeneratedStore, inject: (url: string) => Promise<unknown>): Probe[] {
  const account = (random: Random): number => store.accountIds[random.int(store.accountIds.length)] ?? 1;
  const interactions = (id: number, query: Record<string, string>): string =>
    `/api/email/accounts/${id}/interactions?${new URLSearchParams(query).toString()}`;
  const secondPage = async (random: Random, query: Record<string, string>): Promise<string> => {
    const id = account(random);
    const first = await inject(interactions(id, query));
    const cursor =
      typeof first === 'object' && first !== null && 'nextCursor' in first && typeof first.nextCursor === 'string'
        ? first.nextCursor
        : undefined;
    // A small development store may have a single page: then the first is asked again.
    return interactions(id, cursor === undefined ? query : { ...query, cursor });
  };
  const search = (q: (random: Random) => string) => (random: Random) => interactions(account(random), { q: q(random) });
  const { vocabulary } = store;
  const word = (from: number, to: number) => (random: Random) =>
    vocabulary.words[from + random.int(to - from)] ?? 'the';
  const contactIndex = (random: Random): number => random.int(CONTACTS);
  // A query about one generated message, in its account: it finds at least that conversation.
  const sampled = (q: (sample: MessageSample) => string | null) => (random: Random) => {
    for (;;) {
      const sample = store.samples[random.int(store.samples.length)];
      const query = sample === undefined ? 'the' : q(sample);
      if (sample !== undefined && query !== null) return interactions(sample.accountId, { q: query });
    }
  };
  const openUnassigned = { status: 'open', assigned: 'none', snoozed: 'hide' };
  const openMine = { status: 'open', assigned: 'me', snoozed: 'hide' };
  return [
    { name: 'queueOpenUnassigned', target: 50, path: (r) => interactions(account(r), openUnassigned) },
    { name: 'queueOpenMine', target: 50, path: (r) => interactions(account(r), openMine) },
    { name: 'queueOpenUnassignedPage2', target: 50, path: (r) => secondPage(r, openUnassigned) },
    { name: 'queueOpenMinePage2', target: 50, path: (r) => secondPage(r, openMine) },
    { name: 'queueAll', target: 50, path: (r) => interactions(account(r), {}) },
    { name: 'conversationOpen', target: 50, path: (r) => `/api/interactions/${1 + r.int(CONVERSATIONS)}` },
    { name: 'contactById', target: 50, path: (r) => `/api/contacts/${1 + contactIndex(r)}` },
    {
      name: 'contactByAddress',
      target: 50,
      path: (r) => `/api/contacts?${new URLSearchParams({ q: personAt(contactIndex(r)).address }).toString()}`,
    },
    // The 100 most frequent words: each in a large share of all messages.
    { name: 'searchCommonWord', target: 100, path: search(word(0, 100)) },
    // The same words quoted: exact, where a bare last word also matches as a prefix.
    { name: 'searchCommonWordQuoted', target: 100, path: search((r) => `"${word(0, 100)(r)}"`) },
    { name: 'searchMidWord', target: 100, path: search(word(1_000, 5_000)) },
    { name: 'searchRareWord', target: 100, path: sampled((x) => x.rare) },
    { name: 'searchTwoWords', target: 100, path: search((r) => `${word(50, 2_000)(r)} ${word(50, 2_000)(r)}`) },
    { name: 'searchPhrase', target: 100, path: search((r) => `"${word(0, 300)(r)} ${word(0, 300)(r)}"`) },
    { name: 'searchFromAddressWord', target: 100, path: sampled((x) => `from:${x.senderWord}`) },
    { name: 'searchFromName', target: 100, path: sampled((x) => `from:"${x.senderName}"`) },
    { name: 'searchSubjectWord', target: 100, path: sampled((x) => `subject:${x.subjectWord}`) },
    { name: 'searchHasAttachment', target: 100, path: search(() => 'has:attachment') },
    {
      name: 'searchHasAttachmentName',
      target: 100,
      path: sampled((x) => (x.attachmentName === null ? null : `has:attachment ${x.attachmentName}`)),
    },
    {
      name: 'searchReference',
      target: 100,
      path: (r) => {
        const token = store.tokens[r.int(store.tokens.length)] ?? '#P1-0000';
        const id = Number(token.slice(2, token.indexOf('-')));
        const accountId = store.accountIds[(id - 1) % store.accountIds.length] ?? 1;
        return interactions(accountId, { q: token.slice(1) });
      },
    },
  ];
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const load = (): string =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  process.stdout.write(`Machine: ${machine}\nload average before: ${load()}\n`);
  const keptDir =
    STORE_DIR === undefined
      ? undefined
      : path.resolve(STORE_DIR, `${DATABASE_URL === undefined ? 'sqlite' : 'postgres'}-${MESSAGES}-${SEED}`);
  const factsFile = keptDir === undefined ? undefined : path.join(keptDir, 'store.json');
  const kept = factsFile !== undefined && fs.existsSync(factsFile) ? readFacts(factsFile) : undefined;
  if (keptDir !== undefined && kept === undefined && fs.existsSync(keptDir)) {
    throw new Error(`${keptDir} holds no store.json (a generation that did not finish): delete it first`);
  }
  const postgres: RunningPostgres | undefined =
    DATABASE_URL === 'embedded'
      ? await startEmbeddedPostgres({
          durable: true,
          purpose: 'The benchmark',
          ...(keptDir === undefined ? {} : { keepDir: path.join(keptDir, 'postgres') }),
          ...(SHARED_BUFFERS === undefined ? {} : { settings: { shared_buffers: SHARED_BUFFERS } }),
        })
      : undefined;
  const adminUrl = postgres?.url ?? DATABASE_URL;
  const databaseName = keptDir === undefined ? `postern_million_${process.pid}` : `postern_million_${MESSAGES}_${SEED}`;
  let databaseUrl: string | undefined;
  if (adminUrl !== undefined) {
    if (kept === undefined) {
      await withAdmin(adminUrl, (client) => client.query(`create database ${client.escapeIdentifier(databaseName)}`));
    }
    const url = new URL(adminUrl);
    url.pathname = `/${databaseName}`;
    databaseUrl = url.toString();
  }
  // Opening runs the migrations: one that fails must not leave the embedded server running on the kept store.
  const side = await openPosternRuntime({
    logLevel: 'warn',
    // The generation's index builds and `vacuum analyze` take minutes at a million messages: past
    // the store's query timeout (two minutes by default), the server would cancel them.
    env:
      databaseUrl === undefined
        ? {}
        : { POSTERN_DATABASE_URL: databaseUrl, POSTERN_DATABASE_QUERY_TIMEOUT_SECONDS: '3600' },
    ...(keptDir === undefined ? {} : { dataDir: path.join(keptDir, 'postern') }),
  }).catch(async (error: unknown) => {
    await postgres?.stop();
    throw error;
  });
  try {
    const { runtime } = side;
    const engine = runtime.db.engine;
    let store: GeneratedStore;
    let adminId: number;
    if (kept !== undefined) {
      const admin = await findUserByUsername(runtime.db, 'bench-admin');
      if (admin === undefined) throw new Error('the kept store has no bench-admin');
      adminId = admin.id;
      store = kept;
      process.stdout.write(`Reusing the ${engine} store in ${keptDir ?? ''}\n`);
    } else {
      const users = [];
      users.push(
        await runtime.services.users.create({
          username: 'bench-admin',
          role: 'admin',
          password: 'a long enough password',
        }),
      );
      for (let i = 1; i <= 4; i += 1) {
        users.push(
          await runtime.services.users.create({
            username: `agent${i}`,
            role: 'agent',
            password: 'a long enough password',
          }),
        );
      }
      const admin = users[0];
      if (admin === undefined) throw new Error('no admin');
      adminId = admin.id;
      process.stdout.write(
        `Generating ${MESSAGES} messages, ${CONVERSATIONS} conversations, ${CONTACTS} contacts on ${engine}\n`,
      );
      store = await generateMillion(runtime.db, {
        messages: MESSAGES,
        conversations: CONVERSATIONS,
        contacts: CONTACTS,
        accounts: ACCOUNTS,
        seed: SEED,
        assignees: users.map((user) => user.id),
        now: new Date(),
        log: (line) => process.stdout.write(`  ${line}\n`),
      });
      printFigures(`Generated on ${engine} (ms)`, { ...store.timings });
      if (factsFile !== undefined) writeFacts(factsFile, store);
    }
    const token = await runtime.services.tokens.create(adminId, 'bench');

    const storage = await measureStorage(runtime.db, side.dataDir, runtime.config.databaseUrl, adminUrl, databaseName);
    printFigures(`Storage on ${engine}`, {
      databaseBytes: storage.total,
      bytesPerMessage: storage.total / MESSAGES,
      searchIndexBytes: storage.search,
      searchIndexBytesPerMessage: storage.search / MESSAGES,
      ...Object.fromEntries(Object.entries(storage.parts).map(([name, bytes]) => [`${name}Bytes`, bytes])),
    });

    if (engine === 'postgres') {
      const { rows } = await sql<{ setting: string }>`select current_setting('shared_buffers') as setting`.execute(
        runtime.db.kysely,
      );
      process.stdout.write(`PostgreSQL shared_buffers: ${rows[0]?.setting ?? '?'}\n`);
    }
    if (PREWARM && engine === 'postgres') await prewarm(runtime.db);

    const { web } = await runtime.startRoles(['web'], { web: { listen: false, version: 'bench' } });
    if (web === undefined) throw new Error('the web role did not start');
    const { app } = web;
    const authorization = `Bearer ${token.token}`;
    const inject = async (url: string): Promise<unknown> => {
      const reply = await app.inject({ method: 'GET', url, headers: { authorization } });
      if (reply.statusCode !== 200) throw new Error(`${url} answered ${reply.statusCode}`);
      return reply.json();
    };
    process.stdout.write(`\nload average before the requests: ${load()}\n`);
    const results: Timed[] = [];
    let seed = SEED * 1000;
    for (const probe of probes(store, inject).filter((p) => KINDS === undefined || KINDS.includes(p.name))) {
      seed += 1;
      const timed = await measure(app, authorization, probe, seed);
      results.push(timed);
      process.stdout.write(
        `  ${timed.name.padEnd(28)} p50 ${quantile(timed.ms, 0.5).toFixed(1).padStart(7)}  p95 ${quantile(timed.ms, 0.95).toFixed(1).padStart(7)}  p99 ${quantile(timed.ms, 0.99).toFixed(1).padStart(7)}  max ${Math.max(
          ...timed.ms,
        )
          .toFixed(1)
          .padStart(7)} ms` +
          `  (n ${timed.ms.length}, target p99 < ${timed.target} ms${quantile(timed.ms, 0.99) < timed.target ? '' : ', MISSED'}; items avg ${(timed.items.reduce((a, b) => a + b, 0) / Math.max(1, timed.items.length)).toFixed(1)})\n`,
      );
      for (const slow of timed.slowest) {
        process.stdout.write(`      ${slow.ms.toFixed(1).padStart(8)} ms  ${decodeURIComponent(slow.url)}\n`);
      }
    }
    process.stdout.write(`load average after: ${load()}\n`);
    const missed = results.filter((r) => quantile(r.ms, 0.99) >= r.target).map((r) => r.name);
    process.stdout.write(`\n${missed.length === 0 ? 'Every target met.' : `Targets missed: ${missed.join(', ')}`}\n`);
  } finally {
    await side.close();
    if (adminUrl !== undefined && keptDir === undefined) {
      await withAdmin(adminUrl, (client) =>
        client.query(`drop database if exists ${client.escapeIdentifier(databaseName)} with (force)`),
      );
    }
    await postgres?.stop();
  }
}

/** Loads {@link PREWARMED} into shared buffers (pg_prewarm, a contrib extension), saying how much and how long. */
async function prewarm(db: import('../src/store/database.js').Database): Promise<void> {
  const started = now();
  await sql`create extension if not exists pg_prewarm`.execute(db.kysely);
  for (const relation of PREWARMED) {
    const { rows } = await sql<{ blocks: string }>`select pg_prewarm(${relation}::regclass) as blocks`.execute(
      db.kysely,
    );
    process.stdout.write(`  prewarmed ${relation}: ${Math.round((Number(rows[0]?.blocks) * 8) / 1024)} MB\n`);
  }
  process.stdout.write(`  prewarm took ${Math.round(now() - started)} ms\n`);
}

/** What the requests need to know about a kept store, as `store.json` holds it. */
interface Facts {
  readonly accountIds: number[];
  readonly tokens: string[];
  readonly samples: MessageSample[];
  readonly timings: Record<string, number>;
}

function writeFacts(file: string, store: GeneratedStore): void {
  const facts: Facts = {
    accountIds: [...store.accountIds],
    tokens: [...store.tokens],
    samples: [...store.samples],
    timings: { ...store.timings },
  };
  fs.writeFileSync(file, JSON.stringify(facts));
}

function readFacts(file: string): GeneratedStore {
  // Our own file, written by writeFacts above with the same seed (the directory name holds it).
  const facts = JSON.parse(fs.readFileSync(file, 'utf8')) as Facts;
  // The generator's vocabulary, rebuilt from the same seed as generateMillion draws it.
  return { ...facts, vocabulary: new Vocabulary(SEED + 1) };
}

interface Storage {
  readonly total: number;
  readonly search: number;
  readonly parts: Record<string, number>;
}

async function measureStorage(
  db: import('../src/store/database.js').Database,
  dataDir: string,
  databaseUrl: string,
  adminUrl: string | undefined,
  databaseName: string,
): Promise<Storage> {
  if (db.engine === 'sqlite') {
    await sql`pragma wal_checkpoint(truncate)`.execute(db.kysely);
    const file = databaseUrl.slice('sqlite:'.length);
    const total = [file, `${file}-wal`].reduce(
      (sum, name) => sum + (fs.existsSync(name) ? fs.statSync(name).size : 0),
      0,
    );
    const { rows } = await sql<{ name: string; bytes: number }>`
      select name, sum(pgsize) as bytes from dbstat group by name order by bytes desc`.execute(db.kysely);
    const parts = Object.fromEntries(rows.slice(0, 12).map((row) => [row.name, Number(row.bytes)]));
    const search = rows.filter((row) => row.name.startsWith('message_search')).reduce((s, r) => s + Number(r.bytes), 0);
    void dataDir;
    return { total, search, parts };
  }
  if (adminUrl === undefined) throw new Error('no admin URL');
  const total = await withAdmin(adminUrl, async (client) => {
    const result = await client.query<{ size: string }>('select pg_database_size($1)::text as size', [databaseName]);
    return Number(result.rows[0]?.size ?? 0);
  });
  const { rows } = await sql<{ name: string; bytes: string }>`
    select c.relname as name, pg_total_relation_size(c.oid)::text as bytes from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'r' order by pg_total_relation_size(c.oid) desc limit 12`.execute(
    db.kysely,
  );
  const parts = Object.fromEntries(rows.map((row) => [row.name, Number(row.bytes)]));
  return { total, search: (parts['message_search'] ?? 0) + (parts['message_subjects'] ?? 0), parts };
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
