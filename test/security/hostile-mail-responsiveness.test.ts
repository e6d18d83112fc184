import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { pollHealth } from '../../bench/helpers/health-poller.js';
import { hostileCorpus, hostileMessage } from '../../bench/helpers/hostile-corpus.js';
import { appendToInbox, passwordAccountBody } from '../../bench/helpers/password-account.js';
import { CONTOSO, startTestEmulator, type TestEmulator } from '../emulator/helpers/emulator.js';
import { startPosternCli, type StartedPostern } from '../helpers/cli.js';
import { until } from '../helpers/until.js';

/**
 * Issue 13, acceptance: one hostile email must not freeze the server. Each mail of the hostile
 * corpus (bench/helpers/hostile-corpus.ts) — a 1 MB
 * subject, From name, Message-ID, References header, attachment file name, Content-Type parameter,
 * and a 5 MB HTML body of 100,000 nested elements — is put into a mailbox and ingested by Postern
 * run as an operator runs it (`postern start`, its own process, with its parse pool of worker
 * threads), while a separate process asks `/health` every 20 ms; then the reply to the
 * conversation is queued through the API. A Reply-To whose name decodes to `Eve\r\nBcc: …` is
 * stored on one line, and the default reply to it is accepted.
 *
 * What this test asserts is that the server stays answering: every `/health` answer and the reply
 * within STALL_LIMIT_MS. The regressions it guards against are of another order (the Re: prefix
 * pattern stalled the event loop 19 s on a 150 KB subject, and would take hours on 1 MB), so the
 * bound holds on a machine busy with other work and still fails on any return of them. How fast
 * the answers are (the 100 ms and 200 ms) is a measurement, not a test: it depends on the
 * machine, and the project keeps speed figures in benchmarks, never in timed tests: they come from
 * `npm run bench:hostile` (bench/hostile-mail-bench.ts), which feeds Postern the same corpus.
 *
 * Uses the built dist/ (`npm run build`; `npm test` builds first).
 */
const USER = CONTOSO.marco;
/** No answer may take this long: far above a busy machine's noise, far below a catastrophic stall. */
const STALL_LIMIT_MS = 5_000;

let emulator: TestEmulator;
let postern: StartedPostern | undefined;
let url: string;
let bearer: string;
let accountId: number;

const interactionsReply = z.object({ items: z.array(z.object({ id: z.number(), subject: z.string() })) });

async function api(method: string, route: string, body?: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: bearer, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, text: await response.text() };
}

async function interactionIds(): Promise<Map<number, string>> {
  const reply = await api('GET', `/api/email/accounts/${accountId}/interactions?limit=200`);
  return new Map(interactionsReply.parse(JSON.parse(reply.text)).items.map((item) => [item.id, item.subject]));
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  await emulator.control('PUT', '/exchange/settings/basic-auth', { imap: true, smtp: true });
  postern = await startPosternCli('postern-hostile-mail-', emulator.handle.caFile);
  ({ url, bearer } = postern);
  const created = await api(
    'POST',
    '/api/email/accounts',
    passwordAccountBody(emulator.handle.urls, USER, { name: 'Marco', key: 'MAR' }),
  );
  expect(created.status, created.text).toBe(201);
  accountId = z.object({ id: z.number() }).parse(JSON.parse(created.text)).id;
  await until('connected', async () => {
    const account = await api('GET', `/api/email/accounts/${accountId}`);
    return z.object({ status: z.string() }).parse(JSON.parse(account.text)).status === 'connected' ? true : undefined;
  });
}, 120_000);

afterAll(async () => {
  await postern?.stop();
  await emulator?.stop();
});

describe('one hostile email does not freeze the server', () => {
  it.each(hostileCorpus())(
    '%s: /health keeps answering while it is ingested, and the reply is queued',
    async (_, build) => {
      const raw = build(USER.upn);
      const before = await interactionIds();
      const poller = await pollHealth(url);
      await appendToInbox(emulator.handle, USER, raw);
      const id = await until(
        'the new conversation',
        async () => [...(await interactionIds()).keys()].find((known) => !before.has(known)),
        60_000,
      );
      const times = await poller.stop();
      const slowest = Math.max(...times);
      expect(times.length).toBeGreaterThan(0);
      expect(slowest, `slowest /health: ${slowest.toFixed(1)} ms of ${times.length}`).toBeLessThan(STALL_LIMIT_MS);

      const started = performance.now();
      const queued = await api('POST', `/api/interactions/${id}/reply`, { text: 'We are looking into it.' });
      const replyMs = performance.now() - started;
      expect(queued.status, queued.text).toBe(202);
      expect(replyMs, `reply queued in ${replyMs.toFixed(1)} ms`).toBeLessThan(STALL_LIMIT_MS);
    },
    120_000,
  );

  it('stores a Reply-To name that decodes to "Eve\\r\\nBcc: …" on one line, so the default reply is accepted', async () => {
    const name = `=?utf-8?B?${Buffer.from('Eve\r\nBcc: victim@contoso.com').toString('base64')}?=`;
    const before = await interactionIds();
    await appendToInbox(
      emulator.handle,
      USER,
      hostileMessage(USER.upn, { 'Reply-To': `${name} <eve@attacker.example>` }, 'reply to me'),
    );
    const id = await until('the conversation', async () =>
      [...(await interactionIds()).keys()].find((known) => !before.has(known)),
    );
    const queued = await api('POST', `/api/interactions/${id}/reply`, { text: 'Noted.' });
    expect(queued.status, queued.text).toBe(202);
    const messages = await api('GET', `/api/interactions/${id}`);
    expect(messages.text).toContain('Eve Bcc: victim@contoso.com');
    expect(messages.text).not.toMatch(/Eve\\r|Eve\\n/);
  });
});
