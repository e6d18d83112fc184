/**
 * Issue 16, network faults toward Microsoft's identity platform: the Cloud Provider's authority
 * (discovery and token endpoint) does not resolve (a `.invalid` name, failed at once by the test
 * setup as DNS would), refuses connections, or is a black hole (accepts the connection, never
 * answers: only the request timeout, shortened here, ends the wait). Each time the process keeps
 * running, the refresh fails as `AUTH_PROVIDER_UNAVAILABLE` (transient: retried with backoff, the
 * grant stays active), the account's status and the doctor name the endpoint's host:port and the
 * cause — never the path or query of the request — and once the authority answers again the
 * account reconnects by itself.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check, createAccount, diagnose } from '../doctor/helpers.js';
import { until } from '../helpers/until.js';
import { CONTOSO, authenticatedProvider, startPair, type Pair } from '../providers/helpers.js';

let pair: Pair;
let silent: net.Server;
const silentSockets = new Set<net.Socket>();

/** A port nobody listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  // Three seconds per identity request (production: 15 s): a black hole fails an attempt quickly.
  pair = await startPair({}, { networkTimeouts: { identityMs: 3_000 } });
  silent = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on('close', () => silentSockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const roles = await pair.postern.runtime.startRoles(['mailboxSync'], {
    mailboxSync: {
      tuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 }, connectionTimeoutMs: 1_500 },
    },
  });
  if (roles.mailboxSync === undefined) throw new Error('the mailbox workers did not start');
}, 120_000);
afterAll(async () => {
  for (const socket of silentSockets) socket.destroy();
  await new Promise<void>((resolve) => silent?.close(() => resolve()));
  await pair?.close();
});

const db = () => pair.postern.runtime.db.kysely;
const accountRow = (id: number) =>
  db().selectFrom('email_accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

async function api(method: 'POST' | 'PATCH', url: string, payload?: object) {
  const response = await pair.postern.app.inject({
    method,
    url,
    headers: { authorization: pair.admin },
    ...(payload === undefined ? {} : { payload }),
  });
  expect(response.statusCode, response.body).toBe(200);
  return response;
}

describe("Microsoft's identity platform out of reach", () => {
  const cases = [
    {
      name: 'a name that does not resolve',
      key: 'IDNS',
      authority: async () => 'https://login.contoso.invalid',
      endpoint: 'login.contoso.invalid:443',
      says: /identity platform at login\.contoso\.invalid:443 could not be reached: its name could not be resolved \(DNS ENOTFOUND\)/,
    },
    {
      name: 'nobody listening (connection refused)',
      key: 'IREF',
      authority: async () => `https://127.0.0.1:${await closedPort()}`,
      endpoint: undefined,
      says: /connection to Microsoft's identity platform at 127\.0\.0\.1:\d+ was refused/,
    },
    {
      name: 'a black hole (the server never answers)',
      key: 'IHOLE',
      authority: async () => `https://127.0.0.1:${(silent.address() as net.AddressInfo).port}`,
      endpoint: undefined,
      says: /identity platform at 127\.0\.0\.1:\d+ did not answer within 3 s/,
    },
  ];

  for (const fault of cases) {
    it(
      `${fault.name}: the account and the doctor name the endpoint; it recovers once reachable`,
      { timeout: 120_000 },
      async () => {
        const { providerId } = await authenticatedProvider(pair);
        const accountId = await createAccount(pair, providerId, {
          name: fault.key,
          key: fault.key,
          emailAddress: CONTOSO.andrea.upn,
          username: CONTOSO.andrea.upn,
          transport: 'imap_smtp',
        });
        await until('connected', async () => ((await accountRow(accountId)).status === 'connected' ? true : undefined));

        const authority = await fault.authority();
        const endpoint = fault.endpoint ?? new URL(authority).host;
        await api('PATCH', `/api/cloudProviders/${providerId}`, { authorityUrl: authority });
        // The cached access token runs out; the account connects again and must refresh it.
        pair.emulator.handle.clock.advance(2 * 3_600_000);
        await api('POST', `/api/email/accounts/${accountId}/disable`);
        await api('POST', `/api/email/accounts/${accountId}/enable`);

        const row = await until(
          `account ${accountId} failing with AUTH_PROVIDER_UNAVAILABLE`,
          async () => {
            const current = await accountRow(accountId);
            return current.last_error_code === 'AUTH_PROVIDER_UNAVAILABLE' ? current : undefined;
          },
          60_000,
        );
        expect(row.status).not.toBe('connected');
        expect(row.last_error_message).toMatch(fault.says);
        expect(row.last_error_message).toContain(endpoint);
        // Only host and port: neither the tenant's path nor any query reaches the message.
        expect(row.last_error_message).not.toContain(CONTOSO.tenantId);
        expect(row.last_error_message).not.toContain('?');
        expect(row.last_error_remedy).toMatch(/retries with backoff/);

        // Transient: the grant stays active, its last error names the endpoint too.
        const grant = await db()
          .selectFrom('grants')
          .selectAll()
          .where('provider_id', '=', providerId)
          .executeTakeFirstOrThrow();
        expect(grant.state).toBe('active');
        expect(grant.last_error_code).toBe('AUTH_PROVIDER_UNAVAILABLE');
        expect(grant.last_error_message).toMatch(fault.says);

        const diagnosis = await diagnose(pair, `account=${accountId}`);
        const token = check(diagnosis, 'account.token');
        expect(token.result).toBe('failed');
        expect(token.evidence).toMatch(fault.says);
        const configuration = check(diagnosis, 'provider.configuration');
        expect(configuration.result).toBe('failed');
        expect(configuration.evidence).toContain(endpoint);

        // The process is alive and serving.
        const health = await pair.postern.app.inject({ method: 'GET', url: '/health' });
        expect(health.statusCode).toBe(200);

        await api('PATCH', `/api/cloudProviders/${providerId}`, { authorityUrl: pair.emulator.base });
        await until(
          'connected again',
          async () => ((await accountRow(accountId)).status === 'connected' ? true : undefined),
          60_000,
        );
        await api('POST', `/api/email/accounts/${accountId}/disable`);
      },
    );
  }
});
