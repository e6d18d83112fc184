/**
 * Crash safety of sending: Postern runs as a separate process and is killed with SIGKILL while 200
 * messages are being sent. After a restart every message is sent, none is lost, and the emulator
 * saw a message twice only if it was in flight (claimed, `sending`) at the kill. The test reports
 * how many it saw twice.
 *
 * The child is the built `postern start --roles worker` (run `npm run build` first; `npm test`
 * does).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, updateSendingSettings, type Database } from '../../src/store/index.js';
import { CLI, serverProcessId } from '../helpers/cli.js';
import { authenticatedProvider, startPair, type Pair } from '../providers/helpers.js';
import { CONTOSO, sent } from './helpers.js';
import { until } from '../helpers/until.js';

const MESSAGES = 200;
const DIST = path.resolve(import.meta.dirname, '../../dist');

let pair: Pair;
let dataDir: string;
let accountId: number;
const children: ChildProcessWithoutNullStreams[] = [];

/** The worker process: the real CLI with the worker role. */
function startWorker(): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [CLI, 'start', '--roles', 'worker'], {
    env: {
      PATH: process.env.PATH ?? '',
      TZ: 'UTC',
      POSTERN_DATA_DIR: dataDir,
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

beforeAll(async () => {
  if (!fs.existsSync(path.join(DIST, 'src/workers/outbox-dispatcher.js')))
    throw new Error('dist/ is missing the outbox dispatcher: run "npm run build" first (npm test does).');
  pair = await startPair();
  dataDir = pair.postern.dataDir;
  const { providerId } = await authenticatedProvider(pair);
  const port = Number(new URL(pair.emulator.handle.urls.smtp ?? 'x://0:0').port);
  const created = await pair.postern.app.inject({
    method: 'POST',
    url: '/api/email/accounts',
    headers: { authorization: pair.admin },
    payload: {
      name: 'Andrea',
      key: 'AND',
      emailAddress: CONTOSO.andrea.upn,
      providerId,
      smtpHost: '127.0.0.1',
      smtpPort: port,
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  accountId = created.json<{ id: number }>().id;
  const { runtime } = pair.postern;
  // The per-minute limit has its own test; here the 200 messages leave as fast as 3 at a time allow.
  await updateSendingSettings(runtime.db, accountId, { sendPerMinute: 10_000 });
  const { outbound } = runtime.services;
  const admin = { viewer: { userId: 1, role: 'admin' as const } };
  for (let i = 0; i < MESSAGES; i += 1)
    await outbound.send.send(admin, accountId, {
      to: [`crash${i}@fabrikam.example`],
      subject: `Crash ${i}`,
      text: `Message ${i}`,
    });
  // Postern in this process stops; the worker processes own the database from here on.
  await pair.postern.close();
  // Each submission takes a little while after its final dot, so that the kill finds some in flight.
  await pair.emulator.control('PUT', '/exchange/faults/smtp/delay', { ms: 25 });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await pair.emulator.stop();
});

describe('kill -9 while 200 messages are being sent', () => {
  it('loses none after a restart, and sends twice only what was in flight at the kill', async () => {
    const worker = startWorker();
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    await until(
      'the first 60 submissions',
      async () => ((await sent(pair.emulator)).length >= 60 ? true : undefined),
      60_000,
    );
    // The server process itself, as an OOM kill or a crash ends it: `postern start` keeps it as a
    // child started again with its heap limit (src/cli/heap-limit.ts), which would outlive a
    // SIGKILL of the keeper by the moment it takes to notice — sending meanwhile.
    process.kill(serverProcessId(worker.pid ?? 0), 'SIGKILL');
    await exited;

    const db = await openDatabase(`sqlite:${path.join(dataDir, 'postern.db')}`);
    try {
      const atKill = await outboxStates(db);
      const inFlight = new Set(atKill.get('sending') ?? []);
      const sentBefore = (atKill.get('sent') ?? []).length;
      expect(sentBefore).toBeGreaterThan(0);
      expect(sentBefore).toBeLessThan(MESSAGES);

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
      for (const record of await sent(pair.emulator))
        if (record.messageId !== null) seen.set(record.messageId, (seen.get(record.messageId) ?? 0) + 1);
      const ours = await outboxStates(db);
      const all = ours.get('sent') ?? [];
      expect(all).toHaveLength(MESSAGES);
      expect(all.every((id) => (seen.get(id) ?? 0) >= 1)).toBe(true);
      const twice = [...seen].filter(([, count]) => count > 1).map(([id]) => id);
      expect(twice.filter((id) => !inFlight.has(id))).toEqual([]);
      expect([...seen.values()].every((count) => count <= 2)).toBe(true);
      // No more than 3 submissions at once: Exchange would have answered 432 and a retry would show.
      const tooMany = await db.kysely
        .selectFrom('events')
        .select('id')
        .where('type', '=', 'message.retry_scheduled')
        .execute();
      expect(tooMany).toHaveLength(0);
      const resent = await db.kysely
        .selectFrom('events')
        .select('id')
        .where('type', '=', 'message.resent_after_interruption')
        .execute();
      expect(resent).toHaveLength(inFlight.size);
      console.info(
        `kill -9: ${sentBefore} sent before the kill, ${inFlight.size} in flight, ${twice.length} seen twice by the emulator`,
      );
    } finally {
      await db.close();
    }
    // Its two waits may take up to a minute each on a loaded machine (two worker processes to load).
  }, 180_000);
});
