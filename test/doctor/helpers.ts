import { expect } from 'vitest';
import type { Check, Diagnosis } from '../../src/services/doctor/check.js';
import { CONTOSO, authenticatedProvider, type Pair } from '../providers/helpers.js';

/** Creates an account through the API, pointed at the emulator's IMAP and SMTP servers. */
export async function createAccount(pair: Pair, providerId: number, fields: Record<string, unknown>): Promise<number> {
  const imap = new URL(pair.emulator.handle.urls.imap ?? '');
  const smtp = new URL((pair.emulator.handle.urls.smtp ?? '').replace(/^smtp:/, 'http:'));
  const response = await pair.postern.app.inject({
    method: 'POST',
    url: '/api/email/accounts',
    headers: { authorization: pair.admin },
    payload: {
      providerId,
      imapHost: '127.0.0.1',
      imapPort: Number(imap.port),
      smtpHost: '127.0.0.1',
      smtpPort: Number(smtp.port),
      ...fields,
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: number }>().id;
}

/** The guide's shared mailbox: a provider signed in as andrea@, the account developers@. */
export async function sharedMailboxSetup(pair: Pair, key: string): Promise<{ providerId: number; accountId: number }> {
  const { providerId } = await authenticatedProvider(pair);
  const accountId = await createAccount(pair, providerId, {
    name: `Developers ${key}`,
    key,
    emailAddress: 'developers@contoso.com',
    username: 'developers@contoso.com',
    modernAuthEmail: CONTOSO.andrea.upn,
  });
  return { providerId, accountId };
}

/** Runs the doctor as the console does: GET only looks; `sendTest` POSTs and submits Send As test messages. */
export async function diagnose(pair: Pair, query: string, options: { sendTest?: boolean } = {}): Promise<Diagnosis> {
  const response = await pair.postern.app.inject({
    method: options.sendTest === true ? 'POST' : 'GET',
    url: `/api/diagnostics?${query}`,
    headers: { authorization: pair.admin },
    ...(options.sendTest === true ? { payload: { sendTest: true } } : {}),
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<Diagnosis>();
}

export function check(diagnosis: Diagnosis, id: string): Check {
  const found = diagnosis.sections.flatMap((s) => s.checks).find((c) => c.id === id);
  if (found === undefined)
    throw new Error(`no check ${id} in ${JSON.stringify(diagnosis.sections.map((s) => s.checks.map((c) => c.id)))}`);
  return found;
}

export function failures(diagnosis: Diagnosis): Check[] {
  return diagnosis.sections.flatMap((s) => s.checks).filter((c) => c.result === 'failed');
}
