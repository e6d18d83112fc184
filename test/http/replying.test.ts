/**
 * "Who is replying" through app.inject(): a colleague's draft shows in the conversation as
 * `replying` (name, how long it holds), never the viewer's own; it goes when the draft is
 * discarded, when the reply is sent, and when it is stale (no save for two minutes, on a moved
 * clock). The live stream is told when a draft starts, once per 30 s while it is saved, and when it
 * is discarded — not at every save.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterChange } from '../../src/services/cluster/change-feed.js';
import { setAccountAgents, type EmailAccountRecord } from '../../src/store/index.js';
import { buildAccount, buildMessage } from '../ingest/helpers.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { ingestNew } from '../helpers/store-factories.js';

let postern: TestPostern;
let app: FastifyInstance;
let ada: { authorization: string; userId: number };
let bruno: { authorization: string; userId: number };
let support: EmailAccountRecord;
let now = new Date('2026-03-02T09:00:00.000Z');
const told: ClusterChange[] = [];

const send = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, authorization: string, payload?: object) =>
  app.inject({ method, url, headers: { authorization }, ...(payload === undefined ? {} : { payload }) });
const draft = (id: number, who: { authorization: string }, text: string) =>
  send('PUT', `/api/interactions/${id}/draft`, who.authorization, { text, replyAll: false, recipients: null });
const replying = async (id: number, who: { authorization: string }) => {
  const response = await send('GET', `/api/interactions/${id}`, who.authorization);
  expect(response.statusCode, response.body).toBe(200);
  return response.json().replying as Array<{ userId: number; displayName: string; expiresInMs: number }>;
};
const replyingChanges = (id: number) =>
  told.filter((c) => c.kind === 'conversation' && c.id === id && c.change === 'replying').length;

async function newConversation(subject: string): Promise<number> {
  const made = await ingestNew(
    postern.runtime.db,
    support,
    buildMessage({ from: 'Ada Lovelace <ada@example.org>', subject }),
    Math.floor(Math.random() * 1_000_000) + 10,
  );
  if (made.interactionId === null) throw new Error('no conversation');
  return made.interactionId;
}

beforeAll(async () => {
  postern = await startTestPostern({}, { clock: () => now });
  app = postern.app;
  ada = await postern.bearer('agent', 'ada');
  bruno = await postern.bearer('agent', 'bruno');
  support = await buildAccount(postern.runtime.db);
  await setAccountAgents(postern.runtime.db, support.id, [ada.userId, bruno.userId]);
  postern.runtime.services.changes.subscribe((change) => told.push(change));
});
afterAll(async () => {
  await postern.close();
});

describe('who is replying', () => {
  it("shows a colleague's fresh draft to the others, not to its author, until it is discarded", async () => {
    const id = await newConversation('Replying shown');
    expect(await replying(id, bruno)).toEqual([]);
    expect((await draft(id, ada, 'Dear Ada,')).statusCode).toBe(200);
    expect(replyingChanges(id)).toBe(1);

    const seen = await replying(id, bruno);
    expect(seen).toEqual([{ userId: ada.userId, displayName: expect.any(String), expiresInMs: 120_000 }]);
    expect(seen[0]?.displayName).not.toBe('');
    expect(await replying(id, ada)).toEqual([]);

    expect((await send('DELETE', `/api/interactions/${id}/draft`, ada.authorization)).statusCode).toBe(204);
    expect(replyingChanges(id)).toBe(2);
    expect(await replying(id, bruno)).toEqual([]);
    // Discarding nothing tells nobody.
    expect((await send('DELETE', `/api/interactions/${id}/draft`, ada.authorization)).statusCode).toBe(204);
    expect(replyingChanges(id)).toBe(2);
  });

  it('tells the live stream when a draft starts and once per 30 s of typing, not at each save', async () => {
    const id = await newConversation('Replying throttled');
    now = new Date(Math.ceil(now.getTime() / 30_000) * 30_000);
    for (const text of ['D', 'De', 'Dea', 'Dear']) {
      expect((await draft(id, ada, text)).statusCode).toBe(200);
      now = new Date(now.getTime() + 5_000);
    }
    expect(replyingChanges(id)).toBe(1);
    // The first save of the next 30 s period is told, so that the indicator never lapses.
    now = new Date(now.getTime() + 10_000);
    await draft(id, ada, 'Dear A');
    expect(replyingChanges(id)).toBe(2);
    const [entry] = await replying(id, bruno);
    expect(entry?.expiresInMs).toBe(120_000);
  });

  it('goes stale two minutes after the last save', async () => {
    const id = await newConversation('Replying stale');
    await draft(id, ada, 'Dear Ada,');
    now = new Date(now.getTime() + 119_000);
    expect((await replying(id, bruno)).map((r) => r.expiresInMs)).toEqual([1_000]);
    now = new Date(now.getTime() + 2_000);
    expect(await replying(id, bruno)).toEqual([]);
    // Typing again after a pause is a new start: told at once.
    const before = replyingChanges(id);
    await draft(id, ada, 'Dear Ada, sorry');
    expect(replyingChanges(id)).toBe(before + 1);
    expect(await replying(id, bruno)).toHaveLength(1);
  });

  it('goes when the reply is sent', async () => {
    const id = await newConversation('Replying sent');
    await draft(id, ada, 'All fixed.');
    expect(await replying(id, bruno)).toHaveLength(1);
    const sent = await app.inject({
      method: 'POST',
      url: `/api/interactions/${id}/reply`,
      headers: { authorization: ada.authorization, 'idempotency-key': `replying-${id}` },
      payload: { text: 'All fixed.' },
    });
    expect(sent.statusCode, sent.body).toBe(202);
    expect(await replying(id, bruno)).toEqual([]);
    const delivery = told.filter((c) => c.kind === 'delivery' && c.interactionId === id);
    expect(delivery.length).toBeGreaterThan(0);
  });
});
