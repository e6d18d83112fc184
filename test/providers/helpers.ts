/**
 * Postern and the emulator side by side for the Cloud Provider suites: Postern's clock is the
 * emulator's, retries are instant, and a provider points at the emulator as a custom authority
 * trusting its CA.
 */
import { expect } from 'vitest';
import { FormBrowser, type Answers } from '../emulator/helpers/browser.js';
import { CONTOSO, startTestEmulator, type TestEmulator } from '../emulator/helpers/emulator.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

export { CONTOSO };

export interface Pair {
  emulator: TestEmulator;
  postern: TestPostern;
  admin: string;
  close(): Promise<void>;
}

export async function startPair(env: Record<string, string> = {}): Promise<Pair> {
  const emulator = await startTestEmulator();
  const postern = await startTestPostern(env, {
    clock: () => emulator.handle.clock.now(),
    sleep: async () => undefined,
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

/**
 * The guide's Authenticate: ask Postern for the authorize URL, sign in on the emulator's pages,
 * and deliver Microsoft's redirect to Postern's callback. Returns the callback's answer.
 */
export async function authenticate(
  pair: Pair,
  providerId: number,
  answers: Answers,
  headers: Record<string, string> = {},
) {
  const start = await pair.postern.app.inject({
    method: 'POST',
    url: `/api/cloudProviders/${providerId}/authenticate`,
    headers: { authorization: pair.admin, ...headers },
    payload: { loginHint: answers.username },
  });
  expect(start.statusCode, start.body).toBe(200);
  const authorizeUrl = start.json<{ authorizeUrl: string }>().authorizeUrl;
  const walked = await new FormBrowser(pair.emulator.handle.fetch).walk(authorizeUrl, answers);
  if (walked.kind !== 'redirect') throw new Error(`sign-in did not redirect: ${JSON.stringify(walked).slice(0, 500)}`);
  const callback = walked.location;
  const response = await pair.postern.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}` });
  return { callback, response };
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
