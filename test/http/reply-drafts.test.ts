/**
 * Server-side reply drafts through app.inject(): one per conversation and agent, saved and read
 * back (recipients kept only when the agent changed them), replaced by the next save, deleted by
 * DELETE and by the reply being queued; another agent's draft in the same conversation is their
 * own; an agent of another account gets 404 as for a missing conversation.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/config/index.js';
import { setAccountAgents, type EmailAccountRecord } from '../../src/store/index.js';
import { buildAccount, buildMessage } from '../ingest/helpers.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { ingestNew } from '../helpers/store-factories.js';

let postern: TestPostern;
let app: FastifyInstance;
let agent: { authorization: string; userId: number };
let colleague: { authorization: string; userId: number };
let outsider: { authorization: string; userId: number };
let support: EmailAccountRecord;
let interactionId: number;

const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, authorization: string, payload?: object) =>
  app.inject({ method, url, headers: { authorization }, ...(payload === undefined ? {} : { payload }) });

beforeAll(async () => {
  postern = await startTestPostern();
  app = postern.app;
  agent = await postern.bearer('agent');
  colleague = await postern.bearer('agent');
  outsider = await postern.bearer('agent');
  support = await buildAccount(postern.runtime.db);
  const other = await buildAccount(postern.runtime.db);
  await setAccountAgents(postern.runtime.db, support.id, [agent.userId, colleague.userId]);
  await setAccountAgents(postern.runtime.db, other.id, [outsider.userId]);
  interactionId = (
    await ingestNew(
      postern.runtime.db,
      support,
      buildMessage({ from: 'Ada <ada@example.org>', subject: 'Draft me', messageId: '<draft-1@example.org>' }),
      1,
    )
  ).interactionId;
});
afterAll(async () => postern.close());

const url = () => `/api/interactions/${interactionId}/draft`;

describe('a reply draft', () => {
  it('is null until saved, then read back as saved, and replaced by the next save', async () => {
    expect((await call('GET', url(), agent.authorization)).json()).toEqual({ draft: null });
    const saved = await call('PUT', url(), agent.authorization, {
      text: 'Dear Ada,',
      replyAll: false,
      recipients: null,
    });
    expect(saved.statusCode, saved.body).toBe(200);
    // A draft saved without HTML (an older client, a plain-text one) reads back with html null.
    expect(saved.json().draft).toMatchObject({ text: 'Dear Ada,', html: null, replyAll: false, recipients: null });

    const recipients = {
      to: [{ name: 'Ada', address: 'ada@example.org' }],
      cc: [],
      bcc: [{ name: '', address: 'audit@example.org' }],
    };
    const html = '<div>Dear Ada, the <b>fix</b></div>';
    await call('PUT', url(), agent.authorization, { text: 'Dear Ada, the fix', html, replyAll: true, recipients });
    const read = (await call('GET', url(), agent.authorization)).json();
    expect(read.draft).toMatchObject({ text: 'Dear Ada, the fix', html, replyAll: true, recipients });
    expect(Number.isNaN(Date.parse(read.draft.updatedAt))).toBe(false);
  });

  it("is each agent's own: a colleague's draft in the same conversation neither shows nor overwrites it", async () => {
    expect((await call('GET', url(), colleague.authorization)).json()).toEqual({ draft: null });
    await call('PUT', url(), colleague.authorization, { text: 'Colleague text', replyAll: false, recipients: null });
    expect((await call('GET', url(), agent.authorization)).json().draft.text).toBe('Dear Ada, the fix');
    expect((await call('GET', url(), colleague.authorization)).json().draft.text).toBe('Colleague text');
  });

  it('refuses an unknown field and a malformed recipient list', async () => {
    const extra = await call('PUT', url(), agent.authorization, {
      text: 'x',
      replyAll: false,
      recipients: null,
      owner: 3,
    });
    expect(extra.statusCode).toBe(400);
    const malformed = await call('PUT', url(), agent.authorization, {
      text: 'x',
      replyAll: false,
      recipients: { to: ['ada@example.org'], cc: [], bcc: [] },
    });
    expect(malformed.statusCode).toBe(400);
    expect((await call('GET', url(), agent.authorization)).json().draft.text).toBe('Dear Ada, the fix');
  });

  it('refuses a text over the limit with 400 naming the field, and a body over the API limit with 413', async () => {
    const long = await call('PUT', url(), agent.authorization, {
      text: 'x'.repeat(LIMITS.replyDraftChars + 1),
      replyAll: false,
      recipients: null,
    });
    expect(long.statusCode, long.body.slice(0, 500)).toBe(400);
    expect(long.json().error.code).toBe('VALIDATION_FAILED');
    expect(long.json().error.details.fields).toEqual([
      { field: 'text', problem: `must be at most ${LIMITS.replyDraftChars.toLocaleString('en-US')} characters` },
    ]);
    expect(long.body.length).toBeLessThan(2000);

    // Two bytes a character: within the character limit, over the body limit.
    const heavy = await call('PUT', url(), agent.authorization, {
      text: 'é'.repeat(LIMITS.httpBodyBytes / 2 + 1),
      replyAll: false,
      recipients: null,
    });
    expect(heavy.statusCode).toBe(413);
    expect(heavy.json().error.code).toBe('REQUEST_TOO_LARGE');

    const tooMany = await call('PUT', url(), agent.authorization, {
      text: 'x',
      replyAll: false,
      recipients: { to: [{ name: 'n'.repeat(257), address: 'ada@example.org' }], cc: [], bcc: [] },
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error.details.fields).toEqual([
      { field: 'recipients.to.0.name', problem: 'must be at most 256 characters' },
    ]);
    expect((await call('GET', url(), agent.authorization)).json().draft.text).toBe('Dear Ada, the fix');
  });

  it('answers 404 RESOURCE_NOT_FOUND for a conversation that does not exist, and 400 for an id that cannot be one', async () => {
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const payload = method === 'PUT' ? { text: 'x', replyAll: false, recipients: null } : undefined;
      const missing = await call(method, '/api/interactions/987654/draft', agent.authorization, payload);
      expect(missing.statusCode, `${method} ${missing.body}`).toBe(404);
      expect(missing.json().error).toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
      expect(missing.json().error.message).toContain('987654');
      const malformed = await call(method, '/api/interactions/abc/draft', agent.authorization, payload);
      expect(malformed.statusCode, `${method} ${malformed.body}`).toBe(400);
      expect(malformed.json().error.code).toBe('VALIDATION_FAILED');
    }
    const rows = await postern.runtime.db.kysely
      .selectFrom('reply_drafts')
      .select('interaction_id')
      .where('interaction_id', '=', 987654)
      .execute();
    expect(rows).toEqual([]);
  });

  it("is deleted when the agent's reply is queued, and only the sender's", async () => {
    const queued = await call('POST', `/api/interactions/${interactionId}/reply`, agent.authorization, {
      text: 'Dear Ada, the fix is out.',
    });
    expect(queued.statusCode, queued.body).toBe(202);
    expect((await call('GET', url(), agent.authorization)).json()).toEqual({ draft: null });
    expect((await call('GET', url(), colleague.authorization)).json().draft.text).toBe('Colleague text');
  });

  it('is discarded by DELETE', async () => {
    const deleted = await call('DELETE', url(), colleague.authorization);
    expect(deleted.statusCode).toBe(204);
    expect((await call('GET', url(), colleague.authorization)).json()).toEqual({ draft: null });
  });

  it('answers 404 to an agent of another account, as for a missing conversation, and keeps nothing', async () => {
    for (const [method, payload] of [
      ['GET', undefined],
      ['PUT', { text: 'sneaky', replyAll: false, recipients: null }],
      ['DELETE', undefined],
    ] as const) {
      const hidden = await call(method, url(), outsider.authorization, payload);
      const missing = await call(method, '/api/interactions/987654/draft', outsider.authorization, payload);
      expect(hidden.statusCode).toBe(404);
      expect(hidden.json().error.code).toBe('RESOURCE_NOT_FOUND');
      expect(
        hidden.body
          .replaceAll(`interaction ${interactionId}.`, 'interaction <id>.')
          .replaceAll(`"id":${interactionId}}`, '"id":<id>}'),
      ).toBe(missing.body.replaceAll('987654', '<id>'));
    }
    const rows = await postern.runtime.db.kysely.selectFrom('reply_drafts').select('text').execute();
    expect(rows.map((r) => r.text)).not.toContain('sneaky');
  });
});
