/**
 * Issue 17 end to end: two Postern nodes (full runtimes from the composition root) on one
 * PostgreSQL database and one emulator. Each mailbox is read by exactly one node (the emulator's
 * per-mailbox IMAP session counts), the mailboxes are spread within one of even, an account
 * created on one node is read at once (the change feed, not the reconcile), and a node that stops (what SIGTERM runs:
 * `runtime.close()`) hands its mailboxes to the other within a few seconds.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordAccountBody } from '../../bench/helpers/password-account.js';
import { CONTOSO, startTestEmulator, type TestEmulator } from '../emulator/helpers/emulator.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { createPostgresDatabase, type Target } from '../helpers/store.js';
import { until } from '../helpers/until.js';

const USERS = [CONTOSO.andrea, CONTOSO.marco, CONTOSO.giulia, CONTOSO.luca];
let emulator: TestEmulator;
let target: Target;
const secretKey = crypto.randomBytes(32).toString('hex');
const nodes: TestPostern[] = [];
let admin: string;

async function startNode(): Promise<TestPostern> {
  const node = await startTestPostern({
    POSTERN_DATABASE_URL: target.url,
    POSTERN_SECRET_KEY: secretKey,
    POSTERN_MAILBOX_LEASE_SECONDS: '3',
    POSTERN_LOG_LEVEL: 'info',
  });
  nodes.push(node);
  await node.runtime.startRoles(['mailboxSync'], {
    mailboxSync: {
      reconcileIntervalMs: 60_000,
      tuning: { backoff: { baseMs: 100, maxMs: 1000, needsAdminMinMs: 500 } },
    },
  });
  return node;
}

/** IMAP sessions the emulator has open on a mailbox. */
async function sessions(upn: string): Promise<number> {
  const status = (await emulator.control('GET', `/exchange/status?mailbox=${encodeURIComponent(upn)}`)) as {
    imapConnections: number;
  };
  return status.imapConnections;
}

/** Sessions per mailbox; fails at once if any mailbox has two (a second reader). */
async function sessionCounts(upns: readonly string[]): Promise<number[]> {
  const counts = await Promise.all(upns.map(sessions));
  expect(Math.max(...counts)).toBeLessThanOrEqual(1);
  return counts;
}

function held(node: TestPostern): number {
  return node.runtime.roles.mailboxSync?.leased().length ?? 0;
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  await emulator.control('PUT', '/exchange/settings/basic-auth', { imap: true, smtp: true });
  // The seed's Luca has left the company (his account disabled); this test needs a fourth mailbox.
  await emulator.control('PATCH', `/users/${CONTOSO.luca.id}`, { disabled: false });
  target = await createPostgresDatabase();
  const first = await startNode();
  await startNode();
  admin = (await first.bearer('admin')).authorization;
}, 120_000);

afterAll(async () => {
  for (const node of nodes) await node.close().catch(() => undefined);
  await emulator?.stop();
  await target?.remove();
});

async function createAccount(on: TestPostern, user: (typeof USERS)[number], key: string): Promise<number> {
  const response = await on.app.inject({
    method: 'POST',
    url: '/api/email/accounts',
    headers: { authorization: admin },
    payload: {
      ...passwordAccountBody(emulator.handle.urls, user, { name: `Mailbox ${key}`, key }),
      tlsCaPem: emulator.handle.caPem,
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: number }>().id;
}

describe('two nodes on one PostgreSQL', () => {
  it('reads each mailbox on exactly one node, spread evenly, and shows the nodes', async () => {
    const [a, b] = nodes as [TestPostern, TestPostern];
    const ids: number[] = [];
    for (const [index, user] of USERS.slice(0, 3).entries()) ids.push(await createAccount(a, user, `M${index}`));
    const upns = USERS.slice(0, 3).map((user) => user.upn);
    await until(
      'every mailbox read once',
      async () => ((await sessionCounts(upns)).every((count) => count === 1) ? true : undefined),
      30_000,
    );
    await until('the leases settled', () => (held(a) + held(b) === 3 ? true : undefined), 10_000);
    expect(Math.abs(held(a) - held(b))).toBeLessThanOrEqual(1);

    // An account created on B is read by some node without a restart, long before the 60 s reconcile
    // (the change feed; quiet, within a second — the bound leaves room for a loaded machine).
    await createAccount(b, CONTOSO.luca, 'M3');
    await until(
      'the new mailbox read',
      async () => ((await sessions(CONTOSO.luca.upn)) === 1 ? true : undefined),
      15_000,
    );
    const all = USERS.map((user) => user.upn);
    await until('four leases, two each', () => (held(a) === 2 && held(b) === 2 ? true : undefined), 10_000);
    expect(await sessionCounts(all)).toEqual([1, 1, 1, 1]);

    const view = await a.app.inject({ method: 'GET', url: '/api/system/nodes', headers: { authorization: admin } });
    expect(view.statusCode, view.body).toBe(200);
    const items = view.json<{
      items: Array<{ state: string; mailboxesHeld: number; roles: string[]; self: boolean }>;
    }>().items;
    expect(items).toHaveLength(2);
    expect(items.map((item) => item.state)).toEqual(['running', 'running']);
    expect(items.map((item) => item.mailboxesHeld).sort()).toEqual([2, 2]);
    expect(items.filter((item) => item.self)).toHaveLength(1);
    expect(items[0]?.roles).toContain('mailboxSync');
    // Disabled through B, whichever node reads it closes the mailbox at once; enabled again, it is read again.
    const toggle = (action: 'disable' | 'enable') =>
      b.app.inject({
        method: 'POST',
        url: `/api/email/accounts/${ids[0]}/${action}`,
        headers: { authorization: admin },
      });
    expect((await toggle('disable')).statusCode).toBe(200);
    await until(
      'the disabled mailbox closed',
      async () => ((await sessions(CONTOSO.andrea.upn)) === 0 ? true : undefined),
      15_000,
    );
    expect((await toggle('enable')).statusCode).toBe(200);
    await until(
      'the enabled mailbox read again',
      async () => ((await sessionCounts(all)).every((count) => count === 1) ? true : undefined),
      15_000,
    );

    const agent = (await a.bearer('agent')).authorization;
    const refused = await a.app.inject({ method: 'GET', url: '/api/system/nodes', headers: { authorization: agent } });
    expect(refused.statusCode).toBe(403);
  });

  it('moves the mailboxes of a node that stops to the other within a few seconds', async () => {
    const [a, b] = nodes as [TestPostern, TestPostern];
    const all = USERS.map((user) => user.upn);
    await b.close();
    await until(
      'A reads every mailbox',
      async () => {
        const counts = await sessionCounts(all);
        return held(a) === 4 && counts.every((count) => count === 1) ? true : undefined;
      },
      15_000,
    );
    const view = await a.app.inject({ method: 'GET', url: '/api/system/nodes', headers: { authorization: admin } });
    const items = view.json<{ items: Array<{ state: string; mailboxesHeld: number; self: boolean }> }>().items;
    expect(items.find((item) => !item.self)).toMatchObject({ state: 'stopped', mailboxesHeld: 0 });
    expect(items.find((item) => item.self)).toMatchObject({ state: 'running', mailboxesHeld: 4 });
  });
});
