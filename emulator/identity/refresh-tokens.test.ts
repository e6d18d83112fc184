import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openRefreshToken, sealRefreshToken, type RefreshTokenClaims } from './refresh-tokens.js';

const claims: RefreshTokenClaims = {
  v: 1,
  jti: 'j',
  tid: 't',
  appId: 'a',
  oid: 'o',
  scopes: {
    raw: 'openid offline_access https://outlook.office.com/SMTP.Send',
    oidc: ['openid', 'offline_access'],
    resources: [{ resource: 'exchange', names: ['SMTP.Send'] }],
  },
  clientType: 'confidential',
  authTime: 1,
  issuedAt: 2,
  chainIssuedAt: 2,
  amr: ['pwd'],
};

describe('sealed refresh tokens', () => {
  const key = randomBytes(32);

  it('open what they seal', () => {
    const token = sealRefreshToken(key, claims);
    expect(token).toMatch(/^1\.AVEA[A-Za-z0-9_-]+$/);
    expect(openRefreshToken(key, token)).toEqual(claims);
  });

  it('refuse another key, truncation, tampering and garbage', () => {
    const token = sealRefreshToken(key, claims);
    expect(openRefreshToken(randomBytes(32), token)).toBeNull();
    expect(openRefreshToken(key, token.slice(0, -4))).toBeNull();
    const flipped = token.slice(0, 40) + (token[40] === 'A' ? 'B' : 'A') + token.slice(41);
    expect(openRefreshToken(key, flipped)).toBeNull();
    expect(openRefreshToken(key, 'garbage')).toBeNull();
  });
});
