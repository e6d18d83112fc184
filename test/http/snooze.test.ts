/**
 * Snooze through app.inject(), with the worker role's wake-up running: a conversation snoozed
 * until a time leaves the Open list (snoozed=hide) for the Snoozed one (snoozed=only), is refused
 * for a past or too distant time, a malformed one or a closed conversation, is hidden from an
 * agent without the account, and comes back by itself when its time comes — the live stream's
 * source told once — or at once when unsnoozed.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InteractionChange } from '../../src/services/inbox/interaction-service.js';
import { setAccountAgents, type EmailAccountRecord } from '../../src/store/index.js';
import { buildAccount, buildMessage } from '../ingest/helpers.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { ingestNew } from '../helpers/store-factories.js';
import { until } from '../helpers/until.js';

let postern: TestPostern;
let app: FastifyInstance;
let ada: { authorization: string; userId: number };
let outsider: { authorization: string; userId: number };
let support: EmailAccountRecord;
let now = new Date('2026-03-02T09:00:00.000Z');
const changes: InteractionChange[] = [];

const send = (method: 'GET' | 'POST', url: string, authorization: string, payload?: object) =>
  app.inject({ method, url, headers: { authorization }, ...(payload === undefined ? {} : { payload }) });

const listIds = async (filter: string): Promise<number[]> => {
  const reply = await send('GET', `/api/email/accounts/${support.id}/interactions?${filter}`, ada.authorization);
  expect(reply.statusCode, reply.body).toBe(200);
  return reply.json().items.map((item: { id: number }) => item.id);
};

const newConversation = async (uid: number): Promise<number> =>
  (
    await ingestNew(
      postern.runtime.db,
      support,
      buildMessage({ from: `Customer ${uid} <c${uid}@example.org>`, subject: `Question ${uid}` }),
      uid,
    )
  ).interactionId;

beforeAll(async () => {
  postern = await startTestPostern({}, { clock: () => now });
  app = postern.app;
  await postern.runtime.startRoles(['snoozeWake'], { snoozeWake: { intervalMs: 50 } });
  postern.runtime.services.interactions.changes.on('changed', (change) => changes.push(change));
  ada = await postern.bearer('agent');
  outsider = await postern.bearer('agent');
  support = await buildAccount(postern.runtime.db);
  await setAccountAgents(postern.runtime.db, support.id, [ada.userId]);
});
afterAll(async () => {
  await postern.close();
});

describe('snooze', () => {
  it('moves a conversation from the Open list to the Snoozed one, and back when unsnoozed', async () => {
    const id = await newConversation(1);
    const snoozed = await send('POST', `/api/interactions/${id}/snooze`, ada.authorization, {
      until: '2026-03-03T08:00:00+01:00',
    });
    expect(snoozed.statusCode, snoozed.body).toBe(200);
    expect(snoozed.json()).toMatchObject({ id, status: 'open', snoozedUntil: '2026-03-03T07:00:00.000Z' });
    expect(await listIds('status=open&snoozed=hide')).not.toContain(id);
    expect(await listIds('status=open&snoozed=only')).toContain(id);
    expect(await listIds('status=open')).toContain(id);
    const detail = (await send('GET', `/api/interactions/${id}`, ada.authorization)).json();
    expect(detail.snoozedUntil).toBe('2026-03-03T07:00:00.000Z');

    const woken = await send('POST', `/api/interactions/${id}/snooze`, ada.authorization, { until: null });
    expect(woken.statusCode, woken.body).toBe(200);
    expect(woken.json().snoozedUntil).toBeNull();
    expect(await listIds('status=open&snoozed=hide')).toContain(id);
    expect(await listIds('status=open&snoozed=only')).not.toContain(id);
  });

  it('refuses a time past or too far, a malformed one, a closed conversation, and an agent without the account', async () => {
    const id = await newConversation(2);
    const at = async (untilText: unknown, who = ada.authorization) =>
      send('POST', `/api/interactions/${id}/snooze`, who, { until: untilText });

    const past = await at('2026-03-02T08:59:00Z');
    expect(past.statusCode).toBe(400);
    expect(past.json().error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { fields: [{ field: 'until', problem: 'is not in the future' }] },
    });
    const far = await at('2027-03-04T09:00:00Z');
    expect(far.statusCode).toBe(400);
    expect(far.json().error.details.fields[0]).toEqual({ field: 'until', problem: 'is more than 366 days ahead' });
    for (const malformed of ['tomorrow', '2026-03-03 08:00', 42]) {
      const reply = await at(malformed);
      expect(reply.statusCode, String(malformed)).toBe(400);
      expect(reply.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect((await at('2026-03-03T08:00:00Z', outsider.authorization)).statusCode).toBe(404);

    expect((await send('POST', `/api/interactions/${id}/close`, ada.authorization)).statusCode).toBe(200);
    const closed = await at('2026-03-03T08:00:00Z');
    expect(closed.statusCode).toBe(409);
    expect(closed.json().error).toMatchObject({
      code: 'INTERACTION_NOT_OPEN',
      remedy: expect.stringContaining('Reopen'),
    });
  });

  it('brings the conversation back by itself when its time comes, telling the live stream once', async () => {
    const id = await newConversation(3);
    const snoozed = await send('POST', `/api/interactions/${id}/snooze`, ada.authorization, {
      until: '2026-03-02T10:00:00Z',
    });
    expect(snoozed.statusCode, snoozed.body).toBe(200);
    changes.length = 0;
    // The worker sweeps every 50 ms: nothing is due yet.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(changes).toEqual([]);
    expect(await listIds('status=open&snoozed=only')).toContain(id);

    now = new Date('2026-03-02T10:00:01.000Z');
    await until('the wake-up ended the snooze', async () =>
      changes.some((change) => change.interactionId === id) ? true : undefined,
    );
    expect(changes).toEqual([{ accountId: support.id, interactionId: id, change: 'snooze' }]);
    const detail = (await send('GET', `/api/interactions/${id}`, ada.authorization)).json();
    expect(detail.snoozedUntil).toBeNull();
    expect(await listIds('status=open&snoozed=hide')).toContain(id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(changes).toHaveLength(1);
  });
});
