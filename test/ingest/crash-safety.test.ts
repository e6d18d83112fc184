/**
 * Crash safety of ingest: a child process syncing a 500-message mailbox from the emulator is
 * killed with SIGKILL again and again, at random points; after the last restart exactly 500
 * messages are stored, none twice, conversations count each message once, and every message
 * got its after-fetch action (marked seen) in the mailbox.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEmailAccount, createList, getCheckpoint } from '../../src/store/index.js';
import { CONTOSO, startMailEmulator, type MailEmulator } from '../imap/helpers.js';
import { forEachEngine } from '../helpers/store.js';

const MESSAGES = 500;
const MAILBOX = 'developers@contoso.com';
const ROOT = path.resolve(import.meta.dirname, '../..');
let mail: MailEmulator;

beforeAll(async () => {
  mail = await startMailEmulator();
});
afterAll(async () => {
  await mail.stop();
});

/** Message n of the mailbox: 40 senders, every third one a reply, sizes from 300 B to 30 KB, some attachments. */
function generated(n: number, folder: string): Buffer {
  const sender = n % 40;
  const lines = [
    `From: Customer ${sender} <customer${sender}@example.org>`,
    `To: ${MAILBOX}`,
    `Subject: ${n % 3 === 0 ? 'Re: ' : ''}Case ${Math.floor(n / 3)} (${folder})`,
    `Date: Wed, 15 Jan 2025 09:${String(n % 60).padStart(2, '0')}:00 +0000`,
    `Message-ID: <crash-${folder.replace(/\s/g, '')}-${n}@example.org>`,
    ...(n % 3 === 0 && n > 0 ? [`In-Reply-To: <crash-${folder.replace(/\s/g, '')}-${n - 1}@example.org>`] : []),
    'MIME-Version: 1.0',
  ];
  const text = `Message ${n}. ${'lorem ipsum '.repeat((n * 37) % 2500)}`;
  if (n % 7 !== 0) return Buffer.from([...lines, 'Content-Type: text/plain; charset=utf-8', '', text, ''].join('\r\n'));
  const attachment = Buffer.alloc(3000 + ((n * 101) % 9000), n % 256).toString('base64');
  return Buffer.from(
    [
      ...lines,
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      '',
      text,
      '--b',
      `Content-Type: application/octet-stream; name="file-${n}.bin"`,
      'Content-Transfer-Encoding: base64',
      '',
      attachment.replace(/.{76}/g, '$&\r\n'),
      '--b--',
      '',
    ].join('\r\n'),
  );
}

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  ingested: number;
  output: string;
}

/** Runs the child; kills it with SIGKILL after `killAfter` ingested messages (plus a few ms), if given. */
function runChild(env: Record<string, string>, killAfter: number | undefined): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', './test/helpers/ts-register.mjs', 'test/ingest/crash-child.ts'],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', TZ: 'UTC', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    let ingested = 0;
    let killing = false;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      ingested = output.split('\n').filter((line) => line.startsWith('ingested ')).length;
      if (killAfter !== undefined && !killing && ingested >= killAfter) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 15));
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, ingested, output }));
  });
}

forEachEngine((engine, openFresh) => {
  it(`stores exactly ${MESSAGES} messages, none twice, through repeated SIGKILLs`, { timeout: 240_000 }, async () => {
    const db = await openFresh();
    const folder = `Crash ${engine}`;
    mail.exchange.service.store.createFolder(MAILBOX, folder);
    const target = mail.exchange.service.store.mailbox(MAILBOX).byName(folder);
    if (target === undefined) throw new Error('no folder');
    for (let n = 0; n < MESSAGES; n += 1) mail.exchange.service.store.append(MAILBOX, target, generated(n, folder));

    const list = await createList(db, { name: 'Crash customers' });
    const account = await createEmailAccount(db, {
      name: 'Developers',
      key: 'DEV',
      emailAddress: MAILBOX,
      username: MAILBOX,
      defaultListId: list.id,
      folder,
      firstSync: { kind: 'all' },
      afterFetchAction: 'mark_seen',
    });
    const env = {
      CRASH_DB_URL: db.url,
      CRASH_ACCOUNT_ID: String(account.id),
      CRASH_IMAP_PORT: String(mail.imapPort),
      CRASH_CA: mail.ca,
      CRASH_TOKEN: (await mail.token(CONTOSO.andrea)).token,
    };

    let kills = 0;
    let runs = 0;
    for (;;) {
      runs += 1;
      const killAfter = kills < 12 ? 1 + Math.floor(Math.random() * 60) : undefined;
      const run = await runChild(env, killAfter);
      if (run.signal === 'SIGKILL') {
        kills += 1;
        continue;
      }
      expect(run.code, run.output).toBe(0);
      expect(run.output).toContain('done');
      break;
    }
    expect(kills).toBeGreaterThanOrEqual(5);

    const totals = await sql<{ total: number; ids: number; uids: number }>`
      select count(*) as total, count(distinct message_id) as ids, count(distinct uid) as uids
      from messages where account_id = ${account.id}`.execute(db.kysely);
    expect(totals.rows[0]).toEqual({ total: MESSAGES, ids: MESSAGES, uids: MESSAGES });
    const raw = await sql<{ total: number }>`
      select count(*) as total from message_raw join messages on messages.id = message_raw.message_id
      where messages.account_id = ${account.id}`.execute(db.kysely);
    expect(Number(raw.rows[0]?.total)).toBe(MESSAGES);
    const attachments = await sql<{ total: number }>`
      select count(*) as total from attachments join messages on messages.id = attachments.message_id
      where messages.account_id = ${account.id}`.execute(db.kysely);
    expect(Number(attachments.rows[0]?.total)).toBe(Math.ceil(MESSAGES / 7));
    // Every conversation counts each of its messages exactly once.
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
    expect(await getCheckpoint(db, account.id, folder)).toMatchObject({ lastUid: MESSAGES });
    const inMailbox = await mail.folder(MAILBOX, folder);
    expect(inMailbox.messages.filter((m) => !m.flags.includes('\\Seen')).map((m) => m.uid)).toEqual([]);
    process.stdout.write(`${engine}: ${kills} kills over ${runs} runs\n`);
  });
});
