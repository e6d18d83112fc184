import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenKeeper } from '../../src/workers/token-keeper.js';
import { authenticatedProvider, createProvider, startPair, tokenRequests, type Pair } from './helpers.js';

const DAY_MS = 86_400_000;
let pair: Pair;
let keeper: TokenKeeper;

beforeAll(async () => {
  pair = await startPair();
  keeper = new TokenKeeper(pair.postern.runtime.services.tokenUpkeep, pair.postern.runtime.log.logger);
});
afterAll(async () => pair.close());

async function addAccount(providerId: number, key: string, username: string): Promise<void> {
  const now = new Date().toISOString();
  await pair.postern.runtime.db.kysely
    .insertInto('email_accounts')
    .values({
      name: key,
      key,
      email_address: username,
      service: 'outlook365',
      username,
      provider_id: providerId,
      transport: 'imap_smtp',
      created_at: now,
      updated_at: now,
    })
    .execute();
}

describe('token keeper', () => {
  it('renews the access token of a grant in use before it expires, and leaves unused ones alone', async () => {
    const used = await authenticatedProvider(pair);
    const unused = await authenticatedProvider(pair);
    await addAccount(used.providerId, 'USED', 'andrea@contoso.com');
    await pair.postern.runtime.services.accessTokens.accessToken(used.grantId, 'exchange');
    await pair.postern.runtime.services.accessTokens.accessToken(unused.grantId, 'exchange');
    // Move to five minutes before the used grant's token expires: inside the renewal window.
    const cached = await pair.postern.runtime.db.kysely
      .selectFrom('grant_access_tokens')
      .select('expires_at')
      .where('grant_id', '=', used.grantId)
      .executeTakeFirstOrThrow();
    pair.emulator.handle.clock.set(new Date(Date.parse(cached.expires_at) - 5 * 60 * 1000));
    const unusedBefore = (
      await pair.postern.runtime.db.kysely
        .selectFrom('grant_access_tokens')
        .select('expires_at')
        .where('grant_id', '=', unused.grantId)
        .executeTakeFirstOrThrow()
    ).expires_at;
    const before = tokenRequests(pair, 'refresh_token');
    const report = await keeper.runOnce();
    expect(report.failed).toBe(0);
    expect(tokenRequests(pair, 'refresh_token') - before).toBe(report.refreshed);
    const rows = await pair.postern.runtime.db.kysely
      .selectFrom('grant_access_tokens')
      .select(['grant_id', 'expires_at'])
      .execute();
    const usedExpiry = Date.parse(rows.find((r) => r.grant_id === used.grantId)?.expires_at ?? '');
    expect(usedExpiry - pair.emulator.handle.clock.nowMs()).toBeGreaterThan(50 * 60 * 1000);
    expect(rows.find((r) => r.grant_id === unused.grantId)?.expires_at).toBe(unusedBefore);
  });

  it('keeps an unused grant alive across 200 days by refreshing it every couple of weeks', async () => {
    const idle = await authenticatedProvider(pair);
    for (let day = 0; day < 200; day += 5) {
      pair.emulator.handle.clock.advance(5 * DAY_MS);
      await keeper.runOnce();
    }
    const provider = (
      await pair.postern.app.inject({
        method: 'GET',
        url: `/api/cloudProviders/${idle.providerId}`,
        headers: { authorization: pair.admin },
      })
    ).json();
    expect(provider.grants[0].state).toBe('active');
    const token = await pair.postern.runtime.services.accessTokens.accessToken(idle.grantId, 'exchange');
    expect(token.token.length).toBeGreaterThan(20);
  });

  it('warns once per threshold before the client secret expires, and when it has expired', async () => {
    const expiresAt = new Date(pair.emulator.handle.clock.nowMs() + 20 * DAY_MS).toISOString().slice(0, 10);
    const id = await createProvider(pair, { clientSecretExpiresAt: expiresAt });
    const events = async () =>
      (
        await pair.postern.app.inject({
          method: 'GET',
          url: `/api/cloudProviders/${id}/events`,
          headers: { authorization: pair.admin },
        })
      ).json().items as Array<{ type: string; message: string }>;
    await keeper.runOnce();
    await keeper.runOnce();
    let expiring = (await events()).filter((e) => e.type === 'provider.secret_expiring');
    expect(expiring).toHaveLength(1);
    expect(expiring[0]?.message).toMatch(/expires in 1\d day\(s\).*Update Client Secret/);
    const view = (
      await pair.postern.app.inject({
        method: 'GET',
        url: `/api/cloudProviders/${id}`,
        headers: { authorization: pair.admin },
      })
    ).json();
    expect(view.warnings[0]).toMatch(/expires in/);

    pair.emulator.handle.clock.advance(15 * DAY_MS);
    await keeper.runOnce();
    expiring = (await events()).filter((e) => e.type === 'provider.secret_expiring');
    expect(expiring).toHaveLength(2);
    pair.emulator.handle.clock.advance(10 * DAY_MS);
    await keeper.runOnce();
    await keeper.runOnce();
    expect((await events()).filter((e) => e.type === 'provider.secret_expired')).toHaveLength(1);
  });
});
