/**
 * What a full-text index adds to a SQLite commit (`npm run bench:fts-commit`), for the 1,000-mailbox
 * burst of `bench:idle`: each IDLE wake-up stores its one message in a transaction of its own,
 * where a first sync stores 50 in one.
 *
 * FTS5 gathers a transaction's terms in memory and writes them at the commit as a new segment of
 * its index (leaf pages, the segment's entry and the index's structure record), whatever the
 * number of rows. This times that commit with better-sqlite3 alone, on a table shaped like
 * Postern's messages (two indexes) with and without a contentless FTS5 table defined as
 * migration 0023 defines `message_search`, under the store's pragmas (16 KiB pages, WAL, and
 * `synchronous = NORMAL` as an ingest commit runs, its fsync awaited off the event loop).
 *
 * Each case: BENCH_WARM_ROWS (20000) rows written first in one transaction, then BENCH_COMMITS
 * (2000) transactions of one row each, then a fifth as many of 50 rows each, bodies of BENCH_WORDS words (120)
 * drawn from a skewed vocabulary. Printed: microseconds per transaction for the inserts and for
 * the COMMIT, and per row. Figures are recorded in docs/PERFORMANCE.md; never run as a timed test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describeMachine, printFigures } from './helpers/figures.js';
import { Random } from './helpers/million-text.js';

const WARM_ROWS = Number(process.env.BENCH_WARM_ROWS ?? '20000');
const COMMITS = Number(process.env.BENCH_COMMITS ?? '2000');
const WORDS = Number(process.env.BENCH_WORDS ?? '120');
const VOCABULARY = 3000;

const vocabulary = Array.from({ length: VOCABULARY }, (_, i) => `w${((i * 7919) % 100_000).toString(36)}`);

/** A body of `count` words, the first of the vocabulary far more often than the last. */
function body(random: Random, count: number): string {
  const words: string[] = [];
  for (let i = 0; i < count; i += 1) words.push(vocabulary[Math.floor(random.next() ** 3 * VOCABULARY)] ?? 'w');
  return words.join(' ');
}

interface Case {
  readonly search: boolean;
  readonly group: number;
  readonly transactions: number;
}

function run({ search, group, transactions }: Case, dir: string): Record<string, number> {
  const file = path.join(dir, `${search ? 'fts' : 'plain'}-${group}.db`);
  const db = new Database(file);
  try {
    db.pragma('page_size = 16384');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`create table messages (id integer primary key, account_id integer not null, message_id text,
      subject text, body text, received_at text not null);
      create index messages_account_idx on messages (account_id, received_at, id);
      create index messages_message_id_idx on messages (account_id, message_id);`);
    // As migration 0023 defines message_search.
    db.exec(`create virtual table message_search using fts5(subject, sender, recipients, body, content='',
      contentless_delete=1, tokenize='unicode61 remove_diacritics 2')`);
    const insertMessage = db.prepare(
      'insert into messages (account_id, message_id, subject, body, received_at) values (?, ?, ?, ?, ?)',
    );
    const insertDocument = db.prepare(
      'insert into message_search (rowid, subject, sender, recipients, body) values (?, ?, ?, ?, ?)',
    );
    const begin = db.prepare('begin');
    const commit = db.prepare('commit');
    // Seeded: every case writes the same words.
    const random = new Random(19);
    const write = (n: number): void => {
      const text = body(random, WORDS);
      const subject = `Order ${vocabulary[n % VOCABULARY] ?? ''}`;
      const { lastInsertRowid } = insertMessage.run(n % 100, `<${n}@bench.example>`, subject, text, '2026-12-06');
      if (search) insertDocument.run(lastInsertRowid, subject, 'sender@bench.example', 'queue@bench.example', text);
    };
    db.transaction(() => {
      for (let n = 0; n < WARM_ROWS; n += 1) write(n);
    })();
    let insertNs = 0n;
    let commitNs = 0n;
    for (let t = 0; t < transactions; t += 1) {
      begin.run();
      const started = process.hrtime.bigint();
      for (let r = 0; r < group; r += 1) write(WARM_ROWS + t * group + r);
      const written = process.hrtime.bigint();
      commit.run();
      commitNs += process.hrtime.bigint() - written;
      insertNs += written - started;
    }
    const us = (ns: bigint, per: number): number => Number(ns) / 1000 / per;
    return {
      insertsUsPerTransaction: us(insertNs, transactions),
      commitUsPerTransaction: us(commitNs, transactions),
      insertAndCommitUsPerRow: us(insertNs + commitNs, transactions * group),
    };
  } finally {
    db.close();
  }
}

function main(): void {
  process.stdout.write(`Machine: ${describeMachine()}\n`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-fts-commit-'));
  try {
    for (const group of [1, 50]) {
      // A fifth as many transactions of 50 rows: the case still writes five times the rows.
      const transactions = group === 1 ? COMMITS : Math.max(1, Math.round(COMMITS / 5));
      for (const search of [false, true]) {
        const figures = run({ search, group, transactions }, dir);
        printFigures(
          `${group} row${group === 1 ? '' : 's'} per transaction, ${search ? 'with' : 'without'} message_search (${transactions} transactions)`,
          figures,
        );
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
