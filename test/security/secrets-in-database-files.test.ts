/**
 * Issue 13, "what held": after a real flow over the API, no secret Postern handed out or was given
 * is in clear anywhere in the SQLite files (main file, WAL, shared memory): not the session
 * cookie, not the API tokens, not the webhook signing secrets, not a mailbox password, not the
 * users' passwords. Sessions and tokens are stored as hashes, the others sealed.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteBytes, startTestPostern, type TestPostern } from '../helpers/postern.js';

let postern: TestPostern;
let app: FastifyInstance;
/** Every secret of the flow, by what it is. */
const secrets: Record<string, string> = {};
const USER_PASSWORD = 'Correct-Horse-Battery-7';
const NEW_PASSWORD = 'Another-Long-Password-8';
const IMAP_PASSWORD = 'imap-Pa55word-in-clear-9d2f';
const IMAP_PASSWORD_CHANGED = 'imap-Pa55word-changed-41ac';

beforeAll(async () => {
  postern = await startTestPostern();
  app = postern.app;
  const admin = (await postern.bearer('admin')).authorization;

  // A user, signed in with a cookie session.
  const user = await app.inject({
    method: 'POST',
    url: '/api/users',
    headers: { authorization: admin },
    payload: { username: 'andrea', role: 'admin', password: USER_PASSWORD },
  });
  expect(user.statusCode).toBe(201);
  const signedIn = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username: 'andrea', password: USER_PASSWORD },
  });
  expect(signedIn.statusCode).toBe(200);
  const cookies = Object.fromEntries(signedIn.cookies.map((c) => [c.name, c.value]));
  const session = { cookies, headers: { 'x-csrf-token': cookies.postern_csrf ?? '' } };
  secrets.sessionCookie = cookies.postern_session ?? '';

  // An API token created with that session, and used.
  const token = await app.inject({ method: 'POST', url: '/api/tokens', ...session, payload: { name: 'crm' } });
  expect(token.statusCode).toBe(201);
  secrets.apiToken = token.json().token;
  const bearer = `Bearer ${secrets.apiToken}`;
  expect(
    (await app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: bearer } })).statusCode,
  ).toBe(200);

  // A webhook (a documentation address: nothing is delivered here), and its rotated secret.
  const webhook = await app.inject({
    method: 'POST',
    url: '/api/webhooks',
    headers: { authorization: bearer },
    payload: { url: 'https://203.0.113.10/hook', events: ['message.received'] },
  });
  expect(webhook.statusCode, webhook.body).toBe(201);
  secrets.webhookSecret = webhook.json().secret;
  const rotated = await app.inject({
    method: 'POST',
    url: `/api/webhooks/${webhook.json().id}/secret`,
    headers: { authorization: bearer },
  });
  expect(rotated.statusCode, rotated.body).toBe(200);
  secrets.rotatedWebhookSecret = rotated.json().secret;

  // A password IMAP account, then its password changed.
  const account = await app.inject({
    method: 'POST',
    url: '/api/email/accounts',
    headers: { authorization: bearer },
    payload: {
      name: 'Support',
      key: 'SUP',
      emailAddress: 'support@example.com',
      service: 'imap',
      modernAuth: false,
      password: IMAP_PASSWORD,
      imapHost: '203.0.113.10',
    },
  });
  expect(account.statusCode, account.body).toBe(201);
  expect(account.body).not.toContain(IMAP_PASSWORD);
  secrets.imapPassword = IMAP_PASSWORD;
  const changed = await app.inject({
    method: 'PATCH',
    url: `/api/email/accounts/${account.json().id}`,
    ...session,
    payload: { password: IMAP_PASSWORD_CHANGED },
  });
  expect(changed.statusCode, changed.body).toBe(200);
  secrets.changedImapPassword = IMAP_PASSWORD_CHANGED;

  // The user's own password change, made with the session.
  const password = await app.inject({
    method: 'POST',
    url: '/api/auth/password',
    ...session,
    payload: { currentPassword: USER_PASSWORD, newPassword: NEW_PASSWORD },
  });
  expect(password.statusCode).toBe(204);
  secrets.userPassword = USER_PASSWORD;
  secrets.newUserPassword = NEW_PASSWORD;

  // Read the account with the session, so that it is touched after all the writes.
  expect((await app.inject({ method: 'GET', url: '/api/auth/me', cookies })).statusCode).toBe(200);
});
afterAll(async () => postern.close());

describe('the SQLite files after a full flow over the API', () => {
  it('were searched for every secret of the flow', () => {
    expect(Object.keys(secrets).sort()).toEqual([
      'apiToken',
      'changedImapPassword',
      'imapPassword',
      'newUserPassword',
      'rotatedWebhookSecret',
      'sessionCookie',
      'userPassword',
      'webhookSecret',
    ]);
    for (const [name, value] of Object.entries(secrets)) expect(value.length, name).toBeGreaterThanOrEqual(16);
  });

  it('hold the plain data of the flow: the search works', () => {
    const bytes = sqliteBytes(postern.dataDir);
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes).toContain('https://203.0.113.10/hook');
    expect(bytes).toContain('support@example.com');
  });

  it.each(
    [
      'sessionCookie',
      'apiToken',
      'webhookSecret',
      'rotatedWebhookSecret',
      'imapPassword',
      'changedImapPassword',
      'userPassword',
      'newUserPassword',
    ].map((name) => [name]),
  )('hold no %s in clear, in UTF-8 or UTF-16', (name) => {
    const secret = secrets[name] ?? '';
    const bytes = sqliteBytes(postern.dataDir);
    expect(bytes.includes(Buffer.from(secret, 'utf8').toString('latin1')), name).toBe(false);
    expect(bytes.includes(Buffer.from(secret, 'utf16le').toString('latin1')), name).toBe(false);
    // Nor its base64 (a secret stored "encoded" is still in clear).
    expect(bytes.includes(Buffer.from(secret, 'utf8').toString('base64')), name).toBe(false);
  });

  it('and the debug log of the same flow holds none of them either', () => {
    const log = postern.logText();
    expect(log).toContain('/api/webhooks');
    for (const [name, secret] of Object.entries(secrets)) expect(log.includes(secret), name).toBe(false);
  });
});
