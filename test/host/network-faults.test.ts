/**
 * Issue 16, network faults: the IMAP server, the SMTP server and Microsoft's identity platform
 * unreachable in the three ways a network fails — the name does not resolve (a `.invalid` name,
 * which the test setup fails at once as DNS would), nobody listens (connection refused), and a
 * black hole (a server that accepts the connection and never says a word: only a timeout ends
 * the wait). Each time the process keeps running, the account says which endpoint failed and how,
 * the doctor names it too, and once the path is back everything recovers by itself with nothing
 * lost or sent twice.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailboxWorkers } from '../../src/workers/mailbox-workers.js';
import { check, createAccount as createDoctorAccount, diagnose } from '../doctor/helpers.js';
import { until } from '../helpers/until.js';
import { CONTOSO, authenticate, authenticatedProvider, startPair, type Pair } from '../providers/helpers.js';

let pair: Pair;
let workers: MailboxWorkers;
let providerId: number;
let imapPort: number;
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
  pair = await startPair();
  ({ providerId } = await authenticatedProvider(pair));
  // A second sign-in on the same provider: marco@ reads his own mailbox.
  const marco = await authenticate(pair, providerId, { username: CONTOSO.marco.upn, password: CONTOSO.marco.password });
  expect(marco.response.headers.location).toContain('authentication=success');
  imapPort = Number(new URL(pair.emulator.handle.urls.imap ?? '').port);
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
  workers = roles.mailboxSync;
}, 120_000);
afterAll(async () => {
  for (const socket of silentSockets) socket.destroy();
  await new Promise<void>((resolve) => silent?.close(() => resolve()));
  await pair?.close();
});

const db = () => pair.postern.runtime.db.kysely;
const accountRow = (id: number) =>
  db().selectFrom('email_accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/** An account of the test's provider reading `mailbox` from the given IMAP endpoint. */
function createAccount(
  key: string,
  mailbox: string,
  imap: { host: string; port: number },
  modernAuthEmail?: string,
): Promise<number> {
  return createDoctorAccount(pair, providerId, {
    name: key,
    key,
    emailAddress: mailbox,
    username: mailbox,
    transport: 'imap_smtp',
    imapHost: imap.host,
    imapPort: imap.port,
    firstSync: { kind: 'all' },
    ...(modernAuthEmail === undefined ? {} : { modernAuthEmail }),
  });
}

async function pointAt(accountId: number, imap: { host: string; port: number }): Promise<void> {
  const changed = await pair.postern.app.inject({
    method: 'PATCH',
    url: `/api/email/accounts/${accountId}`,
    headers: { authorization: pair.admin },
    payload: { imapHost: imap.host, imapPort: imap.port },
  });
  expect(changed.statusCode, changed.body).toBe(200);
}

/** The account's status once its error is the expected one. */
async function failedWith(accountId: number, code: string) {
  return until(
    `account ${accountId} failing with ${code}`,
    async () => {
      const row = await accountRow(accountId);
      return row.last_error_code === code ? row : undefined;
    },
    30_000,
  );
}

describe('the IMAP server out of reach', () => {
  const cases = [
    {
      name: 'a name that does not resolve',
      key: 'DNS',
      mailbox: CONTOSO.andrea.upn,
      delegate: undefined,
      endpoint: async () => ({ host: 'imap.contoso.invalid', port: 993 }),
      says: /imap\.contoso\.invalid:993.*could not be resolved/,
    },
    {
      name: 'nobody listening (connection refused)',
      key: 'REF',
      mailbox: CONTOSO.marco.upn,
      delegate: undefined,
      endpoint: async () => ({ host: '127.0.0.1', port: await closedPort() }),
      says: /127\.0\.0\.1:\d+ was refused/,
    },
    {
      name: 'a black hole (the server never answers)',
      key: 'HOLE',
      mailbox: 'developers@contoso.com',
      delegate: CONTOSO.andrea.upn,
      endpoint: async () => ({ host: '127.0.0.1', port: (silent.address() as net.AddressInfo).port }),
      says: /127\.0\.0\.1:\d+ did not answer in time/,
    },
  ];

  for (const fault of cases) {
    it(
      `${fault.name}: the account and the doctor name the endpoint; it recovers once reachable`,
      { timeout: 120_000 },
      async () => {
        const endpoint = await fault.endpoint();
        const messageId = `<net-${fault.key.toLowerCase()}@customer.example>`;
        await pair.emulator.control('POST', '/exchange/messages', {
          from: 'carla@customer.example',
          to: fault.mailbox,
          subject: `Waiting through ${fault.name}`,
          text: 'Hello',
          messageId,
        });
        const accountId = await createAccount(fault.key, fault.mailbox, endpoint, fault.delegate);
        const row = await failedWith(accountId, 'IMAP_CONNECTION_FAILED');
        expect(row.status).not.toBe('connected');
        expect(row.last_error_message).toMatch(fault.says);
        expect(row.last_error_remedy).toMatch(/reconnects by itself/);

        const diagnosis = await diagnose(pair, `account=${accountId}`);
        const imapCheck = check(diagnosis, 'account.imap');
        expect(imapCheck.result).toBe('failed');
        expect(imapCheck.evidence).toContain(`${endpoint.host}:${endpoint.port}`);

        // The process is alive and serving.
        const health = await pair.postern.app.inject({ method: 'GET', url: '/health' });
        expect(health.statusCode).toBe(200);

        await pointAt(accountId, { host: '127.0.0.1', port: imapPort });
        await until('connected again', async () =>
          (await accountRow(accountId)).status === 'connected' ? true : undefined,
        );
        const stored = await until('the waiting message stored', async () => {
          const rows = await db()
            .selectFrom('messages')
            .select('id')
            .where('account_id', '=', accountId)
            .where('message_id', '=', messageId)
            .execute();
          return rows.length > 0 ? rows : undefined;
        });
        expect(stored).toHaveLength(1);
        expect(workers).toBeDefined();
      },
    );
  }
});
