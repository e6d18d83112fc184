/**
 * Assignment to named agents through app.inject(): the account's assignees (its agents and the
 * administrators) by name, a transfer to a colleague shown with the owner's name in the list and
 * the conversation (to an administrator too), replying to an unassigned conversation assigns it
 * to the replier, "Send and close" closes it, and an agent of another account gets 404.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setAccountAgents, updateUser, type EmailAccountRecord } from '../../src/store/index.js';
import { buildAccount, buildMessage } from '../ingest/helpers.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { ingestNew } from '../helpers/store-factories.js';

let postern: TestPostern;
let app: FastifyInstance;
let admin: string;
let agent: { authorization: string; userId: number };
let colleague: { authorization: string; userId: number };
let outsider: { authorization: string; userId: number };
let support: EmailAccountRecord;
let uid = 0;

const call = (method: 'GET' | 'POST', url: string, authorization: string, payload?: object) =>
  app.inject({ method, url, headers: { authorization }, ...(payload === undefined ? {} : { payload }) });

async function conversation(subject: string): Promise<number> {
  uid += 1;
  return (await ingestNew(postern.runtime.db, support, buildMessage({ subject, from: 'ada@example.org' }), uid))
    .interactionId;
}

beforeAll(async () => {
  postern = await startTestPostern();
  app = postern.app;
  admin = (await postern.bearer('admin')).authorization;
  agent = await postern.bearer('agent');
  colleague = await postern.bearer('agent');
  outsider = await postern.bearer('agent');
  await updateUser(postern.runtime.db, colleague.userId, { displayName: 'Bruno Colleague' });
  support = await buildAccount(postern.runtime.db);
  await setAccountAgents(postern.runtime.db, support.id, [agent.userId, colleague.userId]);
});
afterAll(async () => postern.close());

describe('assignment to a named agent', () => {
  it("lists the account's agents and the administrators, not agents of other accounts", async () => {
    const listed = await call('GET', `/api/email/accounts/${support.id}/assignees`, agent.authorization);
    expect(listed.statusCode, listed.body).toBe(200);
    const ids = listed.json<{ items: Array<{ id: number; displayName: string; role: string }> }>().items;
    expect(ids.map((a) => a.id)).toEqual(expect.arrayContaining([agent.userId, colleague.userId]));
    expect(ids.map((a) => a.id)).not.toContain(outsider.userId);
    expect(ids.find((a) => a.id === colleague.userId)?.displayName).toBe('Bruno Colleague');
    expect(ids.some((a) => a.role === 'admin')).toBe(true);
  });

  it('transfers to a colleague, whose name the list and the conversation show, to an administrator too', async () => {
    const id = await conversation('Transfer me');
    const moved = await call('POST', `/api/interactions/${id}/assign`, agent.authorization, {
      userId: colleague.userId,
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ assignedUserId: colleague.userId, assignedUserName: 'Bruno Colleague' });
    const detail = (await call('GET', `/api/interactions/${id}`, admin)).json();
    expect(detail.assignedUserName).toBe('Bruno Colleague');
    const list = (await call('GET', `/api/email/accounts/${support.id}/interactions`, admin)).json();
    expect(list.items.find((i: { id: number }) => i.id === id).assignedUserName).toBe('Bruno Colleague');
  });

  it('refuses to assign an agent of another account', async () => {
    const id = await conversation('Not to outsiders');
    const refused = await call('POST', `/api/interactions/${id}/assign`, agent.authorization, {
      userId: outsider.userId,
    });
    expect(refused.statusCode).toBe(400);
  });

  it('assigns an unassigned conversation to whoever replies, and leaves an assigned one to its owner', async () => {
    const id = await conversation('Reply assigns');
    const replied = await call('POST', `/api/interactions/${id}/reply`, agent.authorization, { text: 'On it.' });
    expect(replied.statusCode, replied.body).toBe(202);
    expect((await call('GET', `/api/interactions/${id}`, admin)).json().assignedUserId).toBe(agent.userId);
    const second = await call('POST', `/api/interactions/${id}/reply`, colleague.authorization, { text: 'Me too.' });
    const detail = (await call('GET', `/api/interactions/${id}`, admin)).json();
    expect(detail.assignedUserId).toBe(agent.userId);

    // Each reply names the agent who wrote it, in the conversation and alone; the customer's message none.
    const authors = (
      detail.messages as { direction: string; authorUserId: number | null; authorName: string | null }[]
    ).map((m) => [m.direction, m.authorUserId, m.authorName]);
    const agentName = (await call('GET', `/api/interactions/${id}`, agent.authorization)).json().assignedUserName;
    expect(authors).toEqual([
      ['in', null, null],
      ['out', agent.userId, agentName],
      ['out', colleague.userId, 'Bruno Colleague'],
    ]);
    const alone = (await call('GET', `/api/messages/${second.json().id}`, admin)).json();
    expect([alone.authorUserId, alone.authorName]).toEqual([colleague.userId, 'Bruno Colleague']);
  });

  it('closes the conversation on "Send and close"', async () => {
    const id = await conversation('Send and close');
    const replied = await call('POST', `/api/interactions/${id}/reply`, agent.authorization, {
      text: 'Done.',
      close: true,
    });
    expect(replied.statusCode, replied.body).toBe(202);
    expect((await call('GET', `/api/interactions/${id}`, admin)).json()).toMatchObject({
      status: 'closed',
      assignedUserId: agent.userId,
    });
  });

  it('answers 404 to an agent of another account', async () => {
    const id = await conversation('Hidden');
    expect((await call('GET', `/api/email/accounts/${support.id}/assignees`, outsider.authorization)).statusCode).toBe(
      404,
    );
    const assign = await call('POST', `/api/interactions/${id}/assign`, outsider.authorization, {
      userId: outsider.userId,
    });
    expect(assign.statusCode).toBe(404);
    expect((await call('GET', `/api/interactions/${id}`, admin)).json().assignedUserId).toBeNull();
  });
});
