/**
 * Crash safety of Graph inbound: a child process reading a 500-message folder through the
 * emulated Graph API is killed with SIGKILL again and again, at random points; after the last
 * restart exactly 500 messages are stored, none twice, conversations count each message once,
 * the folder's delta link is stored, and every message got its after-fetch action (marked read).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEmailAccount, createList, getDeltaLink } from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';
import { DEVELOPERS, ensureFolder, startGraphMail, type GraphMail } from './inbound-helpers.js';

const MESSAGES = 500;
const ROOT = path.resolve(import.meta.dirname, '../..');
let mail: GraphMail;

beforeAll(async () => {
  mail = await startGraphMail();
});
afterAll(async () => {
  await mail?.stop();
});

/** Message n: 40 senders, every third one a reply, sizes from 300 B to 30 KB. */
function generated(n: number, tag: string): Buffer {
  const sender = n % 40;
  return Buffer.from(
    [
      `From: Customer ${sender} <graph.customer${sender}@example.org>`,
      `To: ${DEVELOPERS}`,
      `Subject: ${n % 3 === 0 ? 'Re: ' : ''}Case ${Math.floor(n / 3)} (${tag})`,
      `Date: Wed, 15 Jan 2025 09:${String(n % 60).padStart(2, '0')}:00 +0000`,
      `Message-ID: <graph-crash-${tag}-${n}@example.org>`,
      ...(n % 3 === 0 && n > 0 ? [`In-Reply-To: <graph-crash-${tag}-${n - 1}@example.org>`] : []),
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Message ${n}. ${'lorem ipsum '.repeat((n * 37) % 2500)}`,
      '',
    ].join('\r\n'),
  );
}

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs the child; kills it with SIGKILL after `killAfter` ingested messages (plus a few ms), if given. */
function runChild(env: Record<string, string>, killAfter: number | undefined): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', './test/helpers/ts-register.mjs', 'test/graph-transport/inbound-crash-child.ts'],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', TZ: 'UTC', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    let killing = false;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ingested = output.split('\n').filter((line) => line.startsWith('ingested ')).length;
      if (killAfter !== undefined && !killing && ingested >= killAfter) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 15));
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, output }));
  });
}

forEachEngine((engine, openFresh) => {
  it(
    `stores exactly ${MESSAGES} messages read through Graph, none twice, through repeated SIGKILLs`,
    { timeout: 600_000 },
    async () => {
      const db = await openFresh();
      const folder = `Graph crash ${engine}`;
      ensureFolder(mail, folder);
      const target = mail.exchange.service.store.mailbox(DEVELOPERS).byName(folder);
      if (target === undefined) throw new Error('no folder');
      for (let n = 0; n < MESSAGES; n += 1)
        mail.exchange.service.store.append(DEVELOPERS, target, generated(n, engine));

      const list = await createList(db, { name: 'Graph crash customers' });
      const account = await createEmailAccount(db, {
        name: 'Developers',
        key: 'DEV',
        emailAddress: DEVELOPERS,
        username: DEVELOPERS,
        transport: 'graph',
        defaultListId: list.id,
        folder,
        firstSync: { kind: 'all' },
        afterFetchAction: 'mark_seen',
      });
      const env = {
        CRASH_DB_URL: db.url,
        CRASH_ACCOUNT_ID: String(account.id),
        CRASH_API_BASE: `${mail.emu.base}/v1.0`,
        CRASH_CA: mail.emu.handle.caPem,
        CRASH_TOKEN: await mail.token(),
      };

      let kills = 0;
      for (;;) {
        // Up to four kills, each after 1 to 60 more messages became durable: the last run finishes the folder.
        const killAfter = kills < 4 ? 1 + Math.floor(Math.random() * 60) : undefined;
        const run = await runChild(env, killAfter);
        if (run.signal === 'SIGKILL') {
          kills += 1;
          continue;
        }
        expect(run.code, run.output).toBe(0);
        expect(run.output).toContain('done');
        break;
      }
      expect(kills).toBeGreaterThanOrEqual(3);

      const totals = await sql<{ total: number; ids: number; graphIds: number }>`
      select count(*) as total, count(distinct message_id) as ids, count(distinct graph_id) as "graphIds"
      from messages where account_id = ${account.id}`.execute(db.kysely);
      expect(totals.rows.map((row) => [Number(row.total), Number(row.ids), Number(row.graphIds)])).toEqual([
        [MESSAGES, MESSAGES, MESSAGES],
      ]);
      const raw = await sql<{ total: number }>`
      select count(*) as total from message_raw join messages on messages.id = message_raw.message_id
      where messages.account_id = ${account.id}`.execute(db.kysely);
      expect(Number(raw.rows[0]?.total)).toBe(MESSAGES);
      const miscounted = await sql<{ id: number }>`
      select interactions.id from interactions
      where interactions.account_id = ${account.id}
        and interactions.message_count <> (select count(*) from messages where messages.interaction_id = interactions.id)`.execute(
        db.kysely,
      );
      expect(miscounted.rows).toEqual([]);
      const contacts = await sql<{
        total: number;
      }>`select count(*) as total from contacts where list_id = ${list.id}`.execute(db.kysely);
      expect(Number(contacts.rows[0]?.total)).toBe(40);
      expect(await getDeltaLink(db, account.id, folder)).toBeDefined();
      expect(
        mail
          .messages(folder)
          .filter((m) => !m.seen)
          .map((m) => m.uid),
      ).toEqual([]);
      process.stdout.write(`${engine}: ${kills} kills\n`);
    },
  );
});
