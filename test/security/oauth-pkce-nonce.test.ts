/**
 * Issue 13, "what held": PKCE and the nonce. A sign-in's authorize URL carries an S256 code
 * challenge, a nonce and a state of its own; an attacker who edits the URL on its way to Microsoft
 * (another challenge, so that a code stolen later could be redeemed with the attacker's verifier;
 * another nonce, so that an ID token minted for another sign-in could be replayed) gets no grant:
 * the code is redeemed only with the verifier Postern kept, and an ID token is accepted only with
 * the nonce Postern sent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTOSO, authenticate, createProvider, startPair, type Pair } from '../providers/helpers.js';

let pair: Pair;
beforeAll(async () => {
  pair = await startPair();
});
afterAll(async () => pair.close());

async function grantsOf(providerId: number): Promise<unknown[]> {
  const view = await pair.postern.app.inject({
    method: 'GET',
    url: `/api/cloudProviders/${providerId}`,
    headers: { authorization: pair.admin },
  });
  return view.json<{ grants: unknown[] }>().grants;
}

const marco = { username: CONTOSO.marco.upn, password: CONTOSO.marco.password };

describe('PKCE and nonce of a Cloud Provider sign-in', () => {
  it('sends an S256 challenge, a nonce and a state, each new for every sign-in', async () => {
    const providerId = await createProvider(pair);
    const first = await authenticate(pair, providerId, marco);
    const second = await authenticate(pair, providerId, marco);
    for (const { authorizeUrl, response } of [first, second]) {
      expect(response.headers.location).toContain('authentication=success');
      const params = authorizeUrl.searchParams;
      expect(params.get('code_challenge_method')).toBe('S256');
      // base64url of a SHA-256: 43 characters.
      expect(params.get('code_challenge')).toMatch(/^[\w-]{43}$/);
      expect(params.get('nonce')?.length).toBeGreaterThanOrEqual(22);
      expect(params.get('state')?.length).toBeGreaterThanOrEqual(22);
    }
    for (const name of ['code_challenge', 'nonce', 'state'])
      expect(first.authorizeUrl.searchParams.get(name)).not.toBe(second.authorizeUrl.searchParams.get(name));
  });

  it('stores no grant when the code challenge was replaced on its way to Microsoft', async () => {
    const providerId = await createProvider(pair);
    const attackersVerifier = randomBytes(32).toString('base64url');
    const { response } = await authenticate(pair, providerId, marco, (url) => {
      url.searchParams.set('code_challenge', createHash('sha256').update(attackersVerifier).digest('base64url'));
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toContain('authentication=failed');
    expect(await grantsOf(providerId)).toHaveLength(0);
  });

  it('stores no grant when the ID token carries another nonce than the one sent', async () => {
    const providerId = await createProvider(pair);
    const { response } = await authenticate(pair, providerId, marco, (url) => {
      url.searchParams.set('nonce', randomBytes(16).toString('base64url'));
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toContain('authentication=failed');
    expect(await grantsOf(providerId)).toHaveLength(0);
  });
});
