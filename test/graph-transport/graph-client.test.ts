/**
 * Postern's Graph client (src/mail/graph/graph-client.ts) against the emulated Graph API over
 * loopback TLS: the mailbox's paths, Graph's errors as catalogue codes with Graph's own words,
 * 429 waited out as Retry-After asks, a read tried again after a 503, a refused token refreshed
 * once, links to another origin refused, never more than four requests in flight per mailbox, and
 * `$batch`es of at most 20 with per-item outcomes and their inner 429s and 503s tried again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPosternError } from '../../src/errors/index.js';
import { GraphClient, MAX_CONCURRENT_PER_MAILBOX } from '../../src/mail/graph/graph-client.js';
import type { TestEmulator } from '../emulator/helpers/emulator.js';
import { CONTOSO, SHARED, startGraphEmulator, userToken } from '../graph/helpers/graph-emulator.js';

let emu: TestEmulator;
let token: string;

beforeAll(async () => {
  emu = await startGraphEmulator();
  token = await userToken(emu, CONTOSO.andrea);
});
afterAll(async () => {
  await emu?.stop();
});

function client(
  mailbox: string,
  options: { accessToken?: () => Promise<string>; refreshToken?: () => Promise<void>; waits?: number[] } = {},
): GraphClient {
  return new GraphClient({
    target: { apiBase: `${emu.base}/v1.0`, mailbox, ca: emu.handle.caPem },
    accessToken: options.accessToken ?? (async () => token),
    ...(options.refreshToken === undefined ? {} : { refreshToken: options.refreshToken }),
    purpose: 'read',
    sleep: async (ms) => {
      options.waits?.push(ms);
    },
  });
}

async function expectCode(
  work: Promise<unknown>,
  code: string,
): Promise<Error & { details?: Record<string, unknown> }> {
  try {
    await work;
  } catch (error) {
    expect(isPosternError(error) ? error.code : error).toBe(code);
    return error as Error;
  }
  throw new Error(`expected ${code}, got an answer`);
}

describe('the Graph client', () => {
  it("reads the shared mailbox's Inbox under /users/{mailbox}, through the emulator's CA", async () => {
    const inbox = await client(SHARED).json<{ displayName: string; id: string }>({
      method: 'GET',
      path: '/mailFolders/inbox',
    });
    expect(inbox.displayName).toBe('Inbox');
  });

  it("names Graph's refusals with catalogue codes and quotes Graph's code and request-id", async () => {
    const error = await expectCode(
      client('nobody@contoso.com').json({ method: 'GET', path: '/mailFolders/inbox' }),
      'GRAPH_MAILBOX_NOT_FOUND',
    );
    expect(error.message).toContain('ErrorInvalidUser');
    expect(error.details).toMatchObject({ status: 404, graphCode: 'ErrorInvalidUser' });
    expect(typeof error.details?.requestId).toBe('string');
    // marco has no FullAccess on the shared mailbox.
    const marco = await userToken(emu, CONTOSO.marco);
    await expectCode(
      client(SHARED, { accessToken: async () => marco }).json({ method: 'GET', path: '/mailFolders/inbox' }),
      'GRAPH_ACCESS_DENIED',
    );
  });

  it('waits out 429 as Retry-After asks and tries a read again after a 503', async () => {
    await emu.control('POST', '/graph/faults', { kind: 'throttle', count: 2, retryAfterSeconds: 3 });
    const waits: number[] = [];
    const inbox = await client(SHARED, { waits }).json<{ displayName: string }>({
      method: 'GET',
      path: '/mailFolders/inbox',
    });
    expect(inbox.displayName).toBe('Inbox');
    expect(waits).toEqual([3000, 3000]);
    await emu.control('POST', '/graph/faults', { kind: 'unavailable', count: 1 });
    const again: number[] = [];
    expect(
      (
        await client(SHARED, { waits: again }).json<{ displayName: string }>({
          method: 'GET',
          path: '/mailFolders/inbox',
        })
      ).displayName,
    ).toBe('Inbox');
    expect(again).toHaveLength(1);
  });

  it('gives up on 429 once the waiting budget is spent, with GRAPH_THROTTLED and the wait Graph asked', async () => {
    await emu.control('POST', '/graph/faults', { kind: 'throttle', count: 100, retryAfterSeconds: 50 });
    try {
      const error = await expectCode(
        client(SHARED).json({ method: 'GET', path: '/mailFolders/inbox' }),
        'GRAPH_THROTTLED',
      );
      expect(error.details).toMatchObject({ retryAfterMs: 50_000 });
    } finally {
      await emu.control('DELETE', '/graph/faults');
    }
  });

  it('refreshes a refused token once, and names the second refusal', async () => {
    let current = 'not-a-token';
    let refreshes = 0;
    const healing = client(SHARED, {
      accessToken: async () => current,
      refreshToken: async () => {
        refreshes += 1;
        current = token;
      },
    });
    expect(
      (await healing.json<{ displayName: string }>({ method: 'GET', path: '/mailFolders/inbox' })).displayName,
    ).toBe('Inbox');
    expect(refreshes).toBe(1);
    const hopeless = client(SHARED, { accessToken: async () => 'not-a-token', refreshToken: async () => undefined });
    await expectCode(hopeless.json({ method: 'GET', path: '/mailFolders/inbox' }), 'GRAPH_AUTH_FAILED');
  });

  it('follows links on the API origin only', async () => {
    const graph = client(SHARED);
    const error = await expectCode(
      graph.json({ method: 'GET', path: 'https://attacker.example/v1.0/users/x/messages' }),
      'GRAPH_REQUEST_FAILED',
    );
    expect(error.message).toContain('https://attacker.example');
    const page = await graph.json<{ value: unknown[] }>({
      method: 'GET',
      path: `${emu.base}/v1.0/users/${SHARED}/mailFolders/inbox/messages?$top=1`,
    });
    expect(Array.isArray(page.value)).toBe(true);
  });

  it('keeps at most four requests in flight per mailbox, however many calls are made at once', async () => {
    // The emulator would let 50 through: what keeps the peak at four is the client.
    await emu.control('PUT', '/graph/limits', { concurrency: 50 });
    await emu.control('POST', '/graph/faults', { kind: 'delay', count: 12, delayMs: 150 });
    let peak = 0;
    const poll = setInterval(() => {
      void emu.control('GET', '/graph/status').then((status) => {
        const inFlight = (status as { inFlight: Record<string, number> }).inFlight;
        for (const [key, count] of Object.entries(inFlight)) if (key.includes(SHARED)) peak = Math.max(peak, count);
      });
    }, 20);
    try {
      const graph = client(SHARED);
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          graph.json<{ displayName: string }>({ method: 'GET', path: '/mailFolders/inbox' }),
        ),
      );
      expect(answers.every((a) => a.displayName === 'Inbox')).toBe(true);
    } finally {
      clearInterval(poll);
      await emu.control('PUT', '/graph/limits', { concurrency: MAX_CONCURRENT_PER_MAILBOX });
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(4);
  });

  it('sends $batches of 20 at most: per-item answers, a 404 for its item only, inner 429 and 503 tried again', async () => {
    // A message that was there and is gone.
    await emu.control('POST', '/exchange/messages', {
      from: 'customer@example.org',
      mailbox: SHARED,
      folder: 'Inbox',
      subject: 'Batch gone',
      text: 'Hello',
      to: SHARED,
    });
    const setup = client(SHARED);
    const listed = await setup.json<{ value: Array<{ id: string; subject: string }> }>({
      method: 'GET',
      path: `/mailFolders/inbox/messages?$select=id,subject&$filter=${encodeURIComponent('receivedDateTime ge 2000-01-01T00:00:00Z')}&$top=1000`,
    });
    const goneId = listed.value.find((m) => m.subject === 'Batch gone')?.id ?? '';
    await setup.send({ method: 'DELETE', path: `/messages/${encodeURIComponent(goneId)}` });
    await emu.control('POST', '/graph/faults', { kind: 'throttle', count: 1, retryAfterSeconds: 3 });
    await emu.control('POST', '/graph/faults', { kind: 'unavailable', count: 1 });
    const waits: number[] = [];
    const items = Array.from({ length: 25 }, (_, i) => ({
      method: 'GET' as const,
      path: i === 7 ? `/messages/${encodeURIComponent(goneId)}` : '/mailFolders/inbox',
    }));
    const outcomes = await client(SHARED, { waits }).batch(items);
    expect(outcomes).toHaveLength(25);
    const gone = outcomes[7];
    expect(gone?.ok).toBe(false);
    if (gone?.ok === false) expect(gone.error.details).toMatchObject({ status: 404 });
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(24);
    expect(outcomes.flatMap((outcome) => (outcome.ok ? [outcome.body] : []))).toEqual(
      Array.from({ length: 24 }, () => expect.objectContaining({ displayName: 'Inbox' })),
    );
    // One wait, as long as the longest Retry-After of the batch; then the two requests again.
    expect(waits).toEqual([3000]);
  });

  it('counts a batch as the requests Graph runs of it at once: with direct calls beside it, no 429', async () => {
    await emu.control('POST', '/graph/faults', { kind: 'delay', count: 14, delayMs: 100 });
    const waits: number[] = [];
    const graph = client(SHARED, { waits });
    const [outcomes, ...direct] = await Promise.all([
      graph.batch(Array.from({ length: 8 }, () => ({ method: 'GET' as const, path: '/mailFolders/inbox' }))),
      ...Array.from({ length: 6 }, () =>
        graph.json<{ displayName: string }>({ method: 'GET', path: '/mailFolders/inbox' }),
      ),
    ]);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(direct).toHaveLength(6);
    // A 429 from MailboxConcurrency (4) would have been waited out: none was.
    expect(waits).toEqual([]);
  });
});
