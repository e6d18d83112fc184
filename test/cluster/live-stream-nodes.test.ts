/**
 * The live stream across nodes on one PostgreSQL database: node A reads the mailbox (the worker
 * role, in this process), node B is a separate `postern start --roles web` process that reads no
 * mailbox at all. A browser's stream on B hears of the mail A stored — the note crossed over
 * PostgreSQL LISTEN/NOTIFY — and reads the conversation through B. An agent's internal note and
 * reply draft saved through A reach B's stream too, and B's conversation says who is replying
 * (read from the draft, nothing kept in A's memory). SIGTERM to B with the stream open ends the
 * stream and the process promptly.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordAccountBody } from '../../bench/helpers/password-account.js';
import { CONTOSO, startTestEmulator, type TestEmulator } from '../emulator/helpers/emulator.js';
import { spawnCli, type RunningCli } from '../helpers/cli.js';
import { setAccountAgents } from '../../src/store/index.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { dataOf, openSse, type SseEvent, type SseStream } from '../helpers/sse-client.js';
import { createPostgresDatabase, type Target } from '../helpers/store.js';

let emulator: TestEmulator;
let target: Target;
let nodeA: TestPostern;
let nodeB: RunningCli;
let urlB = '';
let admin = '';
let accountId = 0;
let interactionId = 0;
let live: SseStream | undefined;

beforeAll(async () => {
  emulator = await startTestEmulator();
  await emulator.control('PUT', '/exchange/settings/basic-auth', { imap: true, smtp: true });
  target = await createPostgresDatabase();
  const secretKey = crypto.randomBytes(32).toString('hex');
  const env = { POSTERN_DATABASE_URL: target.url, POSTERN_SECRET_KEY: secretKey, POSTERN_MAILBOX_LEASE_SECONDS: '3' };
  nodeA = await startTestPostern({ ...env, POSTERN_LOG_LEVEL: 'info' });
  await nodeA.runtime.startRoles(['mailboxSync'], {
    mailboxSync: { tuning: { backoff: { baseMs: 100, maxMs: 1000, needsAdminMinMs: 500 } } },
  });
  admin = (await nodeA.bearer('admin')).authorization;
  nodeB = spawnCli(['start', '--roles', 'web', '--port', '0'], { ...env, POSTERN_DATA_DIR: nodeA.dataDir });
  [, urlB = ''] = await nodeB.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 90_000);
}, 120_000);

afterAll(async () => {
  live?.close();
  if (nodeB !== undefined && nodeB.child.exitCode === null) {
    nodeB.child.kill('SIGKILL');
    await nodeB.exited;
  }
  await nodeA?.close();
  await emulator?.stop();
  await target?.remove();
});

describe('the live stream on several nodes', () => {
  it('tells a stream on node B of the mail node A stored', async () => {
    live = await openSse(`${urlB}/api/stream`, { authorization: admin });
    expect(live.status).toBe(200);
    // The account is created through B; A, which reads the mailboxes, hears of it on the feed.
    const created = await fetch(`${urlB}/api/email/accounts`, {
      method: 'POST',
      headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify({
        ...passwordAccountBody(emulator.handle.urls, CONTOSO.andrea, { name: 'Support', key: 'SUP' }),
        tlsCaPem: emulator.handle.caPem,
      }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    accountId = ((await created.json()) as { id: number }).id;
    await emulator.control('POST', '/exchange/messages', {
      from: 'Dario Customer <dario@customer.example>',
      to: CONTOSO.andrea.upn,
      subject: 'Read on A, shown on B',
      text: 'Hello.',
      messageId: '<live-nodes-1@customer.example>',
    });
    const event = await live.waitFor(
      'the message event on B',
      (each) => each.event === 'message' && dataOf(each).accountId === accountId,
      30_000,
    );
    expect(nodeA.runtime.roles.mailboxSync?.running()).toContain(accountId);
    interactionId = Number(dataOf(event).interactionId);
    const detail = await fetch(`${urlB}/api/interactions/${interactionId}`, {
      headers: { authorization: admin },
    });
    expect(((await detail.json()) as { subject: string }).subject).toBe('Read on A, shown on B');
  });

  it("tells B of an agent's note and reply draft made on A, and B's conversation says who is replying", async () => {
    const stream = live;
    if (stream === undefined) throw new Error('no stream');
    const agent = await nodeA.bearer('agent', 'nodes-agent');
    await setAccountAgents(nodeA.runtime.db, accountId, [agent.userId]);
    const onA = (method: 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
      nodeA.app.inject({
        method,
        url,
        headers: { authorization: agent.authorization },
        ...(payload === undefined ? {} : { payload }),
      });
    const conversationChange = (change: string) => (each: SseEvent) =>
      each.event === 'conversation' && dataOf(each).interactionId === interactionId && dataOf(each).change === change;
    const replyingOnB = async () => {
      const response = await fetch(`${urlB}/api/interactions/${interactionId}`, { headers: { authorization: admin } });
      return ((await response.json()) as { replying: Array<{ userId: number }> }).replying.map((r) => r.userId);
    };

    const noted = await onA('POST', `/api/interactions/${interactionId}/notes`, { body: 'Seen on every node' });
    expect(noted.statusCode, noted.body).toBe(201);
    await stream.waitFor('the note event on B', conversationChange('note'), 30_000);

    const saved = await onA('PUT', `/api/interactions/${interactionId}/draft`, {
      text: 'Hello Dario',
      replyAll: false,
      recipients: null,
    });
    expect(saved.statusCode, saved.body).toBe(200);
    await stream.waitFor('the replying event on B', conversationChange('replying'), 30_000);
    expect(await replyingOnB()).toEqual([agent.userId]);

    const seenBefore = stream.events.filter(conversationChange('replying')).length;
    expect((await onA('DELETE', `/api/interactions/${interactionId}/draft`)).statusCode).toBe(204);
    await expect
      .poll(() => stream.events.filter(conversationChange('replying')).length, { timeout: 30_000 })
      .toBe(seenBefore + 1);
    expect(await replyingOnB()).toEqual([]);
  });

  it('ends the open stream when node B is stopped (SIGTERM), and B exits promptly', async () => {
    const stream = live;
    if (stream === undefined) throw new Error('no stream');
    const started = Date.now();
    nodeB.child.kill('SIGTERM');
    await stream.ended;
    expect(await nodeB.exited).toBe(0);
    // Well under the shutdown grace: nothing waited for the stream (the bound is loose for a loaded machine).
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});
