import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPosternError, type PosternError } from '../../src/errors/index.js';
import { CONTOSO, authenticatedProvider, startPair, tokenRequests, type Pair } from './helpers.js';

const DAY_MS = 86_400_000;
let pair: Pair;

beforeAll(async () => {
  pair = await startPair();
});
afterAll(async () => pair.close());

const tokens = () => pair.postern.runtime.services.accessTokens;
const getProvider = async (id: number) =>
  (
    await pair.postern.app.inject({
      method: 'GET',
      url: `/api/cloudProviders/${id}`,
      headers: { authorization: pair.admin },
    })
  ).json();

async function failure(promise: Promise<unknown>): Promise<PosternError> {
  try {
    await promise;
  } catch (error) {
    if (isPosternError(error)) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

async function sealedRefreshToken(grantId: number): Promise<string> {
  const row = await pair.postern.runtime.db.kysely
    .selectFrom('grants')
    .select('refresh_token_enc')
    .where('id', '=', grantId)
    .executeTakeFirstOrThrow();
  return pair.postern.runtime.box.open(row.refresh_token_enc ?? '', 'grants.refresh_token', grantId);
}

describe('token lifecycle', () => {
  it('stores the rotated refresh token after each refresh', async () => {
    const { grantId } = await authenticatedProvider(pair);
    const before = await sealedRefreshToken(grantId);
    pair.emulator.handle.clock.advance(2 * 60 * 60 * 1000);
    await tokens().accessToken(grantId, 'exchange');
    const after = await sealedRefreshToken(grantId);
    expect(after).not.toBe(before);
  });

  it('keeps a grant used daily alive for 120 days, and fails one unused for 91 days with the 700082 remedy', async () => {
    const daily = await authenticatedProvider(pair);
    const idle = await authenticatedProvider(pair);
    const now = new Date().toISOString();
    await pair.postern.runtime.db.kysely
      .insertInto('email_accounts')
      .values({
        name: 'Idle',
        key: 'IDLE',
        email_address: 'andrea@contoso.com',
        service: 'outlook365',
        username: 'andrea@contoso.com',
        provider_id: idle.providerId,
        transport: 'imap_smtp',
        status: 'connected',
        created_at: now,
        updated_at: now,
      })
      .execute();
    for (let day = 1; day <= 120; day += 1) {
      pair.emulator.handle.clock.advance(DAY_MS);
      const token = await tokens().accessToken(daily.grantId, 'exchange');
      expect(token.expiresAt.getTime()).toBeGreaterThan(pair.emulator.handle.clock.nowMs());
    }
    expect((await getProvider(daily.providerId)).status).toBe('authenticated');

    const error = await failure(tokens().accessToken(idle.grantId, 'exchange'));
    expect(error.code).toBe('AUTH_REAUTH_INACTIVE');
    expect(error.details?.aadsts).toBe('AADSTS700082');
    const provider = await getProvider(idle.providerId);
    expect(provider.status).toBe('reauth_required');
    expect(provider.grants[0]).toMatchObject({
      state: 'reauth_required',
      lastError: { code: 'AUTH_REAUTH_INACTIVE', aadsts: 'AADSTS700082' },
    });
    expect(provider.grants[0].lastError.remedy).toMatch(/Authenticate the Cloud Provider again/);
    const account = await pair.postern.runtime.db.kysely
      .selectFrom('email_accounts')
      .selectAll()
      .where('key', '=', 'IDLE')
      .executeTakeFirstOrThrow();
    expect(account.status).toBe('disconnected');
    expect(account.last_error_code).toBe('AUTH_REAUTH_INACTIVE');
  });

  it('makes exactly one token request for 100 concurrent callers of an expired grant', async () => {
    const { grantId } = await authenticatedProvider(pair);
    pair.emulator.handle.clock.advance(3 * 60 * 60 * 1000);
    const before = tokenRequests(pair, 'refresh_token');
    const results = await Promise.all(Array.from({ length: 100 }, () => tokens().accessToken(grantId, 'exchange')));
    expect(tokenRequests(pair, 'refresh_token') - before).toBe(1);
    expect(new Set(results.map((r) => r.token)).size).toBe(1);
  });

  it('tells an expired secret (7000222) from a secret id pasted as the value (7000215)', async () => {
    const expired = await authenticatedProvider(pair);
    const put = (id: number, clientSecret: string) =>
      pair.postern.app.inject({
        method: 'PUT',
        url: `/api/cloudProviders/${id}/clientSecret`,
        headers: { authorization: pair.admin },
        payload: { clientSecret },
      });
    expect((await put(expired.providerId, CONTOSO.web.expiredSecret)).statusCode).toBe(200);
    pair.emulator.handle.clock.advance(2 * 60 * 60 * 1000);
    const expiredError = await failure(tokens().accessToken(expired.grantId, 'exchange'));
    expect(expiredError.code).toBe('AUTH_SECRET_EXPIRED');
    let provider = await getProvider(expired.providerId);
    expect(provider.status).toBe('error');
    expect(provider.lastError.remedy).toMatch(/Update Client Secret/);
    expect(provider.grants[0].state).toBe('active');

    const wrong = await authenticatedProvider(pair);
    expect((await put(wrong.providerId, CONTOSO.web.expiredSecretId)).statusCode).toBe(200);
    pair.emulator.handle.clock.advance(2 * 60 * 60 * 1000);
    const wrongError = await failure(tokens().accessToken(wrong.grantId, 'exchange'));
    expect(wrongError.code).toBe('AUTH_SECRET_INVALID');
    expect(wrongError.remedy).toMatch(/secret ID was probably pasted instead of its value/);

    // Fixing the secret clears the provider error and the token flows again.
    expect((await put(wrong.providerId, CONTOSO.web.secret)).statusCode).toBe(200);
    await tokens().accessToken(wrong.grantId, 'exchange');
    provider = await getProvider(wrong.providerId);
    expect(provider.status).toBe('authenticated');
  });

  it("moves the grant to reauth_required when the user's sessions are revoked (50173)", async () => {
    const { providerId, grantId } = await authenticatedProvider(pair);
    pair.emulator.handle.clock.advance(60_000);
    await pair.emulator.control('POST', `/users/${CONTOSO.andrea.id}/revoke-sessions`);
    pair.emulator.handle.clock.advance(2 * 60 * 60 * 1000);
    const error = await failure(tokens().accessToken(grantId, 'exchange'));
    expect(error.code).toBe('AUTH_SESSIONS_REVOKED');
    expect((await getProvider(providerId)).grants[0].state).toBe('reauth_required');
    const events = (
      await pair.postern.app.inject({
        method: 'GET',
        url: `/api/cloudProviders/${providerId}/events`,
        headers: { authorization: pair.admin },
      })
    ).json();
    expect(events.items[0]).toMatchObject({ type: 'grant.reauth_required', level: 'error' });
    expect(events.items[0].data.aadsts).toBe('AADSTS50173');
  });

  it('recovers by itself from a token endpoint answering 503 three times, leaving the grant active', async () => {
    const { providerId, grantId } = await authenticatedProvider(pair);
    pair.emulator.handle.clock.advance(2 * 60 * 60 * 1000);
    await pair.emulator.control('POST', '/faults', { target: 'token', kind: 'http-503', count: 3 });
    const before = tokenRequests(pair, 'refresh_token');
    const token = await tokens().accessToken(grantId, 'exchange');
    expect(token.token.length).toBeGreaterThan(20);
    expect(tokenRequests(pair, 'refresh_token') - before).toBe(4);
    expect(await pair.emulator.control('GET', '/faults')).toEqual([]);
    const provider = await getProvider(providerId);
    expect(provider.status).toBe('authenticated');
    expect(provider.grants[0].state).toBe('active');
    expect(provider.grants[0].lastError).toBeNull();
  });
});
