/**
 * `POSTERN_TRUST_PROXY=true` trusted every `X-Forwarded-For` (issue 13, Low): any client could
 * claim any address, to slip past the per-address sign-in limit or to write a false address into
 * its session. The setting now names the proxies (addresses or CIDR ranges); `true` is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { isPosternError } from '../../src/errors/index.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

const PASSWORD = 'Correct-Horse-Battery-7';

describe('the setting', () => {
  it('refuses "true", telling to list the proxies', () => {
    let thrown: unknown;
    try {
      loadConfig({ cwd: '/nonexistent', env: { POSTERN_TRUST_PROXY: 'true' } });
    } catch (error) {
      thrown = error;
    }
    expect(isPosternError(thrown) && thrown.code).toBe('CONFIG_INVALID');
    expect((thrown as Error).message).toMatch(/POSTERN_TRUST_PROXY/);
    expect((thrown as Error).message).toMatch(/addresses or CIDR ranges of your proxies/);
  });

  it('takes a list of addresses and CIDR ranges, and false', () => {
    const env = { POSTERN_TRUST_PROXY: ' 10.0.0.0/8, 127.0.0.1 ,::1' };
    expect(loadConfig({ cwd: '/nonexistent', env }).trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1', '::1']);
    expect(loadConfig({ cwd: '/nonexistent', env: { POSTERN_TRUST_PROXY: 'false' } }).trustProxy).toEqual([]);
    expect(loadConfig({ cwd: '/nonexistent', env: {} }).trustProxy).toEqual([]);
    expect(() => loadConfig({ cwd: '/nonexistent', env: { POSTERN_TRUST_PROXY: '10.0.0.0/99' } })).toThrow(
      /POSTERN_TRUST_PROXY/,
    );
  });
});

describe('a request through a listed proxy and one from elsewhere', () => {
  let postern: TestPostern;
  beforeAll(async () => {
    postern = await startTestPostern({ POSTERN_TRUST_PROXY: '10.0.0.0/8' });
    await postern.runtime.services.users.create({ username: 'andrea', role: 'agent', password: PASSWORD });
  });
  afterAll(async () => postern.close());

  async function sessionIpAfterLogin(remoteAddress: string, forwardedFor: string): Promise<string | null> {
    const response = await postern.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'andrea', password: PASSWORD },
      headers: { 'x-forwarded-for': forwardedFor },
      remoteAddress,
    });
    expect(response.statusCode).toBe(200);
    const seen = await postern.runtime.db.kysely
      .selectFrom('sessions')
      .select('ip')
      .where('ip', 'in', [remoteAddress, forwardedFor])
      .execute();
    expect(seen).toHaveLength(1);
    return seen[0]?.ip ?? null;
  }

  it('believes the proxy and not the client who claims another address', async () => {
    expect(await sessionIpAfterLogin('10.1.2.3', '203.0.113.9')).toBe('203.0.113.9');
    expect(await sessionIpAfterLogin('192.0.2.50', '203.0.113.10')).toBe('192.0.2.50');
  });

  it('keeps the per-address sign-in limit for a client that rotates X-Forwarded-For', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      // An empty password is refused before any password check, yet counts against the limit.
      const response = await postern.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: `nobody-${i}`, password: '' },
        headers: { 'x-forwarded-for': `198.51.100.${i}` },
        remoteAddress: '192.0.2.77',
      });
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([...Array<number>(10).fill(400), 429, 429]);
  });
});
