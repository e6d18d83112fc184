/**
 * Every token request waits for the node's limiter at the priority of its exchange: app-only and
 * refresh requests at the caller's priority, sign-ins and device codes as `interactive`. The
 * priority is carried by a configuration per priority (no AsyncLocalStorage), so concurrent
 * exchanges at different priorities must still each be paced at their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicrosoftIdentity, type ProviderConnection } from '../../src/providers/microsoft/identity-client.js';
import { TokenRequestLimiter, type TokenRequestPriority } from '../../src/providers/microsoft/token-request-limiter.js';
import { createProvider, startPair, type Pair } from './helpers.js';

/** A real limiter (fast) that records the priority of each request it lets through. */
class RecordingLimiter extends TokenRequestLimiter {
  readonly seen: TokenRequestPriority[] = [];

  override async acquire(priority: TokenRequestPriority): Promise<void> {
    await super.acquire(priority);
    this.seen.push(priority);
  }
}

describe('the priority of token requests', () => {
  let pair: Pair;
  let conn: ProviderConnection;

  beforeAll(async () => {
    pair = await startPair();
    conn = await pair.postern.runtime.services.providers.connection(await createProvider(pair));
  });
  afterAll(async () => {
    await pair.close();
  });

  it('paces each request at its exchange’s priority, also when they run at once', async () => {
    const limiter = new RecordingLimiter({ perSecond: 1000 });
    const identity = new MicrosoftIdentity({ timeoutMs: 15_000, limiter });
    const scope = 'https://graph.microsoft.com/.default';
    await Promise.all([
      identity.clientCredentials(conn, scope, 'upkeep'),
      identity.clientCredentials(conn, scope, 'demand'),
      identity.clientCredentials(conn, scope, 'upkeep'),
    ]);
    expect([...limiter.seen].sort()).toEqual(['demand', 'upkeep', 'upkeep']);

    limiter.seen.length = 0;
    await identity.startDeviceCode(conn, ['offline_access', 'https://outlook.office365.com/IMAP.AccessAsUser.All']);
    await identity.clientCredentials(conn, scope);
    expect(limiter.seen).toEqual(['interactive', 'demand']);
  });
});
