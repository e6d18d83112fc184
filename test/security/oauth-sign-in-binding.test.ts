/**
 * Issue 13, point 9: a Cloud Provider sign-in started with an API token was bound to no browser
 * (any browser, even one with no session, completed it), and the OAuth `state` was spent before
 * the session check, so presenting it from the wrong browser burnt it for the right one. Now a
 * state is spent only after its checks pass, and an API token gets a one-time console link that
 * only its owner's browser session can open.
 */
import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormBrowser } from '../emulator/helpers/browser.js';
import { sqliteBytes, startTestPostern } from '../helpers/postern.js';
import { createPostgresDatabase } from '../helpers/store.js';
import {
  CONTOSO,
  consoleSession,
  createProvider,
  startPair,
  tokenRequests,
  type ConsoleSession,
  type Pair,
} from '../providers/helpers.js';

let pair: Pair;
beforeAll(async () => {
  pair = await startPair();
});
afterAll(async () => pair.close());

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** An admin with an API token and, once signed in, a console session of the same user. */
interface TokenOwner {
  authorization: string;
  session: ConsoleSession;
}

let owners = 0;
async function tokenOwner(): Promise<TokenOwner> {
  owners += 1;
  const username = `token-owner-${owners}`;
  const password = 'the token owner password';
  const user = await pair.postern.runtime.services.users.create({ username, role: 'admin', password });
  const token = await pair.postern.runtime.services.tokens.create(user.id, 'automation');
  const login = await pair.postern.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password },
  });
  expect(login.statusCode, login.body).toBe(200);
  return {
    authorization: `Bearer ${token.token}`,
    session: {
      userId: user.id,
      username,
      cookies: Object.fromEntries(login.cookies.map((c) => [c.name, c.value])),
      csrf: login.json<{ csrfToken: string }>().csrfToken,
    },
  };
}

/** Starts a sign-in from a console session: the authorize URL bound to that session. */
async function startFromSession(session: ConsoleSession, providerId: number): Promise<string> {
  const start = await pair.postern.app.inject({
    method: 'POST',
    url: `/api/cloudProviders/${providerId}/authenticate`,
    cookies: session.cookies,
    headers: { 'x-csrf-token': session.csrf },
    payload: { loginHint: CONTOSO.andrea.upn },
  });
  expect(start.statusCode, start.body).toBe(200);
  const body = start.json<{ method: string; authorizeUrl: string }>();
  expect(body.method).toBe('redirect');
  return body.authorizeUrl;
}

/** Signs andrea@ in on the emulator's pages; returns the callback path Microsoft redirects to. */
async function signInAtMicrosoft(authorizeUrl: string): Promise<string> {
  const walked = await new FormBrowser(pair.emulator.handle.fetch).walk(authorizeUrl, {
    username: CONTOSO.andrea.upn,
    password: CONTOSO.andrea.password,
  });
  if (walked.kind !== 'redirect') throw new Error(`sign-in did not redirect: ${JSON.stringify(walked).slice(0, 300)}`);
  return `${walked.location.pathname}${walked.location.search}`;
}

const deliver = (callback: string, session?: ConsoleSession) =>
  pair.postern.app.inject({
    method: 'GET',
    url: callback,
    ...(session === undefined ? {} : { cookies: session.cookies }),
  });

const open = (signInUrl: string, who: { cookies?: Record<string, string>; authorization?: string } = {}) => {
  const url = new URL(signInUrl);
  return pair.postern.app.inject({
    method: 'GET',
    url: `${url.pathname}${url.search}`,
    ...(who.cookies === undefined ? {} : { cookies: who.cookies }),
    ...(who.authorization === undefined ? {} : { headers: { authorization: who.authorization } }),
  });
};

async function grantsOf(providerId: number): Promise<unknown[]> {
  const view = await pair.postern.app.inject({
    method: 'GET',
    url: `/api/cloudProviders/${providerId}`,
    headers: { authorization: pair.admin },
  });
  return view.json<{ grants: unknown[] }>().grants;
}

function expectSuccess(response: LightMyRequestResponse, providerId: number): void {
  expect(response.statusCode, response.body).toBe(303);
  expect(response.headers.location).toBe(
    `http://localhost:8080/ui/cloud-providers/${providerId}?authentication=success&upn=andrea%40contoso.com`,
  );
}

async function requestLink(owner: TokenOwner, providerId: number) {
  const response = await pair.postern.app.inject({
    method: 'POST',
    url: `/api/cloudProviders/${providerId}/authenticate`,
    headers: { authorization: owner.authorization },
    payload: { loginHint: CONTOSO.andrea.upn },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ method: string; signInUrl: string; expiresAt: string; username: string; message: string }>();
}

describe('an OAuth state is spent only by the browser session that started the sign-in', () => {
  it('refuses the state from another session and from no session, and still completes it for the right one', async () => {
    const providerId = await createProvider(pair);
    const a = await consoleSession(pair);
    const b = await consoleSession(pair);
    const callback = await signInAtMicrosoft(await startFromSession(a, providerId));

    const fromB = await deliver(callback, b);
    expect(fromB.statusCode).toBe(400);
    expect(fromB.headers['content-type']).toMatch(/text\/html/);
    expect(fromB.body).toContain('started from another console session');
    expect(fromB.body).toContain('AUTH_STATE_INVALID');
    const fromNoSession = await deliver(callback);
    expect(fromNoSession.statusCode).toBe(400);
    // Retrying from the same address cannot help: the remedy names the public URL to use.
    expect(fromNoSession.body).toContain('has no console session at http://localhost:8080');
    expect(fromNoSession.body).toContain('Open the console at http://localhost:8080/ui/');
    expect(await grantsOf(providerId)).toHaveLength(0);

    expectSuccess(await deliver(callback, a), providerId);
    expect(await grantsOf(providerId)).toHaveLength(1);
    const replay = await deliver(callback, a);
    expect(replay.statusCode).toBe(400);
    expect(replay.body).toContain('already used');
  });

  it('lets exactly one of two concurrent callbacks with the same state win', async () => {
    const providerId = await createProvider(pair);
    const a = await consoleSession(pair);
    const callback = await signInAtMicrosoft(await startFromSession(a, providerId));
    const codesBefore = tokenRequests(pair, 'authorization_code');

    const answers = await Promise.all([deliver(callback, a), deliver(callback, a), deliver(callback, a)]);
    const statuses = answers.map((answer) => answer.statusCode).sort();
    expect(statuses).toEqual([303, 400, 400]);
    for (const refused of answers.filter((answer) => answer.statusCode === 400))
      expect(refused.body).toContain('already used');
    expect(tokenRequests(pair, 'authorization_code') - codesBefore).toBe(1);
    expect(await grantsOf(providerId)).toHaveLength(1);
  });
});

describe('concurrent callbacks on two nodes sharing PostgreSQL', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('lets exactly one of 2 × 5 concurrent callbacks with the same state win', async () => {
    const database = await createPostgresDatabase();
    cleanups.push(database.remove);
    const shared = await startPair({ POSTERN_DATABASE_URL: database.url });
    cleanups.push(() => shared.close());
    const second = await startTestPostern(
      { POSTERN_DATABASE_URL: database.url, POSTERN_SECRET_KEY_FILE: `${shared.postern.dataDir}/secret.key` },
      { clock: () => shared.emulator.handle.clock.now(), sleep: async () => undefined },
    );
    cleanups.push(() => second.close());
    const providerId = await createProvider(shared);
    const a = await consoleSession(shared);
    const start = await shared.postern.app.inject({
      method: 'GET',
      url: `/api/cloudProviders/${providerId}/authenticate`,
      cookies: a.cookies,
    });
    expect(start.statusCode, start.body).toBe(302);
    const walked = await new FormBrowser(shared.emulator.handle.fetch).walk(start.headers.location ?? '', {
      username: CONTOSO.andrea.upn,
      password: CONTOSO.andrea.password,
    });
    if (walked.kind !== 'redirect') throw new Error('the sign-in did not redirect');

    // Straight to the service on both nodes, so that nothing in front (the session lookup) spaces
    // the callbacks out: they race on the state row itself.
    const sessionHash = sha256(a.cookies.postern_session ?? '');
    // Warm pools: every call gets a connection at once, none waits for one being opened.
    for (const node of [shared.postern, second])
      await Promise.all(Array.from({ length: 5 }, () => node.runtime.db.ping()));
    const outcomes = await Promise.all(
      [shared.postern, second].flatMap((node) =>
        Array.from({ length: 5 }, () =>
          node.runtime.services.signIn.completeAuthorization(walked.location.searchParams, sessionHash),
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.ok) continue;
      expect(outcome.error.code).toBe('AUTH_STATE_INVALID');
      expect(outcome.error.message).toContain('already used');
    }
    expect(tokenRequests(shared, 'authorization_code')).toBe(1);
  });
});

describe('a sign-in started with an API token', () => {
  it('gives a one-time console link, not an authorize URL, and refuses the browser route without a session', async () => {
    const providerId = await createProvider(pair);
    const owner = await tokenOwner();
    const before = pair.emulator.handle.clock.now().getTime();
    const link = await requestLink(owner, providerId);
    const after = pair.emulator.handle.clock.now().getTime();
    expect(link.method).toBe('link');
    expect(link).not.toHaveProperty('authorizeUrl');
    expect(link.signInUrl).toMatch(
      new RegExp(`^http://localhost:8080/api/cloudProviders/${providerId}/signIn\\?ticket=psi_[\\w-]{43}$`),
    );
    expect(link.username).toBe(owner.session.username);
    expect(link.message).toContain(`signed in to the Postern console as "${owner.session.username}"`);
    expect(Date.parse(link.expiresAt)).toBeGreaterThanOrEqual(before + 10 * 60 * 1000);
    expect(Date.parse(link.expiresAt)).toBeLessThanOrEqual(after + 10 * 60 * 1000);
    expect(JSON.stringify(link)).not.toContain('oauth2/v2.0/authorize');

    const viaGet = await pair.postern.app.inject({
      method: 'GET',
      url: `/api/cloudProviders/${providerId}/authenticate`,
      headers: { authorization: owner.authorization },
    });
    expect(viaGet.statusCode).toBe(401);
    expect(viaGet.json().error.remedy).toContain(`POST /api/cloudProviders/${providerId}/authenticate`);
  });

  it('opens only in the token owner’s session, which then completes the sign-in; the link works once', async () => {
    const providerId = await createProvider(pair);
    const owner = await tokenOwner();
    const other = await consoleSession(pair);
    const link = await requestLink(owner, providerId);
    const ticket = new URL(link.signInUrl).searchParams.get('ticket') ?? '';

    const anonymous = await open(link.signInUrl);
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(/text\/html/);
    expect(anonymous.body).toContain('opens only in a browser signed in to the Postern console');
    expect(anonymous.body).toContain('/ui/sign-in');
    const withToken = await open(link.signInUrl, { authorization: owner.authorization });
    expect(withToken.statusCode).toBe(401);
    const stranger = await open(link.signInUrl, { cookies: other.cookies });
    expect(stranger.statusCode).toBe(403);
    expect(stranger.body).toContain('made for another console user');
    const elsewhere = await open(link.signInUrl.replace(`/${providerId}/`, `/${providerId + 1000}/`), {
      cookies: owner.session.cookies,
    });
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.body).toContain('AUTH_SIGN_IN_LINK_INVALID');

    const opened = await open(link.signInUrl, { cookies: owner.session.cookies });
    expect(opened.statusCode, opened.body).toBe(302);
    const authorizeUrl = new URL(opened.headers.location ?? '');
    expect(authorizeUrl.href.startsWith(`${pair.emulator.base}/${CONTOSO.tenantId}/oauth2/v2.0/authorize?`)).toBe(true);
    expect(authorizeUrl.searchParams.get('login_hint')).toBe(CONTOSO.andrea.upn);
    const state = authorizeUrl.searchParams.get('state') ?? '';
    const row = await pair.postern.runtime.db.kysely
      .selectFrom('oauth_states')
      .select(['session_hash', 'user_id'])
      .where('state_hash', '=', sha256(state))
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      session_hash: sha256(owner.session.cookies.postern_session ?? ''),
      user_id: owner.session.userId,
    });

    const callback = await signInAtMicrosoft(authorizeUrl.href);
    expect((await deliver(callback)).statusCode).toBe(400);
    expectSuccess(await deliver(callback, owner.session), providerId);

    const again = await open(link.signInUrl, { cookies: owner.session.cookies });
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('already used');
    expect(again.body).toContain('AUTH_SIGN_IN_LINK_INVALID');

    // Stored as its sha256 only, and redacted from the request log.
    const stored = await pair.postern.runtime.db.kysely
      .selectFrom('sign_in_tickets')
      .select(['ticket_hash', 'used_at'])
      .where('ticket_hash', '=', sha256(ticket))
      .executeTakeFirstOrThrow();
    expect(stored.used_at).not.toBeNull();
    expect(sqliteBytes(pair.postern.dataDir)).not.toContain(ticket);
    expect(pair.postern.logText()).toContain('/signIn?ticket=[redacted]');
    expect(pair.postern.logText()).not.toContain(ticket);
  });

  it('refuses the link to its owner once no longer an administrator, and keeps it usable', async () => {
    const providerId = await createProvider(pair);
    const owner = await tokenOwner();
    const link = await requestLink(owner, providerId);
    const users = pair.postern.runtime.services.users;
    await users.update(owner.session.userId, { role: 'agent' });
    const demoted = await open(link.signInUrl, { cookies: owner.session.cookies });
    expect(demoted.statusCode).toBe(403);
    expect(demoted.body).toContain('reserved to administrators');
    await users.update(owner.session.userId, { role: 'admin' });
    const opened = await open(link.signInUrl, { cookies: owner.session.cookies });
    expect(opened.statusCode, opened.body).toBe(302);
  });

  // Last: it moves the shared clock forward.
  it('refuses a link older than 10 minutes', async () => {
    const providerId = await createProvider(pair);
    const owner = await tokenOwner();
    const link = await requestLink(owner, providerId);
    pair.emulator.handle.clock.advance(10 * 60 * 1000 + 1000);
    const late = await open(link.signInUrl, { cookies: owner.session.cookies });
    expect(late.statusCode).toBe(400);
    expect(late.body).toContain('older than 10 minutes');
    expect(late.body).toContain('AUTH_SIGN_IN_LINK_INVALID');
    const count = await pair.postern.runtime.db.kysely
      .selectFrom('oauth_states')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('provider_id', '=', providerId)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });
});
