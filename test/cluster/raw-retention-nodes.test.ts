/**
 * Issue 19, point 5 on several nodes: two Postern runtimes on one PostgreSQL database, both with
 * the retention of originals running every 100 ms. Exactly one of them sweeps (one log line of
 * removed originals in all, the other node says another node sweeps), and when that node stops
 * cleanly the other takes the claim over at once.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getMessage, sweepHolder, updateEmailAccount } from '../../src/store/index.js';
import { buildAccount, buildMessage } from '../ingest/helpers.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { ingestNew } from '../helpers/store-factories.js';
import { createPostgresDatabase, type Target } from '../helpers/store.js';
import { until } from '../helpers/until.js';

const DAY = 86_400_000;
const START = new Date('2026-04-01T06:00:00.000Z');
let now = START;
let target: Target;
const nodes: TestPostern[] = [];

beforeAll(async () => {
  target = await createPostgresDatabase();
  const env = { POSTERN_DATABASE_URL: target.url, POSTERN_SECRET_KEY: crypto.randomBytes(32).toString('hex') };
  for (let i = 0; i < 2; i += 1) nodes.push(await startTestPostern(env, { clock: () => now }));
}, 60_000);
afterAll(async () => {
  for (const node of nodes) await node.close().catch(() => undefined);
  await target?.remove();
});

const removedLines = (node: TestPostern): number =>
  node
    .logText()
    .split('\n')
    .filter((line) => line.includes('"component":"raw-retention"') && line.includes('originals removed')).length;

describe('retention of originals on two nodes', () => {
  it('sweeps on one node at a time, and hands the claim over on a clean stop', async () => {
    const [first, second] = nodes;
    if (first === undefined || second === undefined) throw new Error('two nodes');
    const db = first.runtime.db;
    const account = await updateEmailAccount(db, (await buildAccount(db)).id, { rawRetentionDays: 1 });
    const stored: Array<{ messageRowId: number }> = [];
    for (let uid = 1; uid <= 3; uid += 1) stored.push(await ingestNew(db, account, buildMessage(), uid));
    now = new Date(START.getTime() + 2 * DAY);

    for (const node of nodes)
      await node.runtime.startRoles(['rawRetention'], { rawRetention: { intervalMs: 100, firstDelayMs: 0 } });
    await until('the three originals are removed', async () => {
      for (const result of stored)
        if ((await getMessage(db, result.messageRowId))?.originalRemovedAt == null) return undefined;
      return true;
    });
    // Several more rounds on both nodes.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const holder = await sweepHolder(db, 'raw-retention');
    const sweeper = nodes.find((node) => node.runtime.services.cluster.nodeId === holder?.nodeId);
    const other = nodes.find((node) => node !== sweeper);
    if (sweeper === undefined || other === undefined)
      throw new Error(`no node holds the claim: ${String(holder?.nodeId)}`);
    expect(removedLines(sweeper)).toBe(1);
    expect(removedLines(other)).toBe(0);
    expect(other.logText()).toContain('another node sweeps the originals');
    expect(other.logText()).not.toContain('no original due for removal');

    await sweeper.close();
    nodes.splice(nodes.indexOf(sweeper), 1);
    await until('the other node holds the claim', async () =>
      (await sweepHolder(other.runtime.db, 'raw-retention'))?.nodeId === other.runtime.services.cluster.nodeId
        ? true
        : undefined,
    );
  }, 60_000);
});
