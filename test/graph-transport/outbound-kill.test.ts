/**
 * Crash safety of sending through Microsoft Graph: Postern runs as a separate process (`postern
 * start --roles worker`, the built CLI) and is killed with SIGKILL while 200 messages of an account
 * of transport `graph` are being sent. After a restart every message is sent, none is lost, and
 * the emulator accepted a message twice only if it was in flight (claimed, `sending`) at the kill.
 * Never more than 4 requests at a time on the mailbox: the emulator would have answered 429.
 *
 * Run `npm run build` first (`npm test` does).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, updateSendingSettings, type Database } from '../../src/store/index.js';
import { CLI, serverProcessId } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { CONTOSO, createGraphAccount, sent, startGraphOutbound, type GraphOutbound } from './outbound-harness.js';

const MESSAGES = 200;

let h: GraphOutbound;
let databaseUrl: string;
let databaseDir: string;
const children: ChildProcessWithoutNullStreams[] = [];

function startWorker(): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [CLI, 'start', '--roles', 'worker'], {
    env: {
      PATH: process.env.PATH ?? '',
      TZ: 'UTC',
      POSTERN_DATA_DIR: h.postern.dataDir,
      POSTERN_DATABASE_URL: databaseUrl,
      POSTERN_LOG_CONSOLE: 'false',
      POSTERN_LOG_LEVEL: 'info',
    },
  });
  child.stdout.resume();
  child.stderr.resume();
  children.push(child);
  return child;
}

async function outboxStates(db: Database): Promise<Map<string, string[]>> {
  const rows = await db.kysely
    .selectFrom('outbox')
    .innerJoin('messages', 'messages.id', 'outbox.message_id')
    .select(['outbox.state', 'messages.message_id'])
    .execute();
  const byState = new Map<string, string[]>();
  for (const row of rows) byState.set(row.state, [...(byState.get(row.state) ?? []), row.message_id ?? '']);
  return byState;
}

async function graphSent(): Promise<Array<{ messageId: string | null }>> {
  return (await sent(h)).filter((r) => r.via === 'graph');
}

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does).`);
  databaseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-graph-kill-'));
  databaseUrl = `sqlite:${path.join(databaseDir, 'postern.db')}`;
  h = await startGraphOutbound(databaseUrl);
  const accountId = await createGraphAccount(h, { key: 'AND', name: 'Andrea', emailAddress: CONTOSO.andrea.upn });
  const { runtime } = h.postern;
  // The per-minute limit has its own test; here the messages leave as fast as the concurrency allows.
  await updateSendingSettings(runtime.db, accountId, { sendPerMinute: 10_000, concurrency: 10 });
  const admin = { viewer: { userId: 1, role: 'admin' as const } };
  for (let i = 0; i < MESSAGES; i += 1)
    await runtime.services.outbound.send.send(admin, accountId, {
      to: [`crash${i}@fabrikam.example`],
      subject: `Crash ${i}`,
      text: `Message ${i}`,
    });
  // Postern in this process stops; the worker processes own the database from here on.
  await h.postern.close();
  // Each Graph call takes a little while, so that the kill finds some in flight.
  await h.control('POST', '/graph/faults', { kind: 'delay', count: 10_000, delayMs: 30 });
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await h?.emulator.stop();
  fs.rmSync(databaseDir, { recursive: true, force: true });
});

describe('kill -9 while 200 messages are being sent through Graph', () => {
  it('loses none after a restart, and sends twice only what was in flight at the kill', async () => {
    const worker = startWorker();
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    await until('the first 60 Graph sends', async () => ((await graphSent()).length >= 60 ? true : undefined), 60_000);
    // The server process itself, as an OOM kill or a crash ends it: `postern start` keeps it as a
    // child started again with its heap limit (src/cli/heap-limit.ts), which would outlive a
    // SIGKILL of the keeper by the moment it takes to notice — sending meanwhile.
    process.kill(serverProcessId(worker.pid ?? 0), 'SIGKILL');
    await exited;

    const db = await openDatabase(databaseUrl);
    try {
      const atKill = await outboxStates(db);
      const inFlight = new Set(atKill.get('sending') ?? []);
      const sentBefore = (atKill.get('sent') ?? []).length;
      expect(sentBefore).toBeGreaterThan(0);
      expect(sentBefore).toBeLessThan(MESSAGES);
      // The account allows 10 at once; through Graph the dispatcher claims at most 4 per mailbox.
      expect(inFlight.size).toBeLessThanOrEqual(4);

      const restarted = startWorker();
      await until(
        'every message to be sent',
        async () => ((await outboxStates(db)).get('sent')?.length === MESSAGES ? true : undefined),
        60_000,
      );
      const stopped = new Promise((resolve) => restarted.once('exit', resolve));
      restarted.kill('SIGTERM');
      expect(await stopped).toBe(0);

      const seen = new Map<string, number>();
      for (const record of await graphSent())
        if (record.messageId !== null) seen.set(record.messageId, (seen.get(record.messageId) ?? 0) + 1);
      const all = (await outboxStates(db)).get('sent') ?? [];
      expect(all).toHaveLength(MESSAGES);
      expect(all.every((id) => (seen.get(id) ?? 0) >= 1)).toBe(true);
      const twice = [...seen].filter(([, count]) => count > 1).map(([id]) => id);
      expect(twice.filter((id) => !inFlight.has(id))).toEqual([]);
      expect([...seen.values()].every((count) => count <= 2)).toBe(true);
      // The account allows 10 at once, Graph 4 per mailbox: a fifth request would have met 429.
      expect(h.emulator.handle.requestLog.list({ endpoint: 'graph' }).filter((r) => r.status === 429)).toEqual([]);
      const retries = await db.kysely
        .selectFrom('events')
        .select('id')
        .where('type', '=', 'message.retry_scheduled')
        .execute();
      expect(retries).toHaveLength(0);
      const resent = await db.kysely
        .selectFrom('events')
        .select('id')
        .where('type', '=', 'message.resent_after_interruption')
        .execute();
      expect(resent).toHaveLength(inFlight.size);
      console.info(
        `kill -9 (Graph): ${sentBefore} sent before the kill, ${inFlight.size} in flight, ${twice.length} seen twice by the emulator`,
      );
    } finally {
      await db.close();
    }
  }, 180_000);
});
