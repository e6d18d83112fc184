/**
 * The live stream (`GET /api/stream`) on a real, listening Postern reading two mailboxes of the
 * emulator: mail delivered through the emulator reaches the stream as a `message` note (ids only,
 * never content); an agent hears only the accounts assigned to them; a reconnect with
 * Last-Event-ID is replayed what it missed and an unknown id gets `resync`; heartbeats come; an
 * action on a conversation, a reply's delivery states and a contact merge are told; the caller's streams are capped;
 * nobody unauthenticated gets in; and closing the server ends the open streams at once.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordAccountBody, type MailboxUser } from '../../bench/helpers/password-account.js';
import { openRuntime, type Runtime } from '../../src/cli/runtime.js';
import { CONTOSO, startTestEmulator, type TestEmulator } from '../emulator/helpers/emulator.js';
import { dataOf, openSse, type SseEvent, type SseStream } from '../helpers/sse-client.js';

let emulator: TestEmulator;
let runtime: Runtime;
let dataDir: string;
let url: string;
let admin: string;
let agent: string;
/** Assigned to the agent. */
let assignedId = 0;
/** Not assigned to the agent. */
let otherId = 0;
const streams: SseStream[] = [];
let serial = 0;

let carlaId = 0;

async function bearer(role: 'admin' | 'agent', username: string): Promise<string> {
  const user = await runtime.services.users.create({ username, role, password: 'a long enough password' });
  if (username === 'carla') carlaId = user.id;
  return `Bearer ${(await runtime.services.tokens.create(user.id, 'test')).token}`;
}

async function api<T>(method: string, route: string, body?: object): Promise<T> {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: admin, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route} → ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

async function stream(authorization: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const opened = await openSse(`${url}/api/stream`, { ...(authorization === '' ? {} : { authorization }), ...headers });
  streams.push(opened);
  return opened;
}

/** Delivers a customer mail to `to` through the emulator; returns its subject. */
async function deliver(to: string): Promise<string> {
  serial += 1;
  const subject = `Live question ${serial} ${crypto.randomBytes(3).toString('hex')}`;
  await emulator.control('POST', '/exchange/messages', {
    from: 'Dario Customer <dario@customer.example>',
    to,
    subject,
    text: `Question number ${serial}.`,
    messageId: `<live-${serial}-${subject.slice(-6)}@customer.example>`,
  });
  return subject;
}

/** The sequence number of an event id (`<boot>-<n>`). */
function seqOf(event: SseEvent): number {
  const id = event.id ?? '';
  return Number(id.slice(id.lastIndexOf('-') + 1));
}

const messageOf =
  (accountId: number, after = 0) =>
  (event: SseEvent): boolean =>
    event.event === 'message' && dataOf(event).accountId === accountId && Number(dataOf(event).messageId) > after;

beforeAll(async () => {
  emulator = await startTestEmulator();
  await emulator.control('PUT', '/exchange/settings/basic-auth', { imap: true, smtp: true });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-live-'));
  runtime = await openRuntime({
    cwd: dataDir,
    env: {
      POSTERN_DATA_DIR: dataDir,
      POSTERN_HOST: '127.0.0.1',
      POSTERN_PORT: '0',
      POSTERN_LOG_CONSOLE: 'false',
      POSTERN_LOG_LEVEL: 'info',
    },
  });
  const roles = await runtime.startRoles(['outboxDispatch', 'mailboxSync', 'web'], {
    web: { streamHeartbeatMs: 250 },
    mailboxSync: { tuning: { backoff: { baseMs: 100, maxMs: 1000, needsAdminMinMs: 500 } } },
    print: () => undefined,
  });
  url = roles.web?.url ?? '';
  admin = await bearer('admin', 'ops');
  agent = await bearer('agent', 'carla');
  const create = async (user: MailboxUser, key: string, agentIds: number[]): Promise<number> =>
    (
      await api<{ id: number }>('POST', '/api/email/accounts', {
        ...passwordAccountBody(emulator.handle.urls, user, { name: `Mailbox ${key}`, key }),
        tlsCaPem: emulator.handle.caPem,
        agentIds,
      })
    ).id;
  assignedId = await create(CONTOSO.andrea, 'SUP', [carlaId]);
  otherId = await create(CONTOSO.marco, 'OTH', []);
}, 60_000);

afterAll(async () => {
  for (const opened of streams) opened.close();
  await runtime?.close();
  await emulator?.stop();
  if (dataDir !== undefined) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('GET /api/stream', () => {
  it('refuses a caller without a session or token (401, the catalogue error)', async () => {
    const response = await fetch(`${url}/api/stream`, { headers: { accept: 'text/event-stream' } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('AUTH_REQUIRED');
  });

  it('is described in the OpenAPI document', async () => {
    const docs = (await (await fetch(`${url}/api/docs`)).json()) as {
      paths: Record<string, { get?: { description?: string } }>;
    };
    expect(docs.paths['/api/stream']?.get?.description).toContain('Last-Event-ID');
  });

  it('tells of mail delivered through the emulator: a note with ids, never its content', async () => {
    const live = await stream(admin);
    expect(live.status).toBe(200);
    expect(live.contentType).toBe('text/event-stream; charset=utf-8');
    const subject = await deliver(CONTOSO.andrea.upn);
    const event = await live.waitFor('the message event', messageOf(assignedId));
    const data = dataOf(event);
    expect(Object.keys(data).sort()).toEqual(['accountId', 'interactionId', 'kind', 'messageId']);
    expect(data.kind).toBe('message');
    expect(event.id).toMatch(/^[\w-]+-\d+$/);
    expect(event.data).not.toContain(subject);
    // The note names what the API then shows.
    const detail = await api<{ subject: string; messages: Array<{ id: number }> }>(
      'GET',
      `/api/interactions/${Number(data.interactionId)}`,
    );
    expect(detail.subject).toBe(subject);
    expect(detail.messages.map((message) => message.id)).toContain(data.messageId);
  });

  it('gives an agent only the events of the accounts assigned to them; an administrator all', async () => {
    const mine = await stream(agent);
    const all = await stream(admin);
    await deliver(CONTOSO.marco.upn);
    await deliver(CONTOSO.andrea.upn);
    const other = await all.waitFor('the other account’s message', messageOf(otherId));
    await all.waitFor('the assigned account’s message', messageOf(assignedId));
    const assigned = await mine.waitFor('the assigned account’s message', messageOf(assignedId));
    // One stream gets its events in order: once the agent has one numbered after the other
    // account's, that one would have come before it, had it been sent. It is the next message's
    // own event that is awaited — the one above may be numbered after the other account's too —
    // so that no message of this test is still on its way when the next test starts.
    await deliver(CONTOSO.andrea.upn);
    await mine.waitFor(
      'the next message',
      (event) => messageOf(assignedId, Number(dataOf(assigned).messageId))(event) && seqOf(event) > seqOf(other),
    );
    expect(mine.events.map((event) => dataOf(event).accountId)).not.toContain(otherId);
  });

  it('replays what a reconnect missed (Last-Event-ID), and sends resync for an unknown id', async () => {
    const first = await stream(admin);
    const subject = await deliver(CONTOSO.andrea.upn);
    const seen = await first.waitFor('a message', messageOf(assignedId));
    first.close();
    const watcher = await stream(admin);
    const after = Number(dataOf(seen).messageId);
    await deliver(CONTOSO.andrea.upn);
    await deliver(CONTOSO.andrea.upn);
    await watcher.waitFor('two more messages', (event) =>
      watcher.events.filter(messageOf(assignedId, after)).length >= 2 ? event === watcher.events.at(-1) : false,
    );
    expect(subject).not.toBe('');

    const resumed = await stream(admin, { 'last-event-id': seen.id ?? '' });
    await resumed.waitFor('the replay', () => resumed.events.filter(messageOf(assignedId, after)).length >= 2);
    expect(resumed.events.some((event) => event.event === 'resync')).toBe(false);
    const replayedIds = resumed.events.filter(messageOf(assignedId, after)).map((event) => event.id);
    const liveIds = watcher.events.filter(messageOf(assignedId, after)).map((event) => event.id);
    expect(replayedIds.slice(0, 2)).toEqual(liveIds.slice(0, 2));

    const stranger = await stream(admin, { 'last-event-id': 'another-run-17' });
    const resync = await stranger.waitFor('resync', (event) => event.event === 'resync');
    expect(dataOf(resync)).toEqual({ kind: 'resync' });
    const viaQuery = await openSse(`${url}/api/stream?lastEventId=${encodeURIComponent('x-1')}`, {
      authorization: admin,
    });
    streams.push(viaQuery);
    await viaQuery.waitFor('resync', (event) => event.event === 'resync');
  });

  it('sends heartbeat comments', async () => {
    const live = await stream(agent);
    await live.waitForComments(2, 10_000);
    expect(live.comments.slice(0, 2)).toEqual(['heartbeat', 'heartbeat']);
  });

  it("tells of an action on a conversation and of a reply's delivery states", async () => {
    const live = await stream(agent);
    await deliver(CONTOSO.andrea.upn);
    const message = dataOf(await live.waitFor('a message', messageOf(assignedId)));
    const interactionId = Number(message.interactionId);
    await api('POST', `/api/interactions/${interactionId}/close`);
    const closed = await live.waitFor('the conversation closed', (event) => event.event === 'conversation');
    expect(dataOf(closed)).toEqual({ kind: 'conversation', accountId: assignedId, interactionId, change: 'status' });

    const queued = await api<{ id: number }>('POST', `/api/interactions/${interactionId}/reply`, {
      text: 'We are on it.',
    });
    const delivery = (state: string) => (event: SseEvent) =>
      event.event === 'delivery' && dataOf(event).messageId === queued.id && dataOf(event).state === state;
    await live.waitFor('queued', delivery('queued'));
    await live.waitFor('sending', delivery('sending'));
    const sent = await live.waitFor('sent', delivery('sent'), 30_000);
    expect(dataOf(sent)).toEqual({
      kind: 'delivery',
      accountId: assignedId,
      interactionId,
      messageId: queued.id,
      state: 'sent',
    });
  });

  it('tells of a conversation that changed contact when two contacts were merged', async () => {
    const live = await stream(agent);
    await deliver(CONTOSO.andrea.upn);
    const message = dataOf(await live.waitFor('a message', messageOf(assignedId)));
    const interactionId = Number(message.interactionId);
    const detail = await api<{ contact: { id: number } }>('GET', `/api/interactions/${interactionId}`);
    const sender = await api<{ listId: number }>('GET', `/api/contacts/${detail.contact.id}`);
    const kept = await api<{ id: number }>('POST', '/api/contacts', {
      listId: sender.listId,
      name: `Dario Merged ${serial}`,
      addresses: [`dario.${serial}@elsewhere.example`],
    });
    await api('POST', `/api/contacts/${kept.id}/merge`, { from: detail.contact.id });
    const moved = await live.waitFor(
      'the conversation moved',
      (event) => event.event === 'conversation' && dataOf(event).interactionId === interactionId,
    );
    expect(dataOf(moved)).toEqual({ kind: 'conversation', accountId: assignedId, interactionId, change: 'contact' });
    expect((await api<{ contact: { id: number } }>('GET', `/api/interactions/${interactionId}`)).contact.id).toBe(
      kept.id,
    );
  });

  it('caps the streams of one token, with a clear error, and frees a slot when a stream closes', async () => {
    const capped = await bearer('agent', 'capped');
    const opened: SseStream[] = [];
    for (let index = 0; index < 8; index += 1) opened.push(await stream(capped));
    expect(opened.map((each) => each.status)).toEqual(Array.from({ length: 8 }, () => 200));
    const refused = await fetch(`${url}/api/stream`, { headers: { authorization: capped } });
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as { error: { code: string; message: string; remedy: string } };
    expect(body.error.code).toBe('STREAM_TOO_MANY');
    expect(body.error.message).toContain('already has 8 live streams open');
    expect(body.error.remedy).toContain('Last-Event-ID');
    opened[0]?.close();
    const again = await (async () => {
      for (let attempt = 0; attempt < 100; attempt += 1) {
        const next = await stream(capped);
        if (next.status === 200) return next;
        next.close();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the closed stream never freed its slot');
    })();
    expect(again.status).toBe(200);
  });

  it('ends a stream when its API token is revoked', async () => {
    const user = await runtime.services.users.create({
      username: 'leaver',
      role: 'agent',
      password: 'a long enough password',
    });
    const created = await runtime.services.tokens.create(user.id, 'test');
    const live = await stream(`Bearer ${created.token}`);
    await live.waitForComments(1, 10_000);
    await runtime.services.tokens.revoke(created.record.id);
    await live.ended;
  });

  it("ends a browser session's stream when the session signs out", async () => {
    await runtime.services.users.create({ username: 'dora', role: 'agent', password: 'a long enough password' });
    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'dora', password: 'a long enough password' }),
    });
    expect(login.status).toBe(200);
    const cookies = login.headers.getSetCookie().map((cookie) => cookie.split(';')[0] ?? '');
    const csrf = cookies.find((cookie) => cookie.startsWith('postern_csrf='))?.slice('postern_csrf='.length) ?? '';
    const cookie = cookies.join('; ');
    const live = await stream('', { cookie });
    expect(live.status).toBe(200);
    await live.waitForComments(1, 10_000);
    const logout = await fetch(`${url}/api/auth/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } });
    expect(logout.ok).toBe(true);
    await live.ended;
  });

  it('keeps the streams out of the HTTP request durations (they last as long as the client stays)', async () => {
    const metrics = await fetch(`${url}/metrics`, { headers: { authorization: admin } });
    const text = await metrics.text();
    expect(text).toContain('postern_http_request_duration_seconds_count{');
    expect(text).not.toContain('route="/api/stream"');
  });

  it('ends the open streams when the server closes, so that it stops at once', async () => {
    const live = await stream(admin);
    await live.waitForComments(1, 10_000);
    const started = Date.now();
    await runtime.close();
    await live.ended;
    // Without ending the streams the close would wait for them forever; the bound only keeps a
    // regression from hanging the suite.
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
