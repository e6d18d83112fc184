/**
 * Internal notes through app.inject(): added to a conversation and returned with it (author, time,
 * oldest first); changed and deleted by their author or an administrator only (NOTE_NOT_AUTHOR for
 * a colleague); hidden from an agent without the account (404 whatever the path); the length cap
 * and an empty note refused with the field named; never queued for sending.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setAccountAgents, type EmailAccountRecord } from '../../src/store/index.js';
import { buildAccount, buildMessage } from '../ingest/helpers.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { ingestNew } from '../helpers/store-factories.js';

let postern: TestPostern;
let app: FastifyInstance;
let admin: string;
let ada: { authorization: string; userId: number };
let bruno: { authorization: string; userId: number };
let outsider: { authorization: string; userId: number };
let support: EmailAccountRecord;
let interactionId: number;

const send = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, authorization: string, payload?: object) =>
  app.inject({ method, url, headers: { authorization }, ...(payload === undefined ? {} : { payload }) });

beforeAll(async () => {
  postern = await startTestPostern();
  app = postern.app;
  admin = (await postern.bearer('admin')).authorization;
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

describe('internal notes', () => {
  it('are added, shown with the conversation in order with their author, and never queued', async () => {
    const outboxBefore = await postern.runtime.db.kysely.selectFrom('outbox').select('id').execute();
    // Nothing a webhook could carry: no event on any timeline, no webhook delivery.
    const eventsBefore = await postern.runtime.db.kysely.selectFrom('events').select('id').execute();
    const first = await send('POST', `/api/interactions/${interactionId}/notes`, ada.authorization, {
      body: '  Customer called: engine is a 1843 model.  ',
    });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({
      interactionId,
      authorUserId: ada.userId,
      authorName: expect.any(String),
      body: 'Customer called: engine is a 1843 model.',
    });
    const second = await send('POST', `/api/interactions/${interactionId}/notes`, bruno.authorization, {
      body: 'I know this one.',
    });
    expect(second.statusCode).toBe(201);

    const detail = (await send('GET', `/api/interactions/${interactionId}`, bruno.authorization)).json();
    expect(detail.notes.map((note: { body: string }) => note.body)).toEqual([
      'Customer called: engine is a 1843 model.',
      'I know this one.',
    ]);
    expect(detail.messages).toHaveLength(1);
    expect(detail.notes[0].createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await postern.runtime.db.kysely.selectFrom('outbox').select('id').execute()).toEqual(outboxBefore);
    expect(await postern.runtime.db.kysely.selectFrom('events').select('id').execute()).toEqual(eventsBefore);
    expect(await postern.runtime.db.kysely.selectFrom('webhook_deliveries').select('id').execute()).toEqual([]);
  });

  it('are changed and deleted by their author or an administrator only', async () => {
    const note = (
      await send('POST', `/api/interactions/${interactionId}/notes`, ada.authorization, { body: 'Draft idea' })
    ).json();
    const byColleague = await send('PATCH', `/api/notes/${note.id}`, bruno.authorization, { body: 'Mine now' });
    expect(byColleague.statusCode).toBe(403);
    expect(byColleague.json().error).toMatchObject({ code: 'NOTE_NOT_AUTHOR', remedy: expect.any(String) });
    const deleteByColleague = await send('DELETE', `/api/notes/${note.id}`, bruno.authorization);
    expect(deleteByColleague.statusCode).toBe(403);
    expect(deleteByColleague.json().error.code).toBe('NOTE_NOT_AUTHOR');

    const edited = await send('PATCH', `/api/notes/${note.id}`, ada.authorization, { body: 'Better idea' });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({ id: note.id, body: 'Better idea', authorUserId: ada.userId });
    const byAdmin = await send('PATCH', `/api/notes/${note.id}`, admin, { body: 'Checked by admin' });
    expect(byAdmin.json()).toMatchObject({ body: 'Checked by admin', authorUserId: ada.userId });

    expect((await send('DELETE', `/api/notes/${note.id}`, ada.authorization)).statusCode).toBe(204);
    expect((await send('DELETE', `/api/notes/${note.id}`, ada.authorization)).statusCode).toBe(404);
    const bodies = (await send('GET', `/api/interactions/${interactionId}`, ada.authorization))
      .json()
      .notes.map((n: { body: string }) => n.body);
    expect(bodies).not.toContain('Checked by admin');

    const adminNote = (
      await send('POST', `/api/interactions/${interactionId}/notes`, ada.authorization, { body: 'Remove me' })
    ).json();
    expect((await send('DELETE', `/api/notes/${adminNote.id}`, admin)).statusCode).toBe(204);
  });

  it('are not found for an agent without the account, whatever the path', async () => {
    const note = (
      await send('POST', `/api/interactions/${interactionId}/notes`, ada.authorization, { body: 'Private' })
    ).json();
    const add = await send('POST', `/api/interactions/${interactionId}/notes`, outsider.authorization, {
      body: 'Sneaky',
    });
    expect(add.statusCode).toBe(404);
    expect((await send('GET', `/api/interactions/${interactionId}`, outsider.authorization)).statusCode).toBe(404);
    const edit = await send('PATCH', `/api/notes/${note.id}`, outsider.authorization, { body: 'x' });
    expect(edit.statusCode).toBe(404);
    expect(edit.json().error.code).toBe('RESOURCE_NOT_FOUND');
    expect((await send('DELETE', `/api/notes/${note.id}`, outsider.authorization)).statusCode).toBe(404);
    const bodies = (await send('GET', `/api/interactions/${interactionId}`, admin))
      .json()
      .notes.map((n: { body: string }) => n.body);
    expect(bodies).toContain('Private');
    expect(bodies).not.toContain('Sneaky');
  });

  it('refuses a note over 10,000 characters or empty, naming the field', async () => {
    const long = await send('POST', `/api/interactions/${interactionId}/notes`, ada.authorization, {
      body: 'x'.repeat(10_001),
    });
    expect(long.statusCode).toBe(400);
    expect(long.json().error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(JSON.stringify(long.json().error.details)).toContain('10,000 characters');
    const exact = await send('POST', `/api/interactions/${interactionId}/notes`, ada.authorization, {
      body: 'y'.repeat(10_000),
    });
    expect(exact.statusCode).toBe(201);
    const empty = await send('POST', `/api/interactions/${interactionId}/notes`, ada.authorization, { body: '   ' });
    expect(empty.statusCode).toBe(400);
    expect(JSON.stringify(empty.json().error.details)).toContain('must not be empty');
    const edited = await send('PATCH', `/api/notes/${exact.json().id}`, ada.authorization, {
      body: 'z'.repeat(10_001),
    });
    expect(edited.statusCode).toBe(400);
  });

  it('come with a transfer: assigned to a named agent and the note saved together, or neither', async () => {
    const brunoName = (
      await postern.runtime.db.kysely
        .selectFrom('users')
        .select('display_name')
        .where('id', '=', bruno.userId)
        .executeTakeFirstOrThrow()
    ).display_name;
    const transferred = await send('POST', `/api/interactions/${interactionId}/assign`, ada.authorization, {
      userId: bruno.userId,
      note: '  He asked for you by name.  ',
    });
    expect(transferred.statusCode, transferred.body).toBe(200);
    expect(transferred.json()).toMatchObject({ assignedUserId: bruno.userId, assignedUserName: brunoName });
    const detail = (await send('GET', `/api/interactions/${interactionId}`, bruno.authorization)).json();
    expect(detail.notes.at(-1)).toMatchObject({
      authorUserId: ada.userId,
      body: `Assigned to ${brunoName}: He asked for you by name.`,
    });

    // Refused as a whole: an outsider as the new owner changes neither the owner nor the notes.
    const notesBefore = detail.notes.length;
    const refused = await send('POST', `/api/interactions/${interactionId}/assign`, ada.authorization, {
      userId: outsider.userId,
      note: 'Over to you.',
    });
    expect(refused.statusCode).toBe(400);
    const after = (await send('GET', `/api/interactions/${interactionId}`, bruno.authorization)).json();
    expect(after.assignedUserId).toBe(bruno.userId);
    expect(after.notes).toHaveLength(notesBefore);
    const empty = await send('POST', `/api/interactions/${interactionId}/assign`, ada.authorization, {
      userId: null,
      note: '   ',
    });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.details.fields[0]).toMatchObject({ field: 'note' });
  });
});
