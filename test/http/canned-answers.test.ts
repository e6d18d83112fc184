/**
 * Canned answers and signatures through app.inject(): an agent's personal answers are theirs alone
 * (a colleague neither lists nor reads nor changes them: 404); an agent cannot create, change or
 * delete a shared answer (CANNED_ANSWER_SHARED_ADMIN_ONLY), an administrator can, and every agent
 * sees it; the field limits and unknown placeholders; the own signature; what the composer of a
 * conversation inserts, placeholders filled (404 for a conversation of another account).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setAccountAgents, updateEmailAccount, type EmailAccountRecord } from '../../src/store/index.js';
import { buildAccount, buildMessage } from '../ingest/helpers.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { ingestNew } from '../helpers/store-factories.js';

let postern: TestPostern;
let app: FastifyInstance;
let admin: { authorization: string; userId: number };
let ada: { authorization: string; userId: number };
let bruno: { authorization: string; userId: number };
let outsider: { authorization: string; userId: number };
let support: EmailAccountRecord;
let interactionId: number;

const send = (
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  authorization: string,
  payload?: object,
) => app.inject({ method, url, headers: { authorization }, ...(payload === undefined ? {} : { payload }) });

beforeAll(async () => {
  postern = await startTestPostern();
  app = postern.app;
  admin = await postern.bearer('admin');
  ada = await postern.bearer('agent');
  bruno = await postern.bearer('agent');
  outsider = await postern.bearer('agent');
  support = await buildAccount(postern.runtime.db);
  await setAccountAgents(postern.runtime.db, support.id, [ada.userId, bruno.userId]);
  interactionId = (
    await ingestNew(
      postern.runtime.db,
      support,
      buildMessage({ from: 'Ada Lovelace <ada@example.org>', subject: 'Engine broken' }),
      1,
    )
  ).interactionId;
});
afterAll(async () => {
  await postern.close();
});

describe('canned answers', () => {
  it("keeps an agent's personal answers from every colleague", async () => {
    const created = await send('POST', '/api/cannedAnswers', ada.authorization, {
      title: '  Ada’s greeting ',
      body: 'Hello {{contact.firstName}}',
    });
    expect(created.statusCode, created.body).toBe(201);
    const answer = created.json();
    expect(answer).toMatchObject({ title: 'Ada’s greeting', shared: false, ownerUserId: ada.userId });

    const brunoList = (await send('GET', '/api/cannedAnswers', bruno.authorization)).json();
    expect(brunoList.items.map((a: { id: number }) => a.id)).not.toContain(answer.id);
    const adminList = (await send('GET', '/api/cannedAnswers', admin.authorization)).json();
    expect(adminList.items.map((a: { id: number }) => a.id)).not.toContain(answer.id);
    for (const [method, payload] of [['GET'], ['PATCH', { title: 'Mine now' }], ['DELETE']] as const) {
      const attempt = await send(method, `/api/cannedAnswers/${answer.id}`, bruno.authorization, payload);
      expect(attempt.statusCode, `${method} ${attempt.body}`).toBe(404);
      expect(attempt.json().error.code).toBe('RESOURCE_NOT_FOUND');
    }
    const adaList = (await send('GET', '/api/cannedAnswers', ada.authorization)).json();
    expect(adaList.items.map((a: { id: number }) => a.id)).toContain(answer.id);

    const changed = await send('PATCH', `/api/cannedAnswers/${answer.id}`, ada.authorization, { body: 'Hi there' });
    expect(changed.json()).toMatchObject({ title: 'Ada’s greeting', body: 'Hi there' });
    expect((await send('DELETE', `/api/cannedAnswers/${answer.id}`, ada.authorization)).statusCode).toBe(204);
    expect((await send('GET', `/api/cannedAnswers/${answer.id}`, ada.authorization)).statusCode).toBe(404);
  });

  it('lets administrators, not agents, manage shared answers, which every agent sees', async () => {
    const byAgent = await send('POST', '/api/cannedAnswers', ada.authorization, {
      title: 'Team answer',
      body: 'x',
      shared: true,
    });
    expect(byAgent.statusCode).toBe(403);
    expect(byAgent.json().error).toMatchObject({ code: 'CANNED_ANSWER_SHARED_ADMIN_ONLY', remedy: expect.any(String) });

    const byAdmin = await send('POST', '/api/cannedAnswers', admin.authorization, {
      title: 'Team answer',
      body: 'Thanks, {{contact.name}}.',
      shared: true,
    });
    expect(byAdmin.statusCode, byAdmin.body).toBe(201);
    const shared = byAdmin.json();
    expect(shared).toMatchObject({ shared: true, ownerUserId: null });
    for (const agent of [ada, bruno, outsider]) {
      const list = (await send('GET', '/api/cannedAnswers', agent.authorization)).json();
      expect(list.items.map((a: { id: number }) => a.id)).toContain(shared.id);
    }

    for (const [method, payload] of [['PATCH', { body: 'changed' }], ['DELETE']] as const) {
      const attempt = await send(method, `/api/cannedAnswers/${shared.id}`, bruno.authorization, payload);
      expect(attempt.statusCode).toBe(403);
      expect(attempt.json().error.code).toBe('CANNED_ANSWER_SHARED_ADMIN_ONLY');
    }
    const own = (await send('POST', '/api/cannedAnswers', bruno.authorization, { title: 'Mine', body: 'y' })).json();
    const share = await send('PATCH', `/api/cannedAnswers/${own.id}`, bruno.authorization, { shared: true });
    expect(share.json().error.code).toBe('CANNED_ANSWER_SHARED_ADMIN_ONLY');

    const unshared = await send('PATCH', `/api/cannedAnswers/${shared.id}`, admin.authorization, { shared: false });
    expect(unshared.json()).toMatchObject({ shared: false, ownerUserId: admin.userId });
    expect((await send('GET', `/api/cannedAnswers/${shared.id}`, ada.authorization)).statusCode).toBe(404);
    expect((await send('DELETE', `/api/cannedAnswers/${shared.id}`, admin.authorization)).statusCode).toBe(204);
  });

  it('refuses a title or body too long or empty, naming the field, and names unknown placeholders', async () => {
    const long = await send('POST', '/api/cannedAnswers', ada.authorization, { title: 't'.repeat(201), body: 'x' });
    expect(long.statusCode).toBe(400);
    expect(JSON.stringify(long.json().error.details)).toContain('title');
    const longBody = await send('POST', '/api/cannedAnswers', ada.authorization, {
      title: 't',
      body: 'x'.repeat(20_001),
    });
    expect(longBody.statusCode).toBe(400);
    expect(JSON.stringify(longBody.json().error.details)).toContain('body');
    const blank = await send('POST', '/api/cannedAnswers', ada.authorization, { title: 't', body: ' \n ' });
    expect(blank.statusCode).toBe(400);
    const edge = await send('POST', '/api/cannedAnswers', ada.authorization, {
      title: 't'.repeat(200),
      body: `{{ order.id }} {{agent.name}} ${'x'.repeat(19_970)}`,
    });
    expect(edge.statusCode, edge.body).toBe(201);
    expect(edge.json().unknownPlaceholders).toEqual(['order.id']);
  });
});

describe('signatures and what the composer inserts', () => {
  it("sets the agent's own signature and fills the composer's inserts for the conversation", async () => {
    const set = await send('PUT', '/api/auth/me/signature', ada.authorization, {
      signature: '\r\n{{agent.name}}\r\nSecond line\r\n\r\n',
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toEqual({ signature: '{{agent.name}}\nSecond line' });
    expect((await send('GET', '/api/auth/me/signature', ada.authorization)).json()).toEqual({
      signature: '{{agent.name}}\nSecond line',
    });
    const tooLong = await send('PUT', '/api/auth/me/signature', ada.authorization, { signature: 's'.repeat(2_001) });
    expect(tooLong.statusCode).toBe(400);

    const agentPatch = await send('PATCH', `/api/email/accounts/${support.id}`, ada.authorization, {
      signature: 'x',
    });
    expect(agentPatch.statusCode).toBe(403);
    // Through the API on an account the form can save (the fixture's lacks its provider)…
    const imap = await send('POST', '/api/email/accounts', admin.authorization, {
      name: 'Plain IMAP',
      key: 'IMP',
      emailAddress: 'imap@example.org',
      service: 'imap',
      modernAuth: false,
      imapHost: '127.0.0.1',
      password: 'secret-password',
      active: false,
      signature: '  Plain IMAP desk \r\n',
    });
    expect(imap.statusCode, imap.body).toBe(201);
    expect(imap.json().signature).toBe('Plain IMAP desk');
    const patched = await send('PATCH', `/api/email/accounts/${imap.json().id}`, admin.authorization, {
      signature: '{{account.name}} · {{conversation.reference}}',
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().signature).toBe('{{account.name}} · {{conversation.reference}}');
    const tooLongAccount = await send('PATCH', `/api/email/accounts/${imap.json().id}`, admin.authorization, {
      signature: 's'.repeat(2_001),
    });
    expect(tooLongAccount.statusCode).toBe(400);
    // …and on the fixture's account directly.
    await updateEmailAccount(postern.runtime.db, support.id, {
      signature: '{{account.name}} · {{conversation.reference}}',
    });

    const answer = (
      await send('POST', '/api/cannedAnswers', ada.authorization, {
        title: 'Greeting',
        body: 'Dear {{contact.firstName}}, {{unknown.thing}}',
      })
    ).json();
    const inserts = await send('GET', `/api/interactions/${interactionId}/composerInserts`, ada.authorization);
    expect(inserts.statusCode, inserts.body).toBe(200);
    const detail = (await send('GET', `/api/interactions/${interactionId}`, ada.authorization)).json();
    const agentName = (await send('GET', '/api/auth/me', ada.authorization)).json().displayName;
    expect(inserts.json().signature).toBe(`${agentName}\nSecond line\n\n${support.name} · ${detail.subjectToken}`);
    expect(inserts.json().answers).toContainEqual({
      id: answer.id,
      title: 'Greeting',
      body: 'Dear Ada, {{unknown.thing}}',
      shared: false,
    });

    // Bruno has no signature of his own: the account's alone; Ada's answers are not his.
    const brunos = (
      await send('GET', `/api/interactions/${interactionId}/composerInserts`, bruno.authorization)
    ).json();
    expect(brunos.signature).toMatch(new RegExp(`^${support.name} · #`));
    expect(brunos.answers.map((a: { id: number }) => a.id)).not.toContain(answer.id);

    const hidden = await send('GET', `/api/interactions/${interactionId}/composerInserts`, outsider.authorization);
    expect(hidden.statusCode).toBe(404);

    const cleared = await send('PUT', '/api/auth/me/signature', ada.authorization, { signature: '  ' });
    expect(cleared.json()).toEqual({ signature: null });
  });
});
