import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { passwordAccountBody } from '../../bench/helpers/password-account.js';
import { CONTOSO, startTestEmulator, type TestEmulator } from '../emulator/helpers/emulator.js';
import { startPosternCli, type RunningCli, type StartedPostern } from '../helpers/cli.js';
import { sink } from '../outbound/helpers.js';
import { until } from '../helpers/until.js';

/**
 * An account on another IMAP/SMTP server, signing in with a username and password (service
 * `imap`, Modern Authentication off), run the way an operator runs Postern: `postern start` as its
 * own process, trusting the server's private CA through NODE_EXTRA_CA_CERTS. The emulator stands
 * in for that server with basic authentication switched on (Exchange Online has it off).
 */
const USER = CONTOSO.marco;
const WRONG = 'not-Marco-s-password-9';

let emulator: TestEmulator;
let server: RunningCli;
let postern: StartedPostern | undefined;
let url: string;
let bearer: string;
let accountId: number;

const accountReply = z.object({
  id: z.number(),
  status: z.string(),
  lastError: z.object({ code: z.string(), message: z.string(), remedy: z.string().nullable() }).nullable(),
});
const interactionsReply = z.object({ items: z.array(z.object({ id: z.number(), subject: z.string() })) });

async function api(
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; text: string }> {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: bearer, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, text, json: text === '' ? undefined : JSON.parse(text) };
}

const diagnosisReply = z.object({
  sections: z.array(
    z.object({
      checks: z.array(
        z.object({ id: z.string(), result: z.string(), evidence: z.string(), code: z.string().optional() }),
      ),
    }),
  ),
});

/** The checks of a diagnosis, all sections together. */
function checksOf(
  diagnosis: unknown,
): Array<{ id: string; result: string; evidence: string; code?: string | undefined }> {
  return diagnosisReply.parse(diagnosis).sections.flatMap((section) => section.checks);
}

const account = async () => accountReply.parse((await api('GET', `/api/email/accounts/${accountId}`)).json);

beforeAll(async () => {
  emulator = await startTestEmulator();
  await emulator.control('PUT', '/exchange/settings/basic-auth', { imap: true, smtp: true });
  postern = await startPosternCli('postern-password-account-', emulator.handle.caFile);
  ({ server, url, bearer } = postern);
}, 60_000);

afterAll(async () => {
  await postern?.stop();
  await emulator?.stop();
});

describe('an IMAP account with a username and password', () => {
  it('is created without Modern Authentication, never shows its password, and connects', async () => {
    const created = await api(
      'POST',
      '/api/email/accounts',
      passwordAccountBody(emulator.handle.urls, USER, { name: 'Marco on another server', key: 'MAR' }),
    );
    expect(created.status, created.text).toBe(201);
    expect(created.text).not.toContain(USER.password);
    accountId = accountReply.parse(created.json).id;
    await until('connected', async () => ((await account()).status === 'connected' ? true : undefined));

    const test = await api('POST', `/api/email/accounts/${accountId}/test`);
    expect(test.json).toMatchObject({ ok: true, error: null });
    const steps = z
      .object({ steps: z.array(z.object({ step: z.string(), detail: z.string() })) })
      .parse(test.json).steps;
    expect(steps.map((step) => step.step)).toEqual(['credentials', 'imap-login', 'folder']);
    expect(steps[1]?.detail).toContain('with a password');

    // The doctor checks the sign-in and folder, and says why the Microsoft checks do not apply.
    const diagnosis = await api('GET', '/api/diagnostics?account=MAR');
    expect(diagnosis.status, diagnosis.text).toBe(200);
    const checks = checksOf(diagnosis.json);
    expect(checks.find((check) => check.id === 'account.imap')).toMatchObject({ result: 'ok' });
    expect(checks.find((check) => check.id === 'account.imap')?.evidence).toContain('with a password');
    expect(checks.find((check) => check.id === 'account.microsoft')).toMatchObject({ result: 'skipped' });
  });

  it('reads new mail into a conversation and sends the reply over SMTP with the password', async () => {
    await emulator.control('POST', '/exchange/messages', {
      from: 'Carla Customer <carla@customer.example>',
      to: USER.upn,
      subject: 'Printer on fire',
      text: 'It smells of toner.',
      messageId: '<printer@customer.example>',
    });
    const conversation = await until('the conversation', async () => {
      const list = interactionsReply.parse((await api('GET', `/api/email/accounts/${accountId}/interactions`)).json);
      return list.items.find((item) => item.subject === 'Printer on fire');
    });
    const queued = await api('POST', `/api/interactions/${conversation.id}/reply`, {
      text: 'A technician is on the way.',
    });
    expect(queued.status, queued.text).toBe(202);
    const delivered = await until('the reply at the customer', async () => {
      const messages = await sink(emulator, 'carla@customer.example');
      return messages.find((message) => message.subject?.startsWith('Re: Printer on fire') === true);
    });
    expect(delivered.envelopeFrom.toLowerCase()).toBe(USER.upn);
  });

  it('shows a refused password as disconnected with the remedy, and reconnects once the password is corrected', async () => {
    expect((await api('PATCH', `/api/email/accounts/${accountId}`, { password: WRONG })).status).toBe(200);
    const refused = await until('disconnected', async () => {
      const now = await account();
      return now.status === 'disconnected' && now.lastError !== null ? now.lastError : undefined;
    });
    expect(refused.code).toBe('IMAP_LOGIN_FAILED');
    expect(refused.remedy).toMatch(/username and the password/);
    const test = await api('POST', `/api/email/accounts/${accountId}/test`);
    expect(test.json).toMatchObject({ ok: false, error: { code: 'IMAP_LOGIN_FAILED' } });
    const imap = checksOf((await api('GET', '/api/diagnostics?account=MAR')).json).find(
      (check) => check.id === 'account.imap',
    );
    expect(imap).toMatchObject({ result: 'failed', code: 'IMAP_LOGIN_FAILED' });

    expect((await api('PATCH', `/api/email/accounts/${accountId}`, { password: USER.password })).status).toBe(200);
    await until('connected again', async () => ((await account()).status === 'connected' ? true : undefined), 30_000);
  });

  it('keeps the passwords out of the database file and the logs', async () => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const files = [
      ...['postern.db', 'postern.db-wal']
        .map((name) => path.join(postern?.dataDir ?? '', name))
        .filter((file) => fs.existsSync(file)),
      ...fs
        .readdirSync(path.join(postern?.dataDir ?? '', 'logs'))
        .map((name) => path.join(postern?.dataDir ?? '', 'logs', name)),
    ];
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      expect(bytes.includes(USER.password), file).toBe(false);
      expect(bytes.includes(WRONG), file).toBe(false);
    }
    expect(server.output()).not.toContain(USER.password);
  });
});
