/**
 * Postern and the emulator side by side for the Cloud Provider suites: Postern's clock is the
 * emulator's, retries are instant, and a provider points at the emulator as a custom authority
 * trusting its CA.
 */
import { expect } from 'vitest';
import { FormBrowser, type Answers } from '../emulator/helpers/browser.js';
import type { EmulatorOptions } from '../../emulator/main.js';
import { CONTOSO, startTestEmulator, type TestEmulator } from '../emulator/helpers/emulator.js';
import type { RuntimeOptions } from '../../src/cli/runtime.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

export { CONTOSO };

export interface Pair {
  emulator: TestEmulator;
  postern: TestPostern;
  admin: string;
  close(): Promise<void>;
}

export async function startPair(
  env: Record<string, string> = {},
  options: Pick<RuntimeOptions, 'networkTimeouts' | 'tokenRequestClock'> & {
    readonly emulator?: Partial<EmulatorOptions>;
  } = {},
): Promise<Pair> {
  const { emulator: emulatorOptions = {}, ...runtime } = options;
  const emulator = await startTestEmulator(emulatorOptions);
  const postern = await startTestPostern(env, {
    clock: () => emulator.handle.clock.now(),
    sleep: async () => undefined,
    ...runtime,
  });
  const admin = (await postern.bearer('admin')).authorization;
  return {
    emulator,
    postern,
    admin,
    async close() {
      await postern.close();
      await emulator.stop();
    },
  };
}

/** Creates a provider for an emulator app through the API; returns its id. */
export async function createProvider(pair: Pair, fields: Record<string, unknown> = {}): Promise<number> {
  const response = await pair.postern.app.inject({
    method: 'POST',
    url: '/api/cloudProviders',
    headers: { authorization: pair.admin },
    payload: {
      name: `Contoso ${Math.random().toString(36).slice(2, 8)}`,
      applicationId: CONTOSO.web.appId,
      tenantId: CONTOSO.tenantId,
      clientSecret: CONTOSO.web.secret,
      clientSecretExpiresAt: '2099-12-31',
      cloud: 'custom',
      authorityUrl: pair.emulator.base,
      caFile: pair.emulator.handle.caFile,
      ...fields,
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: number }>().id;
}

/** A console session: the cookies a browser holds after signing in, and its CSRF token. */
export interface ConsoleSession {
  userId: number;
  username: string;
  cookies: Record<string, string>;
  csrf: string;
}

let sessions = 0;

/** Creates a user and signs it in to the console, as a browser does. */
export async function consoleSession(pair: Pair, role: 'admin' | 'agent' = 'admin'): Promise<ConsoleSession> {
  sessions += 1;
  const username = `console-${role}-${sessions}`;
  const password = 'a console password long enough';
  const user = await pair.postern.runtime.services.users.create({ username, role, password });
  const login = await pair.postern.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password },
  });
  expect(login.statusCode, login.body).toBe(200);
  const cookies = Object.fromEntries(login.cookies.map((c) => [c.name, c.value]));
  return { userId: user.id, username, cookies, csrf: login.json<{ csrfToken: string }>().csrfToken };
}

const browsers = new WeakMap<Pair, ConsoleSession>();

/**
 * One admin console session per pair, for the sign-ins of the suites; a new one when the suite's
 * clock has moved past the last one's life.
 */
async function browserOf(pair: Pair): Promise<ConsoleSession> {
  const known = browsers.get(pair);
  if (known !== undefined) {
    const me = await pair.postern.app.inject({ method: 'GET', url: '/api/auth/me', cookies: known.cookies });
    if (me.statusCode === 200) return known;
  }
  const session = await consoleSession(pair);
  browsers.set(pair, session);
  return session;
}

/**
 * The guide's Authenticate, as the console does it: an admin signed in to the console asks for
 * the authorize URL (bound to that browser session), signs in on the emulator's pages, and the
 * same browser delivers Microsoft's redirect to Postern's callback. Returns the callback's answer.
 */
export async function authenticate(
  pair: Pair,
  providerId: number,
  answers: Answers,
  /** Changes the authorize URL before the browser opens it (an attacker's edit). */
  tamper?: (authorizeUrl: URL) => void,
) {
  const browser = await browserOf(pair);
  const start = await pair.postern.app.inject({
    method: 'POST',
    url: `/api/cloudProviders/${providerId}/authenticate`,
    cookies: browser.cookies,
    headers: { 'x-csrf-token': browser.csrf },
    payload: { loginHint: answers.username },
  });
  expect(start.statusCode, start.body).toBe(200);
  const authorizeUrl = new URL(start.json<{ method: string; authorizeUrl: string }>().authorizeUrl);
  tamper?.(authorizeUrl);
  const walked = await new FormBrowser(pair.emulator.handle.fetch).walk(authorizeUrl.href, answers);
  if (walked.kind !== 'redirect') throw new Error(`sign-in did not redirect: ${JSON.stringify(walked).slice(0, 500)}`);
  const callback = walked.location;
  const response = await pair.postern.app.inject({
    method: 'GET',
    url: `${callback.pathname}${callback.search}`,
    cookies: browser.cookies,
  });
  return { callback, response, browser, authorizeUrl };
}

/** Signs andrea@ in on a new provider; returns the provider and grant ids. */
export async function authenticatedProvider(
  pair: Pair,
  fields: Record<string, unknown> = {},
): Promise<{ providerId: number; grantId: number }> {
  const providerId = await createProvider(pair, fields);
  const { response } = await authenticate(pair, providerId, {
    username: CONTOSO.andrea.upn,
    password: CONTOSO.andrea.password,
  });
  expect(response.statusCode, response.body).toBe(303);
  expect(response.headers.location).toContain('authentication=success');
  const view = await pair.postern.app.inject({
    method: 'GET',
    url: `/api/cloudProviders/${providerId}`,
    headers: { authorization: pair.admin },
  });
  const grantId = view.json<{ grants: Array<{ id: number }> }>().grants[0]?.id;
  if (grantId === undefined) throw new Error('no grant after authentication');
  return { providerId, grantId };
}

/** Token endpoint requests the emulator saw for a client, by grant type. */
export function tokenRequests(pair: Pair, grantType?: string): number {
  return pair.emulator.handle.requestLog.list({ endpoint: 'token', ...(grantType === undefined ? {} : { grantType }) })
    .length;
}
