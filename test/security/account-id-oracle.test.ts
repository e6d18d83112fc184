/**
 * `/api/email/accounts/:id/interactions` answered 403 for an existing account the agent may not
 * see and 404 for a missing one (issue 13, Low): an oracle telling which ids exist. Every route an
 * agent may call with an account id must answer an account not theirs exactly as a missing one.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setAccountAgents, type EmailAccountRecord } from '../../src/store/index.js';
import { buildAccount } from '../ingest/helpers.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

let postern: TestPostern;
let app: FastifyInstance;
let agent: string;
let theirs: EmailAccountRecord;
let other: EmailAccountRecord;
const MISSING = 987_654;

const ROUTES = [
  '/api/email/accounts/:id',
  '/api/email/accounts/:id/interactions',
  '/api/email/accounts/:id/events',
  '/api/email/accounts/:id/sending',
];

beforeAll(async () => {
  postern = await startTestPostern();
  app = postern.app;
  const a = await postern.bearer('agent');
  agent = a.authorization;
  theirs = await buildAccount(postern.runtime.db);
  other = await buildAccount(postern.runtime.db);
  await setAccountAgents(postern.runtime.db, theirs.id, [a.userId]);
});
afterAll(async () => postern.close());

const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: agent } });
/** The answer with the account id taken out, to compare the wording for two ids. */
const shape = (body: string, id: number) => body.replaceAll(String(id), '<id>');

describe('account ids an agent may not see', () => {
  it.each(ROUTES)('%s answers an account not theirs as a missing one', async (route) => {
    const own = await get(route.replace(':id', String(theirs.id)));
    expect(own.statusCode).toBe(200);
    const notTheirs = await get(route.replace(':id', String(other.id)));
    const missing = await get(route.replace(':id', String(MISSING)));
    expect(notTheirs.statusCode).toBe(missing.statusCode);
    expect(notTheirs.statusCode).toBe(404);
    expect(shape(notTheirs.body, other.id)).toBe(shape(missing.body, MISSING));
  });

  it('sending a new message from an account not theirs is answered as from a missing one', async () => {
    const send = (id: number) =>
      app.inject({
        method: 'POST',
        url: `/api/email/accounts/${id}/messages`,
        headers: { authorization: agent },
        payload: { to: ['someone@example.org'], subject: 'Hello', text: 'Hi' },
      });
    const notTheirs = await send(other.id);
    const missing = await send(MISSING);
    expect(notTheirs.statusCode).toBe(404);
    expect(shape(notTheirs.body, other.id)).toBe(shape(missing.body, MISSING));
  });
});
